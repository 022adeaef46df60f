"""Real recorded fingerspelling as an evaluation set: videos (or landmark files) named by their label.

The layout is the one `scripts/get_real_words.sh` writes (`test_word_original/WORD.mp4`,
`test_original/L_k.mp4` with k the signer), but any folder of `LABEL.mp4` / `LABEL_SIGNER.mp4`
videos or competition-layout `.parquet` landmark files works, so a user can score their own
recordings. Holistic landmarks of each video are cached as .npz (MediaPipe is the slow part, about
20 frames/s on two cores), keyed by the relative path, the file size and its mtime, so an edited or
replaced video is extracted again. The cache belongs in an ignored folder: landmarks of an
unlicensed set must never be committed.

Cache file format (`np.load`): `frames` float32[T, 543, 3] (competition order, NaN where a part is
missing), `times_ms` float64[T], `frame_wh` int[2] (the video's width and height), `source` (the
relative path), `extractor` (how it was made). Load them with `load_real_set(DIR, CACHE_DIR)`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asl_gpt.config import RecognizerConfig
from asl_gpt.errors import InputError

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")
LANDMARK_SUFFIXES = (".parquet",)
# What `asl-gpt recognize` feeds Holistic (pipeline.recognize_video): frames shrunk to 640 px, one
# tracking session per video. With the face mesh, so a model reading face columns is served too
# (hands and pose are the same graph either way).
MAX_SIDE = RecognizerConfig.max_side
EXTRACTOR = f"mediapipe holistic, model_complexity=1, video mode, face mesh, max_side={MAX_SIDE}"

# github.com/SakuraGone/ASL_Finger_Spelling: who spells each word video (by appearance; the letter
# clips carry the signer in their name, L_k.mp4). Any other word is an "unknown" signer.
WORD_SIGNERS: dict[str, str] = {
    **dict.fromkeys("all am are as ass at bad be but is".split(), "0"),
    **dict.fromkeys("else he her him how me was were when you".split(), "1"),
    **dict.fromkeys("boy girl his in mail male my on out she".split(), "2"),
    **dict.fromkeys("buy car cat cup dog halo oral pear test year".split(), "3"),
}
UNKNOWN = "unknown"
# The same repository's two word videos whose names say the other's word, known by name and size: AM.mp4 spells
# A-R-E (crossed fingers, then E) and ARE.mp4 spells A-M (palm down, fingers over the thumb), seen frame by frame.
# Scored against the names, signer 0's right "are" counted 0 and its "am" read "ap" 0.
RELABELLED: dict[tuple[str, int], str] = {("AM.mp4", 2029303): "are", ("ARE.mp4", 1539455): "am"}


@dataclass(frozen=True)
class RealItem:
    """One recording of the set, before its landmarks are read."""
    path: Path
    rel: str  # path relative to the set's folder (the cache key's first part)
    label: str  # lowercase reference text
    signer: str
    kind: str  # "word" | "letter"


@dataclass
class RealSample:
    path: Path
    label: str
    signer: str
    kind: str  # "word" | "letter"
    frames: np.ndarray  # float32[T, 543, 3], NaN where a part is missing
    times_ms: np.ndarray  # float64[T]
    frame_wh: tuple[int, int] | None = None  # the video's width, height (landmark x, y are fractions of
    #                                          each: portrait videos need the aspect); None for landmark files

    @property
    def aspect(self) -> float | None:
        """The frames' width / height, where known."""
        return self.frame_wh[0] / self.frame_wh[1] if self.frame_wh and self.frame_wh[1] else None


def parse_name(stem: str) -> tuple[str, str]:
    """File stem -> (label, signer). `L_k` names the signer k; a bare word is looked up in WORD_SIGNERS."""
    label, sep, signer = stem.rpartition("_")
    if not sep or not label or not signer:
        label, signer = stem, ""
    label = " ".join(label.lower().split())
    return label, signer or WORD_SIGNERS.get(label, UNKNOWN)


