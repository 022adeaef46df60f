"""`asl-gpt eval --model models/NAME --data synth|real-words DIR|letters FILE.npz|DIR`: a model's figures
through the runtime (LiteRT)."""

from __future__ import annotations

import argparse

from asl_gpt.config import add_model_argument


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_argument(p)
    p.add_argument("--data", default="synth",
                   help="'synth': the held-out signer's handshapes + silence on the signing videos; "
                        "'real-words DIR': real recordings named by their label (LABEL.mp4, LABEL_SIGNER.mp4 or "
                        ".parquet landmarks) streamed as the app streams them; 'letters FILE.npz': single "
                        "letters of a static handshape set (X N x 21 x 3, y, names); "
                        "or a competition-layout folder (scored on --fold)")
    p.add_argument("source", nargs="?", help="the folder (real-words) or .npz file (letters)")
    p.add_argument("--min-confidence", type=float,
                   help="real-words: the buffer's confidence threshold (default: the model's)")
    p.add_argument("--cache", help="real-words: landmark cache folder (default: STATE_DIR/cache/real-words)")
    p.add_argument("--only", choices=["word", "letter"], help="real-words: score only word videos or letter clips")
    p.add_argument("--speed", type=int, default=1, metavar="K",
                   help="real-words: every K-th frame at the same frame rate (spelling K times as fast)")
    p.add_argument("--ordinary", action="store_true",
                   help="real-words: each recording as ordinary use looks: small in a landscape frame, wrapped in "
                        "a rise from rest and a drop to rest (asl_gpt/training/variants.py)")
    p.add_argument("--framing", choices=["original", "webcam", "far"],
                   help="real-words: each video reframed at the pixel level as a laptop camera sees it (webcam: "
                        "16:9 head and shoulders; far: the same, the hand 55 px wide) and read by Holistic again; "
                        "original: the video as it is, read the same way (every 3rd frame, held), to compare "
                        "(asl_gpt/training/framing.py; landmarks cached under --cache)")
    p.add_argument("--no-reliability", action="store_true",
                   help="real-words: stream the recordings once, at the buffer's threshold (no reliability table)")
    p.add_argument("--signer", help="letters: score only this signer")
    p.add_argument("--frame", default="600x600",
                   help="letters: WxH of the frame the hand detector saw (Massey: 400x400 photos padded to 600x600)")
    p.add_argument("--mirror", action="store_true", help="letters: the set was taken from a mirrored camera")
    p.add_argument("--hold-frames", type=int, default=30, help="letters: frames each letter is held (30 fps)")
    p.add_argument("--lead-frames", type=int, default=0,
                   help="letters: frames without the hand before and after the hold (default 0: the segment "
                        "the streaming recognizer submits starts and ends with the hand in view)")
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
    from asl_gpt.recognition.recognizer import build_recognizer
    from asl_gpt.training import evaluate as ev

    rec = build_recognizer(settings, args.model)
    if args.data in ("real-words", "letters"):
        out = {"model": str(rec.path)}
        out.update((_real_words if args.data == "real-words" else _letters)(rec, args, settings))
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
            print(f"wrote {args.json}")
        if args.record:
            _record_real(rec, out, args)
        return 0
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
        print(f"  letter by letter (before the word prior): {h['phrases']['raw_normalized_levenshtein']:.3f}, "
              f"exact {h['phrases']['raw_exact']:.3f}")
        out["at_pace"] = a = ev.held_out_at_pace(rec, data_dir, settings.paths.knowledge_dir, args.phrases,
                                                 progress=not args.no_progress)
        print(f"held-out signer {h['signer']}, every phrase signed at pace (short letters, letters in motion, "
              f"passing shapes): normalized Levenshtein {a['normalized_levenshtein']:.3f}, exact {a['exact']:.3f}")
        out["names"] = n = ev.names(rec, data_dir, progress=not args.no_progress)
        print(f"names and rare words ({n['readings']} readings of {len(ev.NAMES)}): right {n['right']} "
              f"(letter by letter {n['raw_right']}); broken by the word prior {len(n['broken'])}"
              + "".join(f"  {r['word']}->{r['text']}" for r in n["broken"]) + f"; fixed {len(n['fixed'])}")
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


