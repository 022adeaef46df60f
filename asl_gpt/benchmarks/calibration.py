"""Calibration on real signers: each signer's alphabet clips make a profile; their words read without and with it.

For each signer k of a real set laid out like the evaluation set (letter clips `L_k.mp4`, words
`WORD.mp4` whose signer is known), the 26 letter clips go through `profile_from_recordings`, exactly
what `asl-gpt calibrate --video` does, and the signer's words are streamed through the app's path
(as `asl-gpt eval --data real-words`) by the shipped model and by the calibrated one. Prints
committed normalized Levenshtein per signer, the profile's own held-out check, and the time to
calibrate (seconds of signing kept, seconds of fitting).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from asl_gpt.config import add_model_argument


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", help="a real set: letter clips L_k.mp4 and words "
                               "(e.g. var/real-words, see scripts/get_real_words.sh)")
    add_model_argument(p)
    p.add_argument("--json", help="also write the figures to this JSON file")


def run(args, settings) -> int:
    import time

    import numpy as np

    from asl_gpt.recognition import calibration as cal
    from asl_gpt.benchmarks import machine_description
    from asl_gpt.errors import InputError
    from asl_gpt.recognition.pipeline import buffer_options, stream_options
    from asl_gpt.recognition.recognizer import calibratable_recognizer, with_profile
    from asl_gpt.training.real import default_cache_dir, item_sample, list_set, run_sample, summarise

    rec = calibratable_recognizer(settings, args.model)
    cache = default_cache_dir(settings)
    items = list_set(args.dir)
    signers = sorted({i.signer for i in items if i.kind == "letter"} & {i.signer for i in items if i.kind == "word"})
    if not signers:
        raise InputError(f"{args.dir} has no signer with both letter clips (L_k) and words")
    so, bo = stream_options(settings), buffer_options(settings, rec)
    print(f"machine: {machine_description()}")
    print(f"model {rec.path.name}; real set {args.dir}; threshold {bo.min_confidence}")
    print(f"{'signer':>6} {'letters':>7} {'signing s':>9} {'fit s':>6} {'self-check':>13} {'applied':>7} "
          f"{'words without':>13} {'with':>6}")
    rows = []
    for k in signers:
        letters = [i for i in items if i.kind == "letter" and i.signer == k]
        words = [(i, item_sample(i, cache)) for i in items if i.kind == "word" and i.signer == k]
        recordings = []
        for i in letters:
            s = item_sample(i, cache)
            recordings.append((i.label, s.frames, s.times_ms, s.aspect or 1.0))
        t0 = time.perf_counter()
        profile, takes = cal.profile_from_recordings(recordings, rec, rec.contract.name, rec.fingerprint)
        seconds = time.perf_counter() - t0
        signing_s = sum(t.seconds for t in takes)
        user, problem = with_profile(rec, profile)
        without = summarise([run_sample(rec, s, so, bo, name=i.rel) for i, s in words])
        with_ = summarise([run_sample(user, s, so, bo, name=i.rel) for i, s in words])
        check = profile.check
        row = {"signer": k, "letters": len(profile.samples), "signing_s": round(signing_s, 1),
               "fit_s": round(check.fit_s if check else 0.0, 2), "profile_s": round(seconds, 2),
               "self_check_base": check.base if check else None, "self_check_adapted": check.adapted if check else None,
               "applied": not problem, "problem": problem, "words": len(words),
               "without": without["score"], "with": with_["score"],
               "flagged": [t.problem for t in takes if t.problem]}
        rows.append(row)
        sc = f"{check.base:.2f}->{check.adapted:.2f}" if check else "-"
        print(f"{k:>6} {row['letters']:>7} {signing_s:>9.1f} {row['fit_s']:>6.2f} {sc:>13} "
              f"{'yes' if row['applied'] else 'no':>7} {without['score']:>13.3f} {with_['score']:>6.3f}", flush=True)
        for line in row["flagged"]:
            print(f"       flagged: {line}")
    mean = lambda key: float(np.mean([r[key] for r in rows]))  # noqa: E731
    print(f"{'mean':>6} {'':>7} {mean('signing_s'):>9.1f} {mean('fit_s'):>6.2f} {'':>13} {'':>7} "
          f"{mean('without'):>13.3f} {mean('with'):>6.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"dir": str(args.dir), "model": rec.contract.name,
                                               "machine": machine_description(), "signers": rows}, indent=1) + "\n")
    return 0
