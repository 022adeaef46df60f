"""`asl-gpt recognize VIDEO|LANDMARKS.parquet [--json]`: each fingerspelled utterance with its times and confidence."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from asl_gpt.commands import add_reading_arguments, read_with_profile
from asl_gpt.landmarks.io import PARQUET_FPS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", help="video file, or a landmark file in the competition layout (.parquet)")
    add_reading_arguments(p)
    p.add_argument("--fps", type=float, default=PARQUET_FPS,
                   help=f"landmark files: frames per second of the `frame` column (default {PARQUET_FPS:g})")
    p.add_argument("--aspect", type=float,
                   help="landmark files: width / height of the frames they were taken from (default: unknown)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    p.add_argument("--explain", action="store_true",
                   help="also print, per stretch, which gate (raised test, span, one-handed rule, confidence) kept "
                        "or removed which frames, and what the model reads in what was removed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args, settings) -> int:
    from asl_gpt.errors import InputError
    from asl_gpt.landmarks.io import read_landmark_file
    from asl_gpt.recognition.pipeline import buffer_options

    landmarks = Path(args.video).suffix.lower() == ".parquet"
    frames = times = None
    if landmarks:
        from asl_gpt.recognition.recognizer import build_recognizer

        frames, times = read_landmark_file(args.video, args.fps)  # a bad file fails before the model loads
        if not len(frames):
            raise InputError(f"landmark file {args.video} has no frames")
        rec = build_recognizer(settings, args.model)
        extractor = None
    else:
        from asl_gpt.landmarks.video import probe
        from asl_gpt.recognition.pipeline import build_runtime

        probe(args.video)  # a bad file fails before the model loads
        rec, extractor = build_runtime(settings, args.model)
    rec = read_with_profile(rec, args, settings)
    bo = buffer_options(settings, rec, args.min_confidence)
    result, frames, times, aspect, finals = _recognize(args, settings, rec, bo, extractor, frames, times)
    if result.frames_with_hands == 0:
        raise InputError(f"no hands in view in {args.video} ({result.frames} frames): "
                         "is the signer's upper body and hand in the frame?")
    explanation = _explain(result, frames, times, aspect, finals, rec, bo.min_confidence, settings) \
        if args.explain else None
    _print(args, rec, bo, result, explanation)
    return 0


def _recognize(args, settings, rec, bo, extractor, frames, times):
    """(VideoRecognition, frames, times, aspect, {segment: final Hypothesis}) of a landmark file (`frames`
    given) or a video (its frames' landmarks are kept only when explaining)."""
    from asl_gpt.recognition.pipeline import recognize_landmarks, recognize_video, stream_options

    finals: dict = {}
    seen: list = []  # (t_ms, landmarks, aspect) of every video frame, when explaining

    def on_update(u) -> None:
        if u.final:
            finals[u.segment] = u.hypothesis

    if extractor is None:
        result = recognize_landmarks(frames, times, rec, stream_options(settings), bo, args.aspect,
                                     progress=not args.no_progress, on_update=on_update, explain=args.explain)
        return result, frames, times, args.aspect or 1.0, finals

    def on_result(frame, r) -> None:
        seen.append((frame.t_ms, r.landmarks, frame.rgb.shape[1] / frame.rgb.shape[0]))

    try:
        result = recognize_video(args.video, rec, extractor, stream_options(settings), bo,
                                 progress=not args.no_progress, on_update=on_update, explain=args.explain,
                                 on_result=on_result if args.explain else None)
    finally:
        extractor.close()
    if not seen:
        return result, None, None, 1.0, finals
    return (result, np.stack([s[1] for s in seen]), np.array([s[0] for s in seen], np.float64), seen[-1][2],
            finals)


def _print(args, rec, bo, result, explanation) -> None:
    import json

    if args.json:
        print(json.dumps({
            "video": str(args.video), "model": rec.contract.name, "profile": args.profile if hasattr(rec, "profile") else None,
            "min_confidence": bo.min_confidence,
            "frames": result.frames, "frames_with_hands": result.frames_with_hands, "fps": round(result.fps, 1),
            "utterances": [{"text": u.text, "confidence": round(u.confidence, 3), "start_s": round(u.t_start / 1000, 2),
                            "end_s": round(u.t_end / 1000, 2)} for u in result.utterances],
            "rejected": [{"text": r.text, "confidence": round(r.confidence, 3), "reason": r.reason} for r in result.rejected],
            **({"explain": explanation[1]} if explanation else {}),
        }, indent=1))
        return
    for u in result.utterances:
        print(f"{u.t_start / 1000:7.2f}s - {u.t_end / 1000:7.2f}s  confidence {u.confidence:.2f}  {u.text}")
    if not result.utterances:
        print(f"no utterances: nothing reached the confidence threshold {bo.min_confidence:.2f} "
              f"({len(result.rejected)} rejected)")
    print(f"{result.frames} frames, hands in {result.frames_with_hands}, {result.fps:.1f} fps")
    if explanation:
        print("\nwhat the gates did:")
        print("\n".join(explanation[0]))


def _explain(result, frames, times, aspect: float, finals: dict, rec, min_confidence: float, settings):
    """(lines, JSON-ready stretches) of `asl_gpt.recognition.explain` for one recognised stream."""
    import dataclasses

    from asl_gpt.recognition import explain

    stretches = explain.explain(frames, times, aspect, result.gated, finals, rec, min_confidence,
                                settings.recognizer.max_fps)
    return explain.lines(stretches, min_confidence), [dataclasses.asdict(s) for s in stretches]
