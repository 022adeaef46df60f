"""`asl-gpt serve [--host H] [--port P]`: the Gradio app (the same as `python app.py`)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--no-initial-index", action="store_true",
                   help="do not index the knowledge folder when the index is empty")


def run(args, settings) -> int:
    from asl_gpt.app import build_demo, launch
    from asl_gpt.services import build_services

    services = build_services(settings)
    demo = build_demo(services, initial_index=not args.no_initial_index)
    print(f"ASL GPT on http://{args.host}:{args.port} (Ctrl+C stops it)", flush=True)
    try:
        launch(demo, host=args.host, port=args.port, quiet=True)
    finally:
        demo.registry.close()
        services.close()
    return 0
