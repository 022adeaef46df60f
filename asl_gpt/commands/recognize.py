"""`asl-gpt recognize VIDEO [--json]`: each fingerspelled utterance with its times and confidence."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", help="video file")
    p.add_argument("--model", help="model name under models/ or a .tflite path (default: settings)")
    p.add_argument("--min-confidence", type=float, help="confidence threshold (default: the model's)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args, settings) -> int:
    import json

    from asl_gpt.buffer import BufferOptions
    from asl_gpt.errors import InputError
    from asl_gpt.landmarks.video import probe
    from asl_gpt.pipeline import build_runtime, recognize_video, stream_options

    probe(args.video)  # a bad file fails before the model loads
    rec, extractor = build_runtime(settings, args.model)
    threshold = rec.contract.min_confidence if args.min_confidence is None else args.min_confidence
    try:
        result = recognize_video(args.video, rec, extractor, stream_options(settings),
                                 BufferOptions(min_confidence=threshold), progress=not args.no_progress)
    finally:
        extractor.close()
    if result.frames_with_hands == 0:
        raise InputError(f"no hands in view in {args.video} ({result.frames} frames): "
                         "is the signer's upper body and hand in the frame?")
    if args.json:
        print(json.dumps({
            "video": str(args.video), "model": rec.contract.name, "min_confidence": threshold,
            "frames": result.frames, "frames_with_hands": result.frames_with_hands, "fps": round(result.fps, 1),
            "utterances": [{"text": u.text, "confidence": round(u.confidence, 3), "start_s": round(u.t_start / 1000, 2),
                            "end_s": round(u.t_end / 1000, 2)} for u in result.utterances],
            "rejected": [{"text": r.text, "confidence": round(r.confidence, 3), "reason": r.reason} for r in result.rejected],
        }, indent=1))
        return 0
    for u in result.utterances:
        print(f"{u.t_start / 1000:7.2f}s - {u.t_end / 1000:7.2f}s  confidence {u.confidence:.2f}  {u.text}")
    if not result.utterances:
        print(f"no utterances: nothing reached the confidence threshold {threshold:.2f} "
              f"({len(result.rejected)} rejected)")
    print(f"{result.frames} frames, hands in {result.frames_with_hands}, {result.fps:.1f} fps")
    return 0
