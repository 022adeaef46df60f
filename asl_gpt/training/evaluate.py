"""Evaluate an exported model through the runtime path (LiteRT via asl_gpt.recognition.recognizer, never torch).

Three evaluations:
- held-out signer (synth): single letters and synthesised phrases spelled with the real handshapes
  of the Massey signer kept out of training (handshapes.HELD_OUT_SIGNER);
- silence: the real signing videos (isolated signs, no fingerspelling) streamed the way the app
  streams them; the share of decodes whose confidence stays below the model's threshold;
- competition: a fold of the competition's own data, with its metric.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from asl_gpt.training import metrics

log = logging.getLogger(__name__)


def _progress(it, on: bool, **kw):
    if not on:
        return it
    from tqdm import tqdm

    return tqdm(it, **kw)


def held_out_synth(recognizer, data_dir: Path, knowledge_dir: Path | None = None, letters_per_class: int = 8,
                   phrases: int = 150, seed: int = 1234, progress: bool = True) -> dict:
    """Letter accuracy and phrase normalised Levenshtein on the held-out signer's handshapes."""
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER

    # pace_rate 0: the benchmark as it was before signing at pace was synthesised (held_out_at_pace has that)
    syn = _held_out_synthesizer(data_dir, knowledge_dir, pace_rate=0.0)
    bank = syn.bank
    thr = recognizer.contract.min_confidence
    rng = np.random.default_rng(seed)
    classes = sorted(c for c in set(bank.labels.tolist()) if c.isalpha())
    right = confident_right = total = 0
    per_letter: dict[str, float] = {}
    for c in _progress(classes, progress, desc="letters", unit="letter"):
        ok = 0
        for _ in range(letters_per_class):
            s = syn.sample(rng, text=c, signer=HELD_OUT_SIGNER, negative=False)
            h = recognizer.recognize(s.frames, aspect=s.aspect)
            ok += h.text == c
            confident_right += h.text == c and h.confidence >= thr
        per_letter[c] = ok / letters_per_class
        right += ok
        total += letters_per_class
    return {
        "signer": HELD_OUT_SIGNER, "threshold": thr,
        "letters": {"classes": len(classes), "samples": total, "accuracy": round(right / total, 4),
                    "accuracy_and_confident": round(confident_right / total, 4),
                    "per_letter": {k: round(v, 3) for k, v in per_letter.items()}},
        "phrases": _phrases(recognizer, syn, rng, phrases, progress),
    }


def held_out_at_pace(recognizer, data_dir: Path, knowledge_dir: Path | None = None, phrases: int = 150,
                     seed: int = 1234, progress: bool = True) -> dict:
    """The held-out signer's phrases all signed at pace (synth.SynthOptions.pace_rate 1: short letters, letters
    formed in motion, blur, transitions through other letters' shapes)."""
    syn = _held_out_synthesizer(data_dir, knowledge_dir, pace_rate=1.0)
    return _phrases(recognizer, syn, np.random.default_rng(seed), phrases, progress)


def _held_out_synthesizer(data_dir: Path, knowledge_dir: Path | None, pace_rate: float):
    """Phrases of the held-out signer's real handshapes (no negatives), this share of them signed at pace."""
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER, load_bank
    from asl_gpt.training.synth import SynthOptions, Synthesizer, load_body_frames, vocabulary

    return Synthesizer(load_bank(data_dir).only([HELD_OUT_SIGNER]), load_body_frames(data_dir),
                       SynthOptions(negative_rate=0.0, pace_rate=pace_rate), words=vocabulary(knowledge_dir))


def _phrases(recognizer, syn, rng: np.random.Generator, phrases: int, progress: bool) -> dict:
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER

    refs, preds, raws, confs = [], [], [], []
    for _ in _progress(range(phrases), progress, desc="phrases", unit="phrase"):
        s = syn.sample(rng, signer=HELD_OUT_SIGNER, negative=False)
        h = recognizer.recognize(s.frames, aspect=s.aspect)
        refs.append(s.text)
        preds.append(h.text)
        raws.append(h.raw_text or h.text)
        confs.append(h.confidence)
    sc = metrics.score(refs, preds)
    raw_sc = metrics.score(refs, raws)
    return {**sc.as_dict(), "mean_confidence": round(float(np.mean(confs)), 4),
            "raw_normalized_levenshtein": raw_sc.as_dict()["normalized_levenshtein"],
            "raw_exact": raw_sc.as_dict()["exact"],
            "examples": [{"ref": r, "pred": p} for r, p in list(zip(refs, preds))[:8]]}


# Names and rare words a user may spell (people and places of the knowledge base, names English lacks):
# the word prior must leave them as read when their letters were read surely.
NAMES = ("gallaudet clerc hartford cogswell stokoe zinser laurent spilman sicard croneberg bassett battison "
         "auslan banzsl quebec elisabeth karina kevon marta jalen priya tobias nadia dmitri ravi yusuf keanu "
         "lorenzo imani olek").split()