def list_set(root: str | Path) -> list[RealItem]:
    """Every video or landmark file under `root` (recursively), sorted: words first, then letters."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"evaluation folder not found: {root}")
    items = []
    for p in sorted(root.rglob("*")):
        if not p.is_file() or p.suffix.lower() not in VIDEO_SUFFIXES + LANDMARK_SUFFIXES:
            continue
        label, signer = parse_name(p.stem)
        if not label:
            continue
        label = RELABELLED.get((p.name, p.stat().st_size), label)
        kind = "letter" if len(label) == 1 else "word"
        items.append(RealItem(p, p.relative_to(root).as_posix(), label, signer, kind))
    if not items:
        raise InputError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) or landmark files (.parquet) in {root}")
    items.sort(key=lambda i: (i.kind != "word", i.rel))
    return items


def cache_file(item: RealItem, cache_dir: Path) -> Path:
    """Where this recording's landmarks are cached: relative path + size + mtime (a changed file misses)."""
    st = item.path.stat()
    rel = Path(item.rel)
    return Path(cache_dir) / rel.parent / f"{rel.name}.{st.st_size}-{int(st.st_mtime)}.npz"


def item_landmarks(item: RealItem, cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of one recording (frames, times_ms); see `item_sample` for the frame size too."""
    s = item_sample(item, cache_dir)
    return s.frames, s.times_ms


def video_wh(path: Path) -> tuple[int, int] | None:
    """The video's width and height from its header (None when unreadable)."""
    from asl_gpt.landmarks.video import probe

    info = probe(path)
    return (info.width, info.height) if info.width and info.height else None


def item_sample(item: RealItem, cache_dir: Path | None) -> RealSample:
    """One recording with its landmarks: a landmark file is read as is; a video goes through Holistic
    once and is cached."""
    def sample(frames, times, wh):
        return RealSample(item.path, item.label, item.signer, item.kind, frames, times, wh)

    if item.path.suffix.lower() in LANDMARK_SUFFIXES:
        from asl_gpt.landmarks.io import read_landmark_file  # the same reader as `asl-gpt recognize`

        return sample(*read_landmark_file(item.path), None)
    cache = cache_file(item, cache_dir) if cache_dir else None
    if cache is not None and cache.is_file():
        try:
            with np.load(cache) as d:
                wh = tuple(int(v) for v in d["frame_wh"]) if "frame_wh" in d.files else video_wh(item.path)
                wh = wh if wh and all(wh) else None
                return sample(d["frames"].astype(np.float32, copy=False),
                              d["times_ms"].astype(np.float64, copy=False), wh)
        except Exception as e:  # a truncated cache (killed writer) is extracted again
            log.warning("unreadable cache %s (%s): extracting again", cache, e)
    from asl_gpt.landmarks.holistic import extract_video

    frames, times = extract_video(item.path, max_side=MAX_SIDE)
    wh = video_wh(item.path)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.name + ".tmp.npz")  # never leave a half-written file under the real name
        np.savez_compressed(tmp, frames=frames.astype(np.float32), times_ms=np.asarray(times, np.float64),
                            frame_wh=np.array(wh or (0, 0), np.int32), source=np.array(item.rel),
                            extractor=np.array(EXTRACTOR))
        os.replace(tmp, cache)
        log.info("cached %d frames of %s in %s", len(frames), item.rel, cache)
    return sample(frames.astype(np.float32, copy=False), np.asarray(times, np.float64), wh)


def load_real_set(root: str | Path, cache_dir: str | Path | None, progress: bool = False,
                  kinds: tuple[str, ...] = ("word", "letter")) -> list[RealSample]:
    """Every recording of the set with its landmarks (extracting and caching those not yet cached)."""
    items = [i for i in list_set(root) if i.kind in kinds]
    it = items
    if progress:
        from tqdm import tqdm

        it = tqdm(items, desc="landmarks", unit="video")
    return [item_sample(i, Path(cache_dir) if cache_dir else None) for i in it]


def default_cache_dir(settings) -> Path:
    return settings.paths.state_dir / "cache" / "real-words"



# --- scoring what a user gets ---------------------------------------------------------------------

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def segment_readings(updates) -> list[tuple[str, float]]:
    """The raw reading of each segment, accepted or rejected, from the streaming updates in order
    (asl_gpt.recognition.streaming.Update): its final hypothesis (text, confidence); for a segment that ended without
    a final decode, its last partial."""
    out, open_ = [], None
    for u in updates:
        text, conf = " ".join(u.hypothesis.text.split()), float(u.hypothesis.confidence)
        if u.final:
            if text:
                out.append((text, conf))
            open_ = None
        else:
            open_ = (text, conf) if text else None
    if open_:
        out.append(open_)
    return out


