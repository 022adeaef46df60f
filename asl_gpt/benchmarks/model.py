"""The recognizer model alone: inference time per window (LiteRT) and its size."""

from __future__ import annotations

import argparse

from asl_gpt.config import add_model_argument


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_argument(p)
    p.add_argument("--repeat", type=int, default=50, help="timed windows (median reported)")
    p.add_argument("--threads", type=int, help="LiteRT threads (default: settings)")


def run(args, settings) -> int:
    from asl_gpt.benchmarks import machine_description
    from asl_gpt.recognition.recognizer import build_recognizer
    from asl_gpt.training.evaluate import latency  # numpy + LiteRT only, no torch

    threads = args.threads or settings.recognizer.threads
    rec = build_recognizer(settings, args.model, threads)
    c = rec.contract
    params = c.metadata.get("parameters")
    lat = latency(rec, n=args.repeat)
    print(f"machine: {machine_description()}")
    print(f"model {rec.path}: {rec.path.stat().st_size / 1e6:.2f} MB"
          + (f", {params / 1e6:.2f} M parameters" if params else "")
          + f", window {c.window} frames x {c.features.n_features} features ({c.feature_kind}, from {len(c.columns)} columns), "
            f"up to {c.max_output} characters")
    print(f"LiteRT, {threads} thread(s), median of {lat['repeats']}: encode {lat['encode_ms']} ms, "
          f"decode of 12 characters {lat['decode_12_chars_ms']} ms, one window {lat['window_ms']} ms")
    _whole_decode(rec, settings, args.repeat)
    return 0


def _whole_decode(rec, settings, repeat: int) -> None:
    """A whole `recognize` call as the stream makes it (features, encode, greedy decode, word-aware
    rescoring, the lexicon beam), on 3- to 5-letter words and names spelled with the held-out signer's real
    handshapes (a name English lacks is what makes the lexicon beam run)."""
    import time

    import numpy as np

    data = settings.paths.data_dir
    if not (data / "massey").is_dir():
        print(f"whole decode: skipped (no handshapes in {data} to spell words with)")
        return
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER, load_bank
    from asl_gpt.training.synth import SynthOptions, Synthesizer, load_body_frames

    syn = Synthesizer(load_bank(data).only([HELD_OUT_SIGNER]), load_body_frames(data), SynthOptions(negative_rate=0.0))
    rng = np.random.default_rng(0)
    words = ("cat", "help", "where", "sign", "deaf", "learn", "name", "book", "priya", "kenji", "tiago", "zorblat")
    samples = [syn.sample(rng, text=words[i % len(words)], signer=HELD_OUT_SIGNER) for i in range(max(12, repeat // 4))]
    weight, beam = rec.word_weight, rec.beam
    for label, w, b in (("letters only", 0.0, 0), (f"word-aware (weight {weight}), one-edit neighbours", weight, 0),
                        (f"word-aware + lexicon beam {beam}", weight, beam)):
        rec.word_weight, rec.beam = w, b
        for s in samples:  # warm: the English list and the lexicon's prefixes load once, on first use
            rec.recognize(s.frames, aspect=s.aspect)
        times = []
        for s in samples:
            t0 = time.perf_counter()
            rec.recognize(s.frames, aspect=s.aspect)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"whole decode of a spelled word, {label}: median {np.median(times):.1f} ms, max {max(times):.1f} ms "
              f"over {len(times)} words")
    rec.word_weight, rec.beam = weight, beam
