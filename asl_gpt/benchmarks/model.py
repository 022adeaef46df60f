"""The recognizer model alone: inference time per window (LiteRT) and its size."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="model name under models/ or a .tflite path (default: settings)")
    p.add_argument("--repeat", type=int, default=50, help="timed windows (median reported)")
    p.add_argument("--threads", type=int, help="LiteRT threads (default: settings)")


def run(args, settings) -> int:
    from asl_gpt.benchmarks import machine_description
    from asl_gpt.recognizer import load_recognizer
    from asl_gpt.training.evaluate import latency  # numpy + LiteRT only, no torch

    threads = args.threads or settings.recognizer.threads
    rec = load_recognizer(args.model or settings.recognizer.model, settings.paths.models_dir, threads)
    c = rec.contract
    params = c.metadata.get("parameters")
    lat = latency(rec, n=args.repeat)
    print(f"machine: {machine_description()}")
    print(f"model {rec.path}: {rec.path.stat().st_size / 1e6:.2f} MB"
          + (f", {params / 1e6:.2f} M parameters" if params else "")
          + f", window {c.window} frames x {len(c.columns)} columns, up to {c.max_output} characters")
    print(f"LiteRT, {threads} thread(s), median of {lat['repeats']}: encode {lat['encode_ms']} ms, "
          f"decode of 12 characters {lat['decode_12_chars_ms']} ms, one window {lat['window_ms']} ms")
    return 0