@dataclass
class VideoRun:
    """One recording streamed through a RecognitionSession."""
    file: str
    label: str
    signer: str
    kind: str
    frames: int
    committed: str  # the committed utterances joined with spaces ('' when nothing was committed)
    raw: str  # every segment's final reading, rejected or not, joined with spaces
    raw_confidence: float  # the lowest confidence among those readings (0 when there are none)
    updates: list = field(default_factory=list, repr=False)  # every decode of the stream (streaming.Update)
    segments: int = 0  # segments the streaming recognizer closed with a final decode
    hand_frames: int = 0  # frames with a hand in view (a signer whose hands never leave it: one long segment)

    @property
    def score(self) -> float:
        return video_score(self.label, self.committed)

    @property
    def raw_score(self) -> float:
        return video_score(self.label, self.raw)


def video_score(label: str, text: str) -> float:
    """Normalized Levenshtein (N - D) / N of one recording (1 is perfect; can be negative)."""
    from asl_gpt.training.metrics import levenshtein

    n = len(label)
    return (n - levenshtein(label, text)) / n if n else float(text == label)


def run_sample(recognizer, sample: RealSample, stream_options, buffer_options, name: str | None = None) -> VideoRun:
    """Stream one recording through the app's path (pipeline.recognize_landmarks: RecognitionSession, streaming +
    buffer), deterministically: after each frame every scheduled decode runs and reaches the buffer at that
    frame's time, with the frame's aspect (width / height) where it is known."""
    from asl_gpt.recognition.pipeline import recognize_landmarks

    updates: list = []
    result = recognize_landmarks(sample.frames, sample.times_ms, recognizer, stream_options, buffer_options,
                                 aspect=sample.aspect, on_update=updates.append)
    committed = " ".join(u.text for u in result.utterances if u.text)
    readings = segment_readings(updates)
    return VideoRun(name or sample.path.name, sample.label, sample.signer, sample.kind, len(sample.frames), committed,
                    " ".join(t for t, _ in readings), min((c for _, c in readings), default=0.0), updates,
                    segments=sum(1 for u in updates if u.final), hand_frames=result.frames_with_hands)


def lcs(a: str, b: str) -> int:
    """Longest common subsequence: the characters of b that are right, in order."""
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if ca == cb else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def summarise(runs: list[VideoRun]) -> dict:
    """Figures of a group of recordings: committed text and raw readings, normalized total Levenshtein."""
    from asl_gpt.training import metrics

    refs = [r.label for r in runs]
    c = metrics.score(refs, [r.committed for r in runs])
    raw = metrics.score(refs, [r.raw for r in runs])
    edits: dict = {}
    for r in runs:
        edits = metrics.add_operations(edits, metrics.edit_operations(r.label, r.committed))
    return {"videos": len(runs), "chars": c.chars, "score": round(c.score, 4), "exact": round(c.exact, 4), "edits": edits,
            "committed_videos": sum(bool(r.committed) for r in runs),
            "mean_video_score": round(float(np.mean([r.score for r in runs])), 4) if runs else None,
            "raw_score": round(raw.score, 4), "raw_exact": round(raw.exact, 4)}


def reliability_row(labels: list[str], texts: list[str], threshold: float) -> dict:
    """How much of what is committed at one threshold is right, and how much gets committed."""
    committed = [(lab, t) for lab, t in zip(labels, texts) if t]
    chars = sum(len(t) for _, t in committed)
    right_chars = sum(lcs(lab, t) for lab, t in committed)
    right_videos = sum(lab == t for lab, t in committed)
    from asl_gpt.training import metrics

    return {"threshold": round(threshold, 4), "videos": len(labels), "committed_videos": len(committed),
            "coverage": round(len(committed) / len(labels), 4) if labels else None,
            "right_videos": right_videos,
            "video_precision": round(right_videos / len(committed), 4) if committed else None,
            "committed_chars": chars, "right_chars": right_chars,
            "char_precision": round(right_chars / chars, 4) if chars else None,
            "char_coverage": round(right_chars / max(1, sum(len(lab) for lab in labels)), 4),
            "score": round(metrics.score(labels, texts).score, 4) if labels else None}


def reliability(runs_at: dict[float, list[VideoRun]]) -> list[dict]:
    """The reliability table from the recordings streamed once per threshold. Each row is its own run:
    the threshold decides what a pause commits, and a commit cuts the open segment (streaming.cut), so
    the later readings differ too; replaying one run's hypotheses would not say what a user gets."""
    return [reliability_row([r.label for r in runs], [r.committed for r in runs], thr)
            for thr, runs in sorted(runs_at.items())]


