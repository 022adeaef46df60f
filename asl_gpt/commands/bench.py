"""`asl-gpt bench NAME`: print measured figures for this machine (see asl_gpt.benchmarks)."""

from __future__ import annotations

import argparse
import importlib

# name -> module under asl_gpt.benchmarks
BENCHMARKS = {
    "recognition": "recognition",  # landmark extraction fps and whole recognize loop fps
    "model": "model",  # recognizer inference time per window and size
    "rag": "rag",  # indexing throughput, retrieval latency, LLM TTFT and tokens/s
    "app": "app",  # browser-to-recognition fps, Send to first token
    "answers": "answers",  # per-question right / refused / first token over a questions file, stack warm
    "faults": "faults",  # one row per fault (LLM killed, Chroma restarted, index killed, corrupt model/index, read-only/full state): seen, lost
    "calibration": "calibration",  # real signers: each one's alphabet clips calibrate; their words read without and with
    "practice": "practice",  # practice mode: recordings judged against their own word and another of its length
    "load": "load",  # N sessions at once on one app: frames/s each, answers, errors, memory, page load, no cross-talk
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="bench", required=True, metavar="NAME")
    for name, module in BENCHMARKS.items():
        mod = importlib.import_module(f"asl_gpt.benchmarks.{module}")
        bp = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0] if mod.__doc__ else None)
        bp.set_defaults(_bench=mod)
        mod.add_arguments(bp)


def run(args, settings) -> int:
    return int(args._bench.run(args, settings) or 0)
