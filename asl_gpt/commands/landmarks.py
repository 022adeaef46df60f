"""`asl-gpt landmarks VIDEO -o FILE.parquet`: MediaPipe Holistic landmarks in the competition layout."""

from __future__ import annotations

import argparse

from asl_gpt.config import RecognizerConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", help="video file (MP4, WebM, AVI ...)")
    p.add_argument("-o", "--output", required=True, help="parquet file to write")
    p.add_argument("--max-side", type=int, default=RecognizerConfig.max_side,
                   help="shrink larger frames to this many pixels first")


def run(args, settings) -> int:
    import numpy as np

    from asl_gpt.recognition import features
    from asl_gpt.landmarks.holistic import extract_video
    from asl_gpt.landmarks.io import write_parquet

    frames, _ = extract_video(args.video, max_side=args.max_side, progress=True)
    write_parquet(frames, args.output)
    hands = features.hands_present(frames)
    print(f"{args.output}: {len(frames)} frames, hands in {int(hands.sum())} "
          f"({100 * hands.mean():.0f}%), face in {int(np.isfinite(frames[:, 0, 0]).sum())}")
    return 0
