"""`asl-gpt train --preset NAME --data DIR|synth [--fold K]`: train a fingerspelling model (torch)."""

from __future__ import annotations

import argparse


def _default_threads() -> int:
    import os

    cores = os.cpu_count() or 2
    return 1 if cores <= 2 else min(8, cores - 1)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="default", help="model: default (signing-hand features + letter head), columns, competition, tiny, tiny_hand")
    p.add_argument("--data", default="synth",
                   help="'synth' (phrases synthesised from the real handshapes in the data folder) or a folder in "
                        "the competition's layout (train.csv / supplemental_metadata.csv + train_landmarks/ or "
                        "train_landmarks_npy/)")
    p.add_argument("--fold", type=int, default=-1, help="participant fold to validate on (0-3); -1 trains on all")
    p.add_argument("--out", help="checkpoint folder (default: var/train/<preset>[-fold<K>])")
    p.add_argument("--steps", type=int, default=20000, help="optimiser steps in total")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, help="linear warm-up steps before the cosine decay (default: TrainOptions' "
                                              "300; fewer when fine-tuning from --init)")
    p.add_argument("--val-every", type=int, default=500, help="steps between validation + checkpoint")
    p.add_argument("--val-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=_default_threads(),
                   help="torch CPU threads (default: 1 on a 2-core machine, where 2 threads beside the batch "
                        "worker ran 2-4x slower than 1; else cores - 1, at most 8)")
    p.add_argument("--workers", type=int, default=1, help="processes preparing batches")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    p.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    p.add_argument("--init", metavar="CKPT", help="start from this checkpoint's weights (.pt of the same preset: step 0, "
                                                  "a fresh optimiser); --resume wins when <out>/last.pt exists")
    p.add_argument("--max-minutes", type=float, default=0.0, help="stop cleanly after this long (0: no limit)")
    p.add_argument("--oof-out", action="store_true",
                   help="round 1: write the validation fold's predictions to <out>/oof_fold<K>.csv")
    p.add_argument("--aux-oof", nargs="*", default=[], metavar="CSV",
                   help="round 2: round-1 out-of-fold files, used as the confidence head's auxiliary target")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")


def _init(value: str | None):
    """--init: a torch checkpoint; NAME or NAME.tflite finds NAME.pt beside it (models/default.pt ships)."""
    from pathlib import Path

    from asl_gpt.errors import InputError

    if not value:
        return None
    p = Path(value)
    if p.suffix != ".pt" and p.with_suffix(".pt").is_file():
        p = p.with_suffix(".pt")
    if not p.is_file() or p.suffix != ".pt":
        raise InputError(f"--init needs a torch checkpoint (.pt): {value} is not one (recover one from a .tflite: "
                         "python -m asl_gpt.training.recover models/NAME.tflite models/NAME.pt)")
    return p


def run(args, settings) -> int:
    import os
    from pathlib import Path

    from asl_gpt.errors import InputError

    try:
        from asl_gpt.training.train import TrainOptions, train
    except ModuleNotFoundError as e:
        raise InputError(f"training needs the 'train' extra ({e.name} is missing): pip install -e '.[train]'") from None
    if args.data != "synth" and not Path(args.data).is_dir():
        raise InputError(f"data folder not found: {args.data}")
    if args.data == "synth" and not settings.paths.data_dir.is_dir():
        raise InputError(f"the synthesiser needs the real handshapes in {settings.paths.data_dir} "
                         "(set ASL_GPT_PATHS_DATA_DIR)")
    out = Path(args.out or f"var/train/{args.preset}" + (f"-fold{args.fold}" if args.fold >= 0 else ""))
    opts = TrainOptions(preset=args.preset, data=args.data, data_dir=settings.paths.data_dir, fold=args.fold, out=out,
                        steps=args.steps, batch_size=args.batch_size, lr=args.lr, val_every=args.val_every,
                        val_size=args.val_size, threads=args.threads, workers=args.workers, seed=args.seed,
                        resume=args.resume, init=_init(args.init), max_minutes=args.max_minutes, oof_out=args.oof_out,
                        aux_oof=tuple(args.aux_oof), device=args.device, progress=not args.no_progress,
                        **({"warmup": args.warmup} if args.warmup is not None else {}))
    last = train(opts, settings.paths.knowledge_dir)
    if int(os.environ.get("RANK", "0")):  # torchrun: the other ranks say nothing
        return 0
    print(f"checkpoints in {out} (last: {last}, best: {out / 'best.pt'}); export with: asl-gpt export {out / 'best.pt'} -o models/NAME")
    return 0
