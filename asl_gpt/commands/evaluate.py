"""`asl-gpt eval --model models/NAME --data synth|DIR`: a model's figures through the runtime (LiteRT)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="model name under models/ or a .tflite path (default: settings)")
    p.add_argument("--data", default="synth",
                   help="'synth': the held-out signer's handshapes + silence on the signing videos; "
                        "or a competition-layout folder (scored on --fold)")
    p.add_argument("--fold", type=int, default=0, help="competition data: the participant fold to score")
    p.add_argument("--limit", type=int, default=0, help="competition data: score at most this many sequences")
    p.add_argument("--letters-per-class", type=int, default=8)
    p.add_argument("--phrases", type=int, default=150)
    p.add_argument("--no-videos", action="store_true", help="skip the silence test on the signing videos")
    p.add_argument("--json", help="also write the figures to this JSON file")
    p.add_argument("--record", action="store_true",
                   help="store the figures in the model's JSON contract (metadata.held_out_evaluation)")
    p.add_argument("--no-progress", action="store_true")


def run(args, settings) -> int:
    import json
    from pathlib import Path

    from asl_gpt.errors import InputError
    from asl_gpt.recognizer import load_recognizer
    from asl_gpt.training import evaluate as ev

    rec = load_recognizer(args.model or settings.recognizer.model, settings.paths.models_dir, settings.recognizer.threads)
    out: dict = {"model": str(rec.path), "latency": ev.latency(rec)}
    if args.data == "synth":
        data_dir = settings.paths.data_dir
        if not data_dir.is_dir():
            raise InputError(f"data folder not found: {data_dir} (set ASL_GPT_PATHS_DATA_DIR)")
        out["held_out"] = ev.held_out_synth(rec, data_dir, settings.paths.knowledge_dir, args.letters_per_class,
                                            args.phrases, progress=not args.no_progress)
        h = out["held_out"]
        print(f"held-out signer {h['signer']}: letter accuracy {h['letters']['accuracy']:.3f} "
              f"({h['letters']['samples']} single letters; right and confident {h['letters']['accuracy_and_confident']:.3f})")
        print(f"held-out signer {h['signer']}: phrases normalized Levenshtein {h['phrases']['normalized_levenshtein']:.3f}, "
              f"exact {h['phrases']['exact']:.3f} ({h['phrases']['sequences']} phrases)")
        out["seed_capture"] = ev.seed_capture(rec, data_dir)
        if out["seed_capture"]:
            print(f"real capture (phrase unknown): {out['seed_capture']['text']!r} "
                  f"confidence {out['seed_capture']['confidence']:.3f}")
        if not args.no_videos:
            videos = sorted((data_dir / "signing-video").glob("*.mp4"))
            out["silence"] = ev.silence(rec, videos, settings.paths.state_dir / "cache")
            s = out["silence"]
            print(f"signing videos (no fingerspelling): silent on {s['silent']}/{s['decodes']} decodes "
                  f"(rate {s['silence_rate']}), {s['videos_without_output']}/{len(videos)} videos without output")
    else:
        if not Path(args.data).is_dir():
            raise InputError(f"data folder not found: {args.data}")
        out["competition"] = ev.competition(rec, Path(args.data), args.fold, args.limit, progress=not args.no_progress)
        c = out["competition"]
        print(f"fold {c['fold']}: normalized total Levenshtein {c['normalized_levenshtein']:.4f} "
              f"over {c['sequences']} sequences ({c['chars']} characters), exact {c['exact']:.3f}")
    lat = out["latency"]
    print(f"latency per window: encode {lat['encode_ms']} ms + 12-character decode "
          f"{lat['decode_12_chars_ms']} ms = {lat['window_ms']} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    if args.record:
        _record(rec, out, args)
    return 0


def _record(rec, figures: dict, args) -> None:
    """Keep the headline figures with the model: they travel in its contract."""
    import datetime

    from asl_gpt.contract import ModelContract

    path = rec.path.with_suffix(".json")
    c = ModelContract.load(path)
    cmd = f"asl-gpt eval --model {rec.contract.name} --data {args.data}"
    cmd += (f" --letters-per-class {args.letters_per_class} --phrases {args.phrases}" if args.data == "synth"
            else f" --fold {args.fold}" + (f" --limit {args.limit}" if args.limit else ""))
    cmd += " --no-videos" if args.no_videos else ""
    summary = {"date": datetime.date.today().isoformat(), "command": cmd, "latency": figures["latency"]}
    if "held_out" in figures:
        h = figures["held_out"]
        summary["held_out_signer"] = h["signer"]
        summary["letters"] = {k: v for k, v in h["letters"].items() if k != "per_letter"}
        summary["phrases"] = {k: v for k, v in h["phrases"].items() if k != "examples"}
    if figures.get("seed_capture"):
        summary["seed_capture"] = {k: v for k, v in figures["seed_capture"].items() if k != "file"}
    if "silence" in figures:
        summary["silence"] = {k: v for k, v in figures["silence"].items() if k != "videos"}
    if "competition" in figures:
        summary["competition"] = figures["competition"]
    meta = dict(c.metadata)
    meta["held_out_evaluation"] = summary
    import dataclasses

    dataclasses.replace(c, metadata=meta).save(path)
    print(f"recorded the figures in {path}")
