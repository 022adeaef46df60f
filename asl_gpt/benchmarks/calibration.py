"""Calibration on real signers, cross-fitted: each signer's alphabet clips make a profile; their words read
without and with it, and a word that checks a profile is never one it is scored on.

For each signer k of a real set laid out like the evaluation set (letter clips `L_k.mp4`, words
`WORD.mp4` whose signer is known), the 26 letter clips go through `profile_from_recordings`, exactly
what `asl-gpt calibrate --video` does (checked on its letters only: the behaviour before check words).
Then the signer's words, sorted by file name, are split into two folds by a fixed rule (alternate
files, never chosen by results): the profile fitted with fold A's words as its check words (the pull
they choose, or not applied) is scored on fold B's words, and the reverse. Every word streams through
the app's path (`pipeline.committed_reading`, as `asl-gpt eval --data real-words`); committed
normalized Levenshtein per signer. The shipped model's reading of each recording is read once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from asl_gpt.config import add_model_argument


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", help="a real set: letter clips L_k.mp4 and words "
                               "(e.g. var/real-words, see scripts/get_real_words.sh)")
    add_model_argument(p)
    p.add_argument("--json", help="also write the figures to this JSON file")


def remembered(read):
    """`read` (calibration.WordReading), each recording read once per adapter: the reading is deterministic, and
    the same letters fitted at the same pull give the same adapter (the letters-only profile is each fold's
    first try), so only new adapters are read. The recordings must stay alive while it is used (keyed by id)."""
    seen: dict = {}

    def cached(frames, times_ms, aspect, adapter):
        weights = None if adapter is None else tuple(
            np.asarray(a).tobytes() for a in (adapter.mean, adapter.std, adapter.weight, adapter.bias, adapter.clip))
        key = (id(frames), len(frames), aspect, weights)
        if key not in seen:
            seen[key] = read(frames, times_ms, aspect, adapter)
        return seen[key]

    return cached


def folds(words: list) -> tuple[list, list]:
    """The fixed split: the words sorted by file name, alternately into fold A and fold B."""
    return words[0::2], words[1::2]


def _texts(read, profile, recordings) -> list[str]:
    """What each recording commits with this profile where it is usable, else with the shipped model."""
    adapter = profile.adapter if profile.usable else None
    return [read(frames, times, aspect, adapter) for _, frames, times, aspect in recordings]


def _fold_row(profile, checked: list, scored: list) -> dict:
    c = profile.check
    return {"checked": [w for w, *_ in checked], "scored": [w for w, *_ in scored], "applied": profile.usable,
            "l2": c.l2 if c else None, "check_words_without": c.words_base if c else None,
            "check_words_with": c.words_adapted if c else None, "fit_s": round(c.fit_s, 2) if c else None,
            "read_s": round(c.read_s, 1) if c else None, "summary": profile.summary()}


def signer_row(k: str, items, cache, rec, read) -> dict:
    """One signer's figures: without, with the letters-only profile, and with the word-checked profiles (cross-fitted)."""
    import time

    from asl_gpt.recognition import calibration as cal
    from asl_gpt.training.real import item_sample

    def recording(i):
        s = item_sample(i, cache)
        return (i.label, s.frames, s.times_ms, s.aspect or 1.0)

    letters = [recording(i) for i in items if i.kind == "letter" and i.signer == k]
    words = [recording(i) for i in sorted((i for i in items if i.kind == "word" and i.signer == k), key=lambda i: i.rel)]
    t0 = time.perf_counter()
    profile, takes = cal.profile_from_recordings(letters, rec, rec.contract.name, rec.fingerprint)
    profile_s = time.perf_counter() - t0
    clips = [r for r in letters if r[0] in profile.samples]
    labels = [w for w, *_ in words]
    without = [read(f, t, a, None) for _, f, t, a in words]
    letters_only = _texts(read, profile, words)
    # In-sample: all the signer's words check the profile and it is scored on the same words: what the self-check
    # tells this signer about their own words (a reading worse than without is caught), not a figure for new words.
    own = cal.fit_profile(profile, rec, clips=clips, words=words, read_word=read)
    with_words: dict[str, str] = {}
    fold_rows = []
    for checked, scored in (folds(words), folds(words)[::-1]):
        checked_profile = cal.fit_profile(profile, rec, clips=clips, words=checked, read_word=read)
        with_words.update(zip([w for w, *_ in scored], _texts(read, checked_profile, scored)))
        fold_rows.append(_fold_row(checked_profile, checked, scored))
    check = profile.check
    return {"signer": k, "letters": len(profile.samples), "signing_s": round(sum(t.seconds for t in takes), 1),
            "profile_s": round(profile_s, 2), "fit_s": round(check.fit_s, 2) if check else None,
            "self_check_base": check.base if check else None, "self_check_adapted": check.adapted if check else None,
            "words": len(words), "without": round(cal.word_score(list(zip(labels, without))), 4),
            "letters_only": round(cal.word_score(list(zip(labels, letters_only))), 4),
            "letters_only_applied": profile.usable,
            "word_checked": round(cal.word_score([(w, with_words[w]) for w in labels]), 4),
            "in_sample": round(cal.word_score(list(zip(labels, _texts(read, own, words)))), 4),
            "in_sample_check": _fold_row(own, words, words),
            "folds": fold_rows, "readings": {w: {"without": a, "letters_only": b, "word_checked": with_words[w]}
                                             for w, a, b in zip(labels, without, letters_only)},
            "flagged": [t.problem for t in takes if t.problem]}


