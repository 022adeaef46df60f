"""`asl-gpt export CHECKPOINT -o models/NAME`: TFLite (no Flex ops) + the JSON contract the runtime reads."""

from __future__ import annotations

import argparse

from asl_gpt.recognition.buffer import BufferOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="a .pt checkpoint written by `asl-gpt train`")
    p.add_argument("-o", "--output", required=True, help="models/NAME (writes NAME.tflite and NAME.json)")
    p.add_argument("--min-confidence", type=float, default=BufferOptions.min_confidence,
                   help="the confidence threshold recorded in the contract")
    p.add_argument("--training-data", default="", help="one line on what the model was trained on, for the contract")


def run(args, settings) -> int:
    from pathlib import Path

    from asl_gpt.errors import InputError

    if not Path(args.checkpoint).is_file():
        raise InputError(f"checkpoint not found: {args.checkpoint}")
    try:
        from asl_gpt.training.export import export
    except ModuleNotFoundError as e:
        raise InputError(f"export needs the 'train' extra ({e.name} is missing): pip install -e '.[train]'") from None
    meta = {"training_data": args.training_data} if args.training_data else {}
    tflite, contract, parity = export(args.checkpoint, args.output, meta, args.min_confidence)
    print(f"{tflite} ({tflite.stat().st_size / 1e6:.2f} MB) and {contract}; "
          f"torch vs TFLite max abs difference {parity.worst:.2e}")
    return 0