def names(recognizer, data_dir: Path, words: list[str] = list(NAMES), per_word: int = 2, seed: int = 4321,
          progress: bool = True) -> dict:
    """Each word spelled `per_word` times with the held-out signer's handshapes: read letter by letter (raw),
    and after the word prior. `broken`: read right letter by letter, changed by the prior; `fixed`: the reverse."""
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER, load_bank
    from asl_gpt.training.synth import SynthOptions, Synthesizer, load_body_frames

    syn = Synthesizer(load_bank(data_dir).only([HELD_OUT_SIGNER]), load_body_frames(data_dir),
                      SynthOptions(negative_rate=0.0))
    rng = np.random.default_rng(seed)
    rows = []
    for w in _progress(words, progress, desc="names", unit="word"):
        for _ in range(per_word):
            s = syn.sample(rng, text=w, signer=HELD_OUT_SIGNER, negative=False)
            h = recognizer.recognize(s.frames, aspect=s.aspect)
            rows.append({"word": w, "raw": h.raw_text, "text": h.text})
    n = len(rows)
    count = lambda f: sum(1 for r in rows if f(r))  # noqa: E731
    return {"readings": n, "raw_right": count(lambda r: r["raw"] == r["word"]),
            "right": count(lambda r: r["text"] == r["word"]),
            "broken": [r for r in rows if r["raw"] == r["word"] != r["text"]],
            "fixed": [r for r in rows if r["raw"] != r["word"] == r["text"]],
            "changed": count(lambda r: r["raw"] != r["text"])}


def video_landmarks(video: Path, cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Holistic landmarks of a video, cached as .npz (MediaPipe is the slow part)."""
    from asl_gpt.landmarks.holistic import extract_video

    cache = cache_dir / f"{video.stem}.landmarks.npz" if cache_dir else None
    if cache and cache.is_file() and cache.stat().st_mtime >= video.stat().st_mtime:
        d = np.load(cache)
        return d["frames"], d["times"]
    frames, times = extract_video(video)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, frames=frames, times=times)
    return frames, times


def silence(recognizer, videos: list[Path], cache_dir: Path | None = None, stride_frames: int = 8) -> dict:
    """Stream each video's landmarks as the app does; count decodes that stay silent (low confidence)."""
    from asl_gpt.recognition.streaming import StreamingRecognizer, StreamOptions

    thr = recognizer.contract.min_confidence
    per_video, silent, decodes = {}, 0, 0
    for v in videos:
        frames, times = video_landmarks(Path(v), cache_dir)
        sr = StreamingRecognizer(recognizer, StreamOptions(stride_frames=stride_frames))
        updates = []
        try:
            for f, t in zip(frames, times):
                updates += sr.push(float(t), f)
                sr.wait()  # evaluation: decode every scheduled window, none skipped while busy
            updates += sr.flush()
        finally:
            sr.close()
        quiet = sum(u.hypothesis.confidence < thr for u in updates)
        spoken = [u.hypothesis.text for u in updates if u.final and u.hypothesis.confidence >= thr]
        per_video[Path(v).stem] = {"frames": len(frames), "decodes": len(updates), "silent": quiet,
                                   "max_confidence": round(max((u.hypothesis.confidence for u in updates), default=0.0), 4),
                                   "committed_text": spoken}
        silent += quiet
        decodes += len(updates)
    return {"threshold": thr, "decodes": decodes, "silent": silent,
            "silence_rate": round(silent / decodes, 4) if decodes else None,
            "videos_without_output": sum(not d["committed_text"] for d in per_video.values()),
            "videos": per_video}


def seed_capture(recognizer, data_dir: Path) -> dict | None:
    """The one real Holistic capture of fingerspelling here (its phrase is unknown): what the model reads."""
    from asl_gpt.landmarks.io import read_parquet

    path = Path(data_dir) / "seed-capture" / "output_landmarks.parquet"
    if not path.is_file():
        return None
    h = recognizer.recognize(read_parquet(path))
    return {"file": str(path), "text": h.text, "confidence": round(h.confidence, 4)}


def competition(recognizer, data_dir: Path, fold: int = 0, limit: int = 0, progress: bool = True) -> dict:
    """The competition metric on one participant fold of the competition's data."""
    from asl_gpt.training.data import CompetitionSource, scan_competition

    infos = [i for i in scan_competition(data_dir) if i.fold == fold]
    if limit:
        infos = infos[:limit]
    src = CompetitionSource(infos)
    tok = recognizer.contract.tokenizer
    refs, preds = [], []
    for i in _progress(range(len(infos)), progress, desc=f"fold {fold}", unit="seq"):
        r = src.record(i)
        refs.append(tok.normalise(r.text)[:recognizer.contract.max_output])
        preds.append(recognizer.recognize(r.frames).text)
    return {"fold": fold, **metrics.score(refs, preds).as_dict()}


def latency(recognizer, n: int = 30, chars: int = 12) -> dict:
    """Encode time and full greedy decode time of one window (median ms) on this machine."""
    c = recognizer.contract
    rng = np.random.default_rng(0)
    x = rng.normal(size=(c.window, len(c.columns))).astype(np.float32)
    mask = np.ones(c.window, np.float32)
    enc, dec = [], []
    tokens = np.full((1, c.tokens_len), c.tokenizer.pad_id, np.int32)
    tokens[0, 0] = c.tokenizer.sos_id
    for _ in range(n):
        t0 = time.perf_counter()
        memory, memory_mask, _ = recognizer.encode(x, mask)
        t1 = time.perf_counter()
        for _ in range(chars + 1):  # one decode step per character plus EOS
            recognizer.decode_step(memory, memory_mask, tokens)
        t2 = time.perf_counter()
        enc.append((t1 - t0) * 1000)
        dec.append((t2 - t1) * 1000)
    return {"encode_ms": round(float(np.median(enc)), 2), f"decode_{chars}_chars_ms": round(float(np.median(dec)), 2),
            "window_ms": round(float(np.median(np.add(enc, dec))), 2), "repeats": n}
