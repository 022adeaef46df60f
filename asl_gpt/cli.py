"""`asl-gpt`: a thin shell over the same functions the UI calls. Libraries log; this prints."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from asl_gpt.errors import AslGptError

# subcommand -> (module under asl_gpt.commands, one-line help). Modules import lazily so that
# `asl-gpt index` never pays for MediaPipe and `asl-gpt recognize` never for torch.
COMMANDS: dict[str, tuple[str, str]] = {
    "landmarks": ("landmarks", "extract MediaPipe Holistic landmarks from a video to a parquet file"),
    "recognize": ("recognize", "recognise fingerspelled utterances in a video file"),
    "live": ("live", "live recognition from a camera or video in an OpenCV window"),
    "practice": ("practice", "practise a word: each letter you spell judged, with tips for the missed ones"),
    "calibrate": ("calibrate", "sign the alphabet once so the recognizer reads your hand better (a profile)"),
    "index": ("index", "(re)index documents into the knowledge base"),
    "ask": ("ask", "ask the knowledge base a question"),
    "serve": ("serve", "run the Gradio app"),
    "train": ("train", "train a fingerspelling model (needs the training extra: torch)"),
    "export": ("export", "export a trained checkpoint to TFLite plus its JSON contract"),
    "eval": ("evaluate", "evaluate a TFLite model on held-out data"),
    "bench": ("bench", "benchmarks: print throughput and latency figures for this machine"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="asl-gpt", description="Fingerspell a question, get a cited answer.")
    parser.add_argument("--config", help="TOML settings file (default: $ASL_GPT_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(_module=module)
        importlib.import_module(f"asl_gpt.commands.{module}").add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from asl_gpt.config import load_settings

    try:
        settings = load_settings(args.config)
        module = importlib.import_module(f"asl_gpt.commands.{args._module}")
        return int(module.run(args, settings) or 0)
    except AslGptError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as e:  # settings files, permissions, bad values: one line, not a traceback
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
