"""`asl-gpt practice WORD (--video FILE | --camera N) [--json] [--profile NAME]`: how well each letter of WORD
was signed, with a tip from the knowledge base for each missed one.

With --camera an OpenCV window shows the word; spell it, then lower the hand (or press ESC): the recording is
judged when the hand has been out of view for half a second.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from asl_gpt.commands import read_with_profile
from asl_gpt.config import add_model_argument

ESC = 27


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("word", help="the word you spell (letters a-z)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", metavar="FILE", help="a recording of you spelling the word")
    src.add_argument("--camera", type=int, metavar="N", help="spell it to camera N")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--profile", help="your calibration profile: a name (asl-gpt calibrate --profile NAME) or a file")
    add_model_argument(p)


def run(args, settings) -> int:
    from asl_gpt.recognition.practice import judge, practice_word, with_tips
    from asl_gpt.recognition.recognizer import build_recognizer

    word = practice_word(args.word, settings.practice.max_letters)  # a bad word fails before any work
    if args.video:
        frames, times, aspect = _from_video(args.video, settings)
    rec = build_recognizer(settings, args.model)
    user = read_with_profile(rec, args, settings)
    adapter = getattr(getattr(user, "profile", None), "adapter", None)
    if args.camera is not None:
        frames, times, aspect = _from_camera(args.camera, word)
    result = with_tips(judge(word, frames, times, rec, aspect, adapter, settings.practice),
                       settings.paths.knowledge_dir)
    if args.json:
        print(json.dumps(result.as_dict(), indent=1))
        return 0
    right = sum(v.ok for v in result.letters)
    print(f"{word.upper()}: {right}/{len(result.letters)} letters right")
    for v in result.letters:
        seen = "" if v.ok or v.read_as == v.letter else f"  read as {v.read_as.upper()}"
        print(f"  {v.letter.upper()}  {'right ' if v.ok else 'missed'}  score {v.score:.2f}  "
              f"{v.start_s:5.2f}-{v.end_s:5.2f} s{seen}")
    for t in result.tips:
        print(f"tip for {t.letter.upper()}: {t.text} ({t.source}, \"{t.heading}\")")
    return 0


def _from_video(path: str, settings):
    from asl_gpt.landmarks.holistic import extract_recording

    return extract_recording(path, max_side=settings.recognizer.max_side)  # a bad file fails before any work


def _from_camera(camera: int, word: str):
    """A take (asl_gpt.recognition.practice.Take): from the first hand in view until it has gone (or ESC)."""
    import cv2

    from asl_gpt.landmarks.holistic import HolisticExtractor
    from asl_gpt.landmarks.video import read_camera
    from asl_gpt.recognition.overlay import draw_landmarks
    from asl_gpt.recognition.practice import Take

    take = Take(word)
    extractor = HolisticExtractor(face=False)
    try:
        for frame in read_camera(camera):
            h, w = frame.rgb.shape[:2]
            lm = extractor(frame.rgb)
            take.feed(frame.t_ms, lm, w / h)
            img = draw_landmarks(frame.rgb.copy(), lm)
            cv2.putText(img, f"spell {word.upper()}", (16, 56), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (255, 255, 255), 3)
            cv2.imshow("ASL GPT practice (ESC ends)", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            if (cv2.waitKey(1) & 0xFF) == ESC or take.done:
                break
    except KeyboardInterrupt:
        print("interrupted: judging what was recorded", file=sys.stderr)
    finally:
        extractor.close()
        cv2.destroyAllWindows()
    if not take.started:
        return np.full((0, 543, 3), np.nan, np.float32), np.zeros(0), 1.0
    return take.landmarks()
