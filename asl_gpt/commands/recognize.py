"""`asl-gpt recognize VIDEO|LANDMARKS.parquet [--json]`: each fingerspelled utterance with its times and confidence."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from asl_gpt.commands import add_reading_arguments

PARQUET_FPS = 30.0  # the competition's recordings: frame times when a file stores none


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", help="video file, or a landmark file in the competition layout (.parquet)")
    add_reading_arguments(p)
    p.add_argument("--fps", type=float, default=PARQUET_FPS,
                   help=f"landmark files: frames per second of the `frame` column (default {PARQUET_FPS:g})")
    p.add_argument("--aspect", type=float,
                   help="landmark files: width / height of the frames they were taken from (default: unknown)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def read_landmark_file(path: str | Path, fps: float = PARQUET_FPS) -> tuple[np.ndarray, np.ndarray]:
    """A competition-layout landmark .parquet -> (frames float32[T, 543, 3], times_ms float64[T]).

    Times come from a `t_ms` column when the file has one, else from the `frame` column at `fps`, else
    from the row order. InputError for a missing or unreadable file."""
    import pandas as pd
    import pyarrow.parquet as pq

    from asl_gpt.landmarks.io import read_parquet

    frames = read_parquet(path)  # checks the file; rows sorted by `frame`
    names = set(pq.read_schema(path).names)
    cols = [c for c in ("frame", "t_ms") if c in names]
    df = pd.read_parquet(path, columns=cols) if cols else pd.DataFrame(index=range(len(frames)))
    if "frame" in df.columns:
        df = df.sort_values("frame", kind="stable")
    if "t_ms" in df.columns:
        times = df["t_ms"].to_numpy(np.float64)
    elif "frame" in df.columns:
        f = df["frame"].to_numpy(np.float64)
        times = (f - f[0]) * 1000.0 / fps if len(f) else f
    else:
        times = np.arange(len(frames), dtype=np.float64) * 1000.0 / fps
    return frames, times


def run(args, settings) -> int:
    import json

    from asl_gpt.errors import InputError
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
    from asl_gpt.commands.calibrate import apply_profile

    rec = apply_profile(rec, args.profile, settings)
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
