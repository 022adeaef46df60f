"""`asl-gpt live [--camera N | --video FILE] [--no-window]`: live recognition in an OpenCV window.

The window shows the landmarks, the pending text, a confidence bar (the tick is the threshold)
and the committed utterances. Keys: ESC quits, Enter sends, Backspace deletes the last word,
c clears. With --no-window the events are printed instead.
"""

from __future__ import annotations

import argparse

from asl_gpt.commands import add_reading_arguments, read_with_profile

ESC, ENTER, BACKSPACE = 27, 13, 8


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    src.add_argument("--video", help="play a video file instead of a camera")
    add_reading_arguments(p)
    p.add_argument("--no-window", action="store_true", help="print events instead of opening a window")


def run(args, settings) -> int:
    from asl_gpt.landmarks.video import probe, read_camera, read_video
    from asl_gpt.recognition.pipeline import RecognitionSession, buffer_options, build_runtime, drive, stream_options

    if args.video:
        probe(args.video)
        frames = read_video(args.video, max_side=settings.recognizer.max_side)
    else:
        frames = read_camera(args.camera)
        frames = _first_then(frames)  # opens the camera now: InputError before any window appears
    rec, extractor = build_runtime(settings, args.model)
    rec = read_with_profile(rec, args, settings)
    session = RecognitionSession(rec, extractor, stream_options(settings),
                                 buffer_options(settings, rec, args.min_confidence))
    cv2 = None if args.no_window else _window()
    said: list[str] = []
    quit_ = [False]

    def until_quit(it):
        for f in it:
            if quit_[0]:
                return
            yield f

    def step(frame) -> list:
        r = session.process(frame)
        events = r.events + session.poll()
        if cv2 is not None:
            events += _keys(cv2, session, frame.t_ms, quit_)
            _show(cv2, frame, r, session, said)
        return events

    try:
        drive(session, until_quit(frames), step, on_events=lambda events: _print(events, said, args.no_window))
    finally:
        extractor.close()
        if cv2 is not None:
            cv2.destroyAllWindows()
    return 0


def _keys(cv2, session, t_ms: float, quit_: list) -> list:
    """The window's keys: ESC quits, Enter sends, Backspace deletes the last word, c clears."""
    key = cv2.waitKey(1) & 0xFF
    if key == ESC:
        quit_[0] = True
    elif key in (ENTER, 10):
        return session.send(t_ms)
    elif key == BACKSPACE:
        return session.delete_last_word()
    elif key == ord("c"):
        return session.clear()
    return []


def _print(events, said: list[str], rejected: bool) -> None:
    from asl_gpt.recognition.buffer import Committed, Rejected

    for e in events:
        if isinstance(e, Committed):
            said.append(e.text)
            print(f"{e.t_start / 1000:7.2f}s - {e.t_end / 1000:7.2f}s  confidence {e.confidence:.2f}  {e.text}", flush=True)
        elif isinstance(e, Rejected) and e.text and rejected:
            print(f"rejected: {e.text!r} ({e.reason})", flush=True)


def _show(cv2, frame, r, session, said: list[str]) -> None:
    from asl_gpt.recognition.overlay import draw_landmarks, draw_status

    img = draw_landmarks(frame.rgb.copy(), r.landmarks)
    p = session.partial()
    draw_status(img, p.text, p.confidence, session.options.min_confidence, r.hands_visible, said)
    cv2.imshow("ASL GPT live (ESC quits)", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))


def _first_then(it):
    """Pull the first frame eagerly (so errors surface now), then yield it and the rest."""
    import itertools

    first = next(it, None)
    return itertools.chain([first] if first is not None else [], it)


def _window():
    import os

    import cv2

    from asl_gpt.errors import InputError

    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise InputError("no display for a window: run with --no-window, or use the app (asl-gpt serve)")
    cv2.namedWindow("ASL GPT live (ESC quits)", cv2.WINDOW_NORMAL)
    return cv2