def letter_confusion(runs: list[VideoRun]) -> dict[str, dict]:
    """Per letter of the single-letter clips: how many, how many committed right, and what the rest were read as
    ('' = nothing committed) -> {letter: {"clips", "right", "read": {text: count}}}, letters in order."""
    out: dict[str, dict] = {}
    for r in sorted(runs, key=lambda r: r.label):
        row = out.setdefault(r.label, {"clips": 0, "right": 0, "read": {}})
        row["clips"] += 1
        if r.committed == r.label:
            row["right"] += 1
        else:
            row["read"][r.committed] = row["read"].get(r.committed, 0) + 1
    return out


def evaluate_real(recognizer, root: str | Path, cache_dir: Path | None, stream_options, buffer_options,
                  thresholds=THRESHOLDS, kinds: tuple[str, ...] = ("word", "letter"), progress: bool = True,
                  variant=None, loader=None, reliability_table: bool = True) -> dict:
    """Every recording of the set through the app's recognition path; figures per kind, signer and overall.
    `variant`: RealSample -> RealSample applied to each recording first (asl_gpt.training.variants).
    `loader`: RealItem -> RealSample in place of the cached Holistic landmarks of the recording as it is
    (asl_gpt.training.framing: the recording reframed at the pixel level). `reliability_table` False: the
    recordings are streamed once, at the buffer's threshold (the table streams them once per threshold).

    Returns JSON-ready figures: per kind ("word", "letter") overall, per signer and the reliability table;
    `videos` one row per recording."""
    items = [i for i in list_set(root) if i.kind in kinds]
    if not items:
        raise InputError(f"no {' or '.join(kinds)} recordings in {root}")
    it = items
    if progress:
        from tqdm import tqdm

        it = tqdm(items, desc="real recordings", unit="video")
    samples = [(item, loader(item) if loader else item_sample(item, cache_dir)) for item in it]
    if variant is not None:
        samples = [(item, variant(s)) for item, s in samples]

    def run_all(options) -> list[VideoRun]:
        return [run_sample(recognizer, s, stream_options, options, name=item.rel) for item, s in samples]

    runs = run_all(buffer_options)
    model_thr = float(recognizer.contract.min_confidence)
    all_thr = sorted({round(float(t), 4) for t in (tuple(thresholds) if reliability_table else ())
                      + (model_thr, float(buffer_options.min_confidence))})
    from dataclasses import replace

    thr_it = all_thr
    if progress:
        from tqdm import tqdm

        thr_it = tqdm(all_thr, desc="reliability thresholds", unit="threshold")
    runs_at = {thr: runs if thr == round(float(buffer_options.min_confidence), 4)
               else run_all(replace(buffer_options, min_confidence=thr)) for thr in thr_it}
    out: dict = {"dir": str(root), "threshold": float(buffer_options.min_confidence), "model_threshold": model_thr,
                 "kinds": {}}
    for kind in ("word", "letter"):
        group = [r for r in runs if r.kind == kind]
        if not group:
            continue
        signers = sorted({r.signer for r in group}, key=lambda s: (s == UNKNOWN, s))
        out["kinds"][kind] = {
            "overall": summarise(group),
            "per_signer": {s: summarise([r for r in group if r.signer == s]) for s in signers},
            "reliability": reliability({t: [r for r in rs if r.kind == kind] for t, rs in runs_at.items()}),
        }
        if kind == "letter":
            out["kinds"][kind]["confusion"] = letter_confusion(group)
    out["videos"] = [{"file": r.file, "label": r.label, "signer": r.signer, "kind": r.kind,
                      "frames": r.frames, "committed": r.committed, "score": round(r.score, 4), "raw": r.raw,
                      "raw_confidence": round(r.raw_confidence, 4), "raw_score": round(r.raw_score, 4),
                      "segments": r.segments, "hand_frames": r.hand_frames}
                     for r in runs]
    return out

if __name__ == "__main__":  # python -m asl_gpt.training.real DIR [CACHE]: fill the cache (background job)
    import sys

    from asl_gpt.config import load_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    d = sys.argv[1] if len(sys.argv) > 1 else "var/real-words"
    c = Path(sys.argv[2]) if len(sys.argv) > 2 else default_cache_dir(load_settings())
    samples = load_real_set(d, c, progress=True)
    print(f"{len(samples)} recordings, {sum(len(s.frames) for s in samples)} frames cached in {c}")
