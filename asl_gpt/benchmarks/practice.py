"""Practice mode's verdicts: each recording judged against its own word and against another word of its length.

Real recordings (`DIR`, named LABEL[_SIGNER].mp4 or .parquet as `asl-gpt eval --data real-words` reads them)
and synthetic held-out words (the held-out signer's real handshapes, as `asl-gpt eval --data synth` makes
them) are each judged twice by `asl_gpt.recognition.practice.judge`: against the word signed and against
another word of the same length. Prints the share of letters judged ok in both cases per signer, and, for
synthetic words, the shares at other thresholds and decoder weights (how `PracticeConfig` was chosen),
plus how far each letter's aligned centre lies from where it was signed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from asl_gpt.config import add_model_argument

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", help="real recordings named by their word (evaluation only)")
    add_model_argument(p)
    p.add_argument("--synth", type=int, default=120,
                   help="synthetic held-out words to judge, and a 40th as many takes of each letter (0: none)")
    p.add_argument("--cache", help="landmark cache of the real recordings (default: STATE_DIR/cache/real-words)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", help="also write the figures to this JSON file")
    p.add_argument("--no-progress", action="store_true")


def other_word(word: str, pool: list[str], rng: np.random.Generator) -> str:
    """Another word of the same length from `pool` (a shuffled copy of the word when none is)."""
    same = [w for w in pool if len(w) == len(word) and w != word]
    if same:
        return same[int(rng.integers(len(same)))]
    letters = list(word)
    for _ in range(10):
        rng.shuffle(letters)
        if "".join(letters) != word:
            break
    return "".join(letters)


def raw_letters(word: str, frames, times, rec, aspect: float, cfg) -> list[tuple[float, float]]:
    """Per letter (decoder probability, aligned frames' probability) of the asked letter: the score's parts."""
    from asl_gpt.recognition.practice import align, decoder_letter_logp, frame_letter_logp
    from asl_gpt.words import ALPHABET

    frame_lp = frame_letter_logp(frames, rec, aspect)
    dec_lp = decoder_letter_logp(frames, word, rec, aspect)
    t = np.asarray(times, np.float64)
    fps = (len(t) - 1) / max((t[-1] - t[0]) / 1000.0, 1e-3)
    idx = [ALPHABET.index(c) for c in word]
    out = []
    for i, (a, b) in enumerate(align(frame_lp, idx, int(round(cfg.min_letter_s * fps)), cfg.gap_logp)):
        seen = frame_lp[a:b][np.isfinite(frame_lp[a:b]).all(axis=1)]
        fp = float(np.exp(seen[:, idx[i]]).mean()) if len(seen) else 1e-6
        out.append((float(np.exp(dec_lp[i, idx[i]])), fp))
    return out


def share_ok(parts: list[tuple[float, float]], weight: float, threshold: float) -> float:
    if not parts:
        return 0.0
    d, f = np.clip(np.array(parts), 1e-9, 1.0).T
    return float(np.mean(np.exp(weight * np.log(d) + (1 - weight) * np.log(f)) >= threshold))


def _synth(rec, settings, n: int, seed: int, progress: bool) -> dict:
    """Synthetic held-out words and single letters (the Letters level): share ok (asked / another) over the
    weight x threshold grid, and how far each letter's aligned centre lies from where it was held."""
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER, load_bank
    from asl_gpt.training.synth import SynthOptions, Synthesizer, load_body_frames, vocabulary
    from asl_gpt.words import ALPHABET

    data_dir = settings.paths.data_dir
    bank = load_bank(data_dir).only([HELD_OUT_SIGNER])
    words = [w for w in vocabulary(settings.paths.knowledge_dir) if w.isalpha() and 2 <= len(w) <= 8]
    syn = Synthesizer(bank, load_body_frames(data_dir), SynthOptions(negative_rate=0.0), words=words)
    rng = np.random.default_rng(seed)
    picked = [words[int(rng.integers(len(words)))] for _ in range(n)]
    letters = [c for c in ALPHABET for _ in range(max(1, n // 40))]
    out = {"signer": HELD_OUT_SIGNER}
    for kind, texts, pool in (("words", picked, words), ("letters", letters, list(ALPHABET))):
        out[kind] = _judged(rec, settings.practice, syn, texts, pool, rng, HELD_OUT_SIGNER, progress)
    return out


def _judged(rec, cfg, syn, texts: list[str], pool: list[str], rng, signer: str, progress: bool) -> dict:
    from tqdm import tqdm

    from asl_gpt.recognition.practice import judge

    import time

    asked, other, offsets, seconds = [], [], [], []
    for text in tqdm(texts, desc="synthetic", unit="take", disable=not progress):
        s = syn.sample(rng, text=text, signer=signer, negative=False)
        asked += raw_letters(text, s.frames, s.times_ms, rec, s.aspect, cfg)
        other += raw_letters(other_word(text, pool, rng), s.frames, s.times_ms, rec, s.aspect, cfg)
        t0 = time.perf_counter()
        j = judge(text, s.frames, s.times_ms, rec, s.aspect, options=cfg)
        seconds.append(time.perf_counter() - t0)
        offsets += [abs((v.start_s + v.end_s) / 2 - c / 1000.0) for v, c in zip(j.letters, s.char_times_ms)]
    grid = {f"{w:g}": {f"{t:g}": [round(share_ok(asked, w, t), 3), round(share_ok(other, w, t), 3)]
                       for t in THRESHOLDS} for w in WEIGHTS}
    return {"takes": len(texts), "letters": len(asked),
            "asked_ok": round(share_ok(asked, cfg.decoder_weight, cfg.ok_score), 3),
            "other_ok": round(share_ok(other, cfg.decoder_weight, cfg.ok_score), 3), "grid": grid,
            "centre_offset_s": {"median": round(float(np.median(offsets)), 3),
                                "p90": round(float(np.percentile(offsets, 90)), 3)},
            "judge_s": {"median": round(float(np.median(seconds)), 3), "max": round(float(np.max(seconds)), 3)}}


def _real(rec, settings, root: str, cache: Path, seed: int, progress: bool) -> dict:
    """Each real word recording against its own word and another of its length: share ok per signer."""
    from tqdm import tqdm

    from asl_gpt.recognition.practice import judge
    from asl_gpt.training.real import item_sample, list_set

    items = [i for i in list_set(root) if i.kind == "word"]
    pool = sorted({i.label for i in items})
    rng = np.random.default_rng(seed)
    rows = []
    for item in tqdm(items, desc="real words", unit="video", disable=not progress):
        s = item_sample(item, cache)
        aspect = s.aspect or 1.0
        other = other_word(item.label, pool, rng)
        a = judge(item.label, s.frames, s.times_ms, rec, aspect, options=settings.practice)
        b = judge(other, s.frames, s.times_ms, rec, aspect, options=settings.practice)
        rows.append({"file": item.rel, "signer": item.signer, "word": item.label, "other": other,
                     "asked_ok": a.share_ok, "other_ok": b.share_ok,
                     "asked": "".join(v.letter if v.ok else "_" for v in a.letters),
                     "read_as": "".join(v.read_as for v in a.letters)})
    per_signer = {}
    for k in sorted({r["signer"] for r in rows}):
        mine = [r for r in rows if r["signer"] == k]
        per_signer[k] = {"videos": len(mine), "asked_ok": round(float(np.mean([r["asked_ok"] for r in mine])), 3),
                         "other_ok": round(float(np.mean([r["other_ok"] for r in mine])), 3)}
    overall = {"videos": len(rows), "asked_ok": round(float(np.mean([r["asked_ok"] for r in rows])), 3),
               "other_ok": round(float(np.mean([r["other_ok"] for r in rows])), 3)}
    return {"per_signer": per_signer, "overall": overall, "videos": rows}


def run(args, settings) -> int:
    from asl_gpt.benchmarks import machine_description
    from asl_gpt.recognition.recognizer import build_recognizer
    from asl_gpt.training.real import default_cache_dir

    rec = build_recognizer(settings, args.model)
    cfg = settings.practice
    out: dict = {"model": rec.contract.name, "config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__}}
    print(f"machine: {machine_description()}")
    print(f"model {rec.path.name}; ok at score >= {cfg.ok_score}, decoder weight {cfg.decoder_weight}")
    if args.synth:
        out["synth"] = _synth(rec, settings, args.synth, args.seed, not args.no_progress)
        for kind in ("words", "letters"):
            s = out["synth"][kind]
            print(f"synthetic held-out {kind} (signer {out['synth']['signer']}, {s['takes']} takes, {s['letters']} "
                  f"letters): asked ok {s['asked_ok']:.3f}, another ok {s['other_ok']:.3f}; letter centres off by "
                  f"{s['centre_offset_s']['median']} s (median), {s['centre_offset_s']['p90']} s (90th percentile); "
                  f"judged in {s['judge_s']['median']} s (median), {s['judge_s']['max']} s at most")
            print("  share ok, asked / another, by decoder weight (rows) and threshold (columns):")
            print("  weight " + "".join(f"{t:>13g}" for t in THRESHOLDS))
            for w, row in s["grid"].items():
                print(f"  {w:>6} " + "".join(f"{a:>7.2f}/{b:<5.2f}" for a, b in row.values()))
    if args.dir:
        cache = Path(args.cache) if args.cache else default_cache_dir(settings)
        r = out["real"] = _real(rec, settings, args.dir, cache, args.seed, not args.no_progress)
        print(f"real recordings {args.dir}:")
        print(f"  {'file':<14} {'signer':<7} {'word':<6} {'judged':<6} {'read as':<8} {'other':<6} {'ok':>5} {'other':>6}")
        for v in r["videos"]:
            print(f"  {v['file']:<14} {v['signer']:<7} {v['word']:<6} {v['asked']:<6} {v['read_as']:<8} "
                  f"{v['other']:<6} {v['asked_ok']:>5.2f} {v['other_ok']:>6.2f}")
        print(f"  {'signer':<8} {'videos':>6} {'asked ok':>9} {'other ok':>9}")
        for k, g in [*r["per_signer"].items(), ("overall", r["overall"])]:
            print(f"  {k:<8} {g['videos']:>6} {g['asked_ok']:>9.3f} {g['other_ok']:>9.3f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