def _fold_cell(f: dict) -> str:
    if f["l2"] is None:
        return "-"
    return f"{'yes' if f['applied'] else 'no'} {f['l2']:g} {f['check_words_without']:.2f}->{f['check_words_with']:.2f}"


def run(args, settings) -> int:
    import os

    from asl_gpt.benchmarks import machine_description
    from asl_gpt.errors import InputError
    from asl_gpt.recognition.pipeline import buffer_options, committed_reading_for
    from asl_gpt.recognition.recognizer import calibratable_recognizer
    from asl_gpt.training.real import default_cache_dir, list_set

    rec = calibratable_recognizer(settings, args.model)
    cache = default_cache_dir(settings)
    items = list_set(args.dir)
    signers = sorted({i.signer for i in items if i.kind == "letter"} & {i.signer for i in items if i.kind == "word"})
    if not signers:
        raise InputError(f"{args.dir} has no signer with both letter clips (L_k) and words")
    bo = buffer_options(settings, rec)
    read = remembered(committed_reading_for(settings, rec))
    print(f"machine: {machine_description()}; load average {os.getloadavg()[0]:.1f} at the start")
    print(f"model {rec.path.name}; real set {args.dir}; threshold {bo.min_confidence}; landmark cache {cache}")
    print("words: committed normalized Levenshtein; 'letters only': the profile checked on its letters (applied?); "
          "'word-checked': each word scored by the profile its fold did not check; fold: applied, pull, check words")
    print(f"{'signer':>6} {'fit s':>6} {'self-check':>11} {'without':>8} {'letters only':>14} {'word-checked':>12}  "
          f"{'fold A checks, B scored':<24} {'fold B checks, A scored':<24} {'in-sample':>9} {'its check':<20}")
    load, rows = os.getloadavg()[0], []
    for k in signers:
        row = signer_row(k, items, cache, rec, read)
        rows.append(row)
        sc = f"{row['self_check_base']:.2f}->{row['self_check_adapted']:.2f}" if row["fit_s"] is not None else "-"
        lo = f"{row['letters_only']:.3f} ({'yes' if row['letters_only_applied'] else 'no'})"
        print(f"{k:>6} {row['fit_s'] or 0:>6.2f} {sc:>11} {row['without']:>8.3f} {lo:>14} {row['word_checked']:>12.3f}  "
              f"{_fold_cell(row['folds'][0]):<24} {_fold_cell(row['folds'][1]):<24} {row['in_sample']:>9.3f} "
              f"{_fold_cell(row['in_sample_check']):<20}", flush=True)
        for f in row["folds"] + [row["in_sample_check"]]:
            print(f"       fit {f['fit_s']} s, read {f['read_s']} s; {f['summary']}")
    mean = lambda key: float(np.mean([r[key] for r in rows]))  # noqa: E731
    print(f"{'mean':>6} {'':>6} {'':>11} {mean('without'):>8.3f} {mean('letters_only'):>14.3f} "
          f"{mean('word_checked'):>12.3f}  {'':<24} {'':<24} {mean('in_sample'):>9.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"dir": str(args.dir), "model": rec.contract.name,
                                               "machine": machine_description(), "load_at_start": load,
                                               "load_at_end": os.getloadavg()[0], "folds": "words sorted by file "
                                               "name, alternately A and B", "signers": rows,
                                               "mean": {k: mean(k) for k in ("without", "letters_only", "word_checked", "in_sample")}},
                                              indent=1) + "\n")
    return 0