def _record_real(rec, figures: dict, args) -> None:
    """Keep the real-signer figures with the model (scores only: never the recordings or their landmarks)."""
    import dataclasses
    import datetime
    import sys

    from asl_gpt.recognition.contract import ModelContract

    path = rec.path.with_suffix(".json")
    c = ModelContract.load(path)
    summary: dict = {"date": datetime.date.today().isoformat(),
                     "command": "asl-gpt " + " ".join(a for a in sys.argv[1:] if a != "--record")}
    if "real_words" in figures:
        r = figures["real_words"]
        summary["threshold"] = r["threshold"]
        summary["kinds"] = {k: {"overall": v["overall"], "per_signer": v["per_signer"], "reliability": v["reliability"]}
                            for k, v in r["kinds"].items()}
    else:
        summary["letters"] = {k: v for k, v in figures["letters"].items() if k != "per_letter"}
    meta = dict(c.metadata)
    meta.setdefault("real_evaluation", {})[args.data] = summary
    dataclasses.replace(c, metadata=meta).save(path)
    print(f"recorded the figures in {path}")


def _record(rec, figures: dict, args) -> None:
    """Keep the headline figures with the model: they travel in its contract."""
    import datetime

    from asl_gpt.recognition.contract import ModelContract

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
    if "at_pace" in figures:
        summary["phrases_at_pace"] = {k: v for k, v in figures["at_pace"].items() if k != "examples"}
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


def _real_words(rec, args, settings) -> dict:
    """Real recordings through the app's streaming + buffer path; prints the tables, returns the figures."""
    from pathlib import Path

    from asl_gpt.errors import InputError
    from asl_gpt.recognition.pipeline import buffer_options, stream_options
    from asl_gpt.training import real

    if not args.source:
        raise InputError("--data real-words needs a folder: asl-gpt eval --data real-words DIR "
                         "(scripts/get_real_words.sh fetches one into var/real-words)")
    bo = buffer_options(settings, rec, args.min_confidence)
    threshold = bo.min_confidence
    cache = Path(args.cache) if args.cache else real.default_cache_dir(settings)
    kinds = (args.only,) if args.only else ("word", "letter")
    loader = None
    if args.framing:
        from asl_gpt.training import framing

        def loader(item):
            return framing.framed_sample(item, args.framing, cache / "framing")
    out = real.evaluate_real(rec, args.source, cache, stream_options(settings), bo,
                             kinds=kinds, progress=not args.no_progress, variant=_variant(args, settings, cache),
                             loader=loader, reliability_table=not args.no_reliability)
    out["variant"] = {"speed": args.speed, "ordinary": args.ordinary, "framing": args.framing}
    print(f"model {rec.contract.name}: buffer threshold {threshold:.2f} (the model's own {out['model_threshold']:.2f}); "
          f"committed utterances scored by normalized Levenshtein (N-D)/N; raw = every segment's final reading")
    for kind, fig in out["kinds"].items():
        runs = [v for v in out["videos"] if v["kind"] == kind]
        print(f"\n{kind}s: {len(runs)} recordings")
        print(f"  {'label':<8} {'signer':<7} {'committed':<16} {'score':>6}   {'raw reading':<16} {'conf':>5} "
              f"{'raw':>6} {'segs':>4} {'hands':>9}  file")
        for v in runs:
            print(f"  {v['label']:<8} {v['signer']:<7} {_cut(v['committed']) or '-':<16} {v['score']:>6.3f}   "
                  f"{_cut(v['raw']) or '-':<16} {v['raw_confidence']:>5.2f} {v['raw_score']:>6.3f} {v['segments']:>4} "
                  f"{v['hand_frames']:>4}/{v['frames']:<4}  {v['file']}")
        print(f"  {'signer':<8} {'videos':>6} {'score':>7} {'exact':>6} {'committed':>9} {'raw score':>9} {'raw exact':>9}")
        for name, g in [*fig["per_signer"].items(), ("overall", fig["overall"])]:
            print(f"  {name:<8} {g['videos']:>6} {g['score']:>7.3f} {g['exact']:>6.3f} "
                  f"{g['committed_videos']:>4}/{g['videos']:<4} {g['raw_score']:>9.3f} {g['raw_exact']:>9.3f}")
        print("  edits of the committed text (insert / delete / substitute, each at the start, inside, the end):")
        for name, g in [*fig["per_signer"].items(), ("overall", fig["overall"])]:
            e = g["edits"]
            print(f"  {name:<8} " + "   ".join(f"{op[:3]} {e[op]['start']:>2} {e[op]['inside']:>2} {e[op]['end']:>2}"
                                              for op in ("insert", "delete", "substitute")))
        print(f"  reliability ({kind}s; the recordings streamed again through the session at each threshold):")
        print(f"  {'threshold':>9} {'committed':>11} {'coverage':>8} {'right':>9} {'chars right':>13} "
              f"{'char prec':>9} {'score':>7}")
        for r in fig["reliability"]:
            mark = " *" if abs(r["threshold"] - out["model_threshold"]) < 1e-9 else ""
            print(f"  {r['threshold']:>9.2f} {r['committed_videos']:>5}/{r['videos']:<5} {r['coverage']:>8.3f} "
                  f"{r['right_videos']:>4}/{r['committed_videos']:<4} {r['right_chars']:>6}/{r['committed_chars']:<6} "
                  f"{_num(r['char_precision']):>9} {r['score']:>7.3f}{mark}")
    if "confusion" in out["kinds"].get("letter", {}):
        print("\nletter clips per letter (right / clips; what the others committed, '-' = nothing):")
        for letter, row in out["kinds"]["letter"]["confusion"].items():
            misread = ", ".join(f"{t or '-'} x{n}" if n > 1 else (t or "-") for t, n in sorted(row["read"].items()))
            print(f"  {letter:<3} {row['right']}/{row['clips']}  {misread}")
    print("\n(* the model's own threshold; right = committed text equal to the label; char prec = right "
          "characters (longest common subsequence) over committed characters)")
    return {"real_words": out}


