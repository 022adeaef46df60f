"""`asl-gpt recognize VIDEO|LANDMARKS.parquet [--json]`: each fingerspelled utterance with its times and confidence."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args, settings) -> int:
    import json

    from asl_gpt.errors import InputError
    from asl_gpt.landmarks.io import read_landmark_file
    from asl_gpt.recognition.pipeline import buffer_options, recognize_landmarks, stream_options

    landmarks = Path(args.video).suffix.lower() == ".parquet"
    if landmarks:
        from asl_gpt.recognition.recognizer import recognizer_from_settings

        frames, times = read_landmark_file(args.video, args.fps)  # a bad file fails before the model loads
        if not len(frames):
            raise InputError(f"landmark file {args.video} has no frames")
        rec = recognizer_from_settings(settings, args.model)
    else:
        from asl_gpt.landmarks.video import probe
        from asl_gpt.recognition.pipeline import build_runtime

        probe(args.video)  # a bad file fails before the model loads
        rec, extractor = build_runtime(settings, args.model)
    rec = read_with_profile(rec, args, settings)
    bo = buffer_options(settings, rec, args.min_confidence)
    if landmarks:
        result = recognize_landmarks(frames, times, rec, stream_options(settings), bo, args.aspect,
                                     progress=not args.no_progress)
    else:
        from asl_gpt.recognition.pipeline import recognize_video

        try:
            result = recognize_video(args.video, rec, extractor, stream_options(settings), bo,
                                     progress=not args.no_progress)
        finally:
            extractor.close()
    if result.frames_with_hands == 0:
        raise InputError(f"no hands in view in {args.video} ({result.frames} frames): "
                         "is the signer's upper body and hand in the frame?")
    if args.json:
        print(json.dumps({
            "video": str(args.video), "model": rec.contract.name, "profile": args.profile if hasattr(rec, "profile") else None,
            "min_confidence": bo.min_confidence,
            "frames": result.frames, "frames_with_hands": result.frames_with_hands, "fps": round(result.fps, 1),
            "utterances": [{"text": u.text, "confidence": round(u.confidence, 3), "start_s": round(u.t_start / 1000, 2),
                            "end_s": round(u.t_end / 1000, 2)} for u in result.utterances],
            "rejected": [{"text": r.text, "confidence": round(r.confidence, 3), "reason": r.reason} for r in result.rejected],
        }, indent=1))
        return 0
    for u in result.utterances:
        print(f"{u.t_start / 1000:7.2f}s - {u.t_end / 1000:7.2f}s  confidence {u.confidence:.2f}  {u.text}")
    if not result.utterances:
        print(f"no utterances: nothing reached the confidence threshold {bo.min_confidence:.2f} "
              f"({len(result.rejected)} rejected)")
    print(f"{result.frames} frames, hands in {result.frames_with_hands}, {result.fps:.1f} fps")
    return 0