def _variant(args, settings, cache):
    """The variant of each recording that --speed / --ordinary ask for (None: as recorded)."""
    from asl_gpt.errors import InputError
    from asl_gpt.training import variants

    if args.speed < 1:
        raise InputError("--speed must be 1 or more")
    passing = None
    if args.ordinary:
        passing = variants.signing_video_shapes(settings.paths.data_dir, cache.parent)
        if not len(passing):
            raise InputError(f"--ordinary needs the signing videos of {settings.paths.data_dir / 'signing-video'}")
    if args.speed == 1 and passing is None:
        return None

    def variant(sample):
        sample = variants.faster(sample, args.speed)
        return variants.ordinary(sample, passing) if passing is not None else sample

    return variant


def _letters(rec, args, settings) -> dict:
    """Single still letters of a handshape set, through the runtime recognizer."""
    from asl_gpt.errors import InputError
    from asl_gpt.landmarks.io import read_parquet
    from asl_gpt.training import letter_eval as letters

    if not args.source:
        raise InputError("--data letters needs a handshape file: asl-gpt eval --data letters FILE.npz")
    try:
        w, h = (float(v) for v in args.frame.lower().split("x"))
    except ValueError:
        raise InputError(f"--frame must be WIDTHxHEIGHT, e.g. 600x600 (got {args.frame!r})") from None
    if args.hold_frames < 1 or args.lead_frames < 0:
        raise InputError("--hold-frames must be at least 1 and --lead-frames at least 0")
    hands = letters.load_handshapes(args.source, (w, h), mirror=args.mirror, signer=args.signer)
    body_file = settings.paths.data_dir / "seed-capture" / "output_landmarks.parquet"
    if not body_file.is_file():
        raise InputError(f"the body capture {body_file} is missing (set ASL_GPT_PATHS_DATA_DIR to a copy of the data)")
    opts = letters.StillOptions(frames=args.hold_frames, lead_frames=args.lead_frames)
    out = letters.evaluate_letters(rec, hands, read_parquet(body_file), opts, progress=not args.no_progress)
    L = out["letters"]
    L.update({"file": str(args.source), "frame": [w, h], "hold_frames": args.hold_frames,
              "lead_frames": args.lead_frames})
    print(f"model {rec.contract.name}: {L['samples']} still letters from {args.source}"
          + (f" (signer {args.signer})" if args.signer else ""))
    print(f"  accuracy {L['accuracy']:.3f} (right and confident >= {L['threshold']:.2f}: {L['accuracy_and_confident']:.3f})")
    for name, g in L["per_signer"].items():
        print(f"  {name:<10} {g['samples']:>5} letters  accuracy {g['accuracy']:.3f}  "
              f"right and confident {g['accuracy_and_confident']:.3f}")
    print("  per letter: " + "  ".join(f"{c} {a:.2f}" for c, a in L["per_letter"].items()))
    worst = [f"{c}->{'/'.join(k or '(nothing)' for k in v)}" for c, v in L["confusions"].items()]
    if worst:
        print("  most often read instead: " + ", ".join(worst))
    return out


def _cut(text: str, n: int = 16) -> str:
    return text if len(text) <= n else text[: n - 1] + "~"


def _num(x) -> str:
    return "-" if x is None else f"{x:.3f}"
