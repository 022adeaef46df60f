"""Training data: the competition's own layouts, the synthesiser, and batches for the model.

Competition layout (Google "ASL Fingerspelling Recognition", and the 1st-place preprocessed set):
  DIR/train.csv and/or DIR/supplemental_metadata.csv: path, file_id, sequence_id, participant_id, phrase
  DIR/train_landmarks/<file_id>.parquet (and supplemental_landmarks/): one row per frame, indexed by
      sequence_id, columns frame, x_face_0 ... z_right_hand_20
  or DIR/train_landmarks_npy/<sequence_id>.npy: float[T, 390] in the 1st-place column order
      (kaggle-format inference_args.json), float[T, 1629] (all columns), or float[T, 543, 3]
Folds are split by participant. Every sample becomes model input through asl_gpt.recognition.features.prepare,
the same function the runtime calls.
"""

from __future__ import annotations

import csv
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.landmarks import layout
from asl_gpt.recognition.tokenizer import Tokenizer

log = logging.getLogger(__name__)

N_FOLDS = 4


@dataclass(frozen=True)
class Record:
    frames: np.ndarray  # float32[T, 543, 3]
    text: str
    group: str = ""  # signer / participant: CutMix stays within one
    kind: str = "spell"  # 'spell' or a negative kind (target: empty text, low confidence)
    char_times_ms: np.ndarray | None = None  # per character (synthesised data only)
    times_ms: np.ndarray | None = None  # per frame (synthesised data only)
    aux: float | None = None  # round-2 auxiliary target: round-1 out-of-fold score of this sequence
    key: str = ""  # sequence id
    aspect: float = 1.0  # frame width / height (landmark x and y are fractions of each)


@dataclass(frozen=True)
class SequenceInfo:
    sequence_id: str
    participant_id: str
    phrase: str
    path: Path  # the parquet holding it, or its .npy
    fold: int


# --- the competition's layout -----------------------------------------------------------------------

def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def assign_folds(participants: list[str], n_folds: int = N_FOLDS) -> dict[str, int]:
    """Participants sorted, dealt round-robin into folds: every participant is in exactly one."""
    return {p: i % n_folds for i, p in enumerate(sorted(set(participants), key=lambda s: (len(s), s)))}


def scan_competition(data_dir: str | Path, n_folds: int = N_FOLDS) -> list[SequenceInfo]:
    data_dir = Path(data_dir)
    rows: list[dict] = []
    for name in ("train.csv", "supplemental_metadata.csv"):
        if (data_dir / name).is_file():
            rows += _read_csv(data_dir / name)
    if not rows:
        raise FileNotFoundError(f"no train.csv or supplemental_metadata.csv in {data_dir}")
    npy_dir = data_dir / "train_landmarks_npy"
    folds = assign_folds([r["participant_id"] for r in rows], n_folds)
    out = []
    for r in rows:
        sid = str(r["sequence_id"])
        npy = npy_dir / f"{sid}.npy"
        path = npy if npy.is_file() else data_dir / r["path"]
        out.append(SequenceInfo(sid, str(r["participant_id"]), r["phrase"], path, folds[r["participant_id"]]))
    return out


def _npy_to_frames(arr: np.ndarray, columns: tuple[str, ...]) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[1:] == (layout.N_POINTS, 3):
        return arr
    if arr.ndim == 2 and arr.shape[1] == layout.N_POINTS * 3:
        return arr.reshape(len(arr), 3, layout.N_POINTS).transpose(0, 2, 1).copy()
    if arr.ndim == 2 and arr.shape[1] == len(columns):
        frames = layout.empty_frames(len(arr))
        rows, axes = layout.columns_to_index(columns)
        frames[:, rows, axes] = arr
        return frames
    raise ValueError(f"unrecognised .npy landmark array of shape {arr.shape}")


class CompetitionSource:
    """Random access to competition sequences, with a small cache of parquet files (each holds ~1000)."""

    def __init__(self, infos: list[SequenceInfo], npy_columns: tuple[str, ...] | None = None,
                 aux: dict[str, float] | None = None, cache_files: int = 4):
        from asl_gpt.model.presets import competition_columns

        self.infos = infos
        self.npy_columns = npy_columns or competition_columns()
        self.aux = aux or {}
        self._cache: OrderedDict[Path, object] = OrderedDict()
        self._cache_files = cache_files

    def __len__(self) -> int:
        return len(self.infos)

    def _table(self, path: Path):
        import pandas as pd

        if path not in self._cache:
            self._cache[path] = pd.read_parquet(path)
            while len(self._cache) > self._cache_files:
                self._cache.popitem(last=False)
        self._cache.move_to_end(path)
        return self._cache[path]

    def frames(self, info: SequenceInfo) -> np.ndarray:
        from asl_gpt.landmarks.io import from_table

        if info.path.suffix == ".npy":
            return _npy_to_frames(np.load(info.path), self.npy_columns)
        df = self._table(info.path)
        if "sequence_id" in df.columns:
            part = df[df["sequence_id"].astype(str) == info.sequence_id]
        else:
            part = df.loc[df.index.astype(str) == info.sequence_id]
        if "frame" in part.columns:
            part = part.sort_values("frame", kind="stable")
        return from_table(part)

    def record(self, i: int) -> Record:
        info = self.infos[i]
        return Record(self.frames(info), info.phrase, group=info.participant_id,
                      aux=self.aux.get(info.sequence_id), key=info.sequence_id)

    def file_order(self, rng: np.random.Generator) -> np.ndarray:
        """An epoch's order: files shuffled, sequences shuffled within a file (parquet reads stay cached)."""
        by_file: dict[Path, list[int]] = {}
        for i, info in enumerate(self.infos):
            by_file.setdefault(info.path if info.path.suffix != ".npy" else Path("npy"), []).append(i)
        order = []
        for key in rng.permutation(len(by_file)):
            idx = list(by_file.values())[int(key)]
            order += [idx[j] for j in rng.permutation(len(idx))]
        return np.array(order, dtype=np.int64)


def read_oof(paths: list[str | Path]) -> dict[str, float]:
    """Round-1 out-of-fold predictions (train --oof-out) -> sequence_id -> score (1 - normalised edit distance)."""
    out: dict[str, float] = {}
    for p in paths:
        for r in _read_csv(Path(p)):
            out[str(r["sequence_id"])] = float(r["score"])
    return out


# --- batches ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    inputs: np.ndarray  # float32[B, window, C]
    mask: np.ndarray  # float32[B, window]
    tokens_in: np.ndarray  # int64[B, L]: SOS, characters, PAD ...
    targets: np.ndarray  # int64[B, L]: characters, EOS, PAD ...
    negative: np.ndarray  # bool[B]: not fingerspelling
    aux: np.ndarray  # float32[B]: round-1 score, NaN where absent
    texts: list[str] = field(default_factory=list)


def encode_targets(texts: list[str], tok: Tokenizer, max_output: int) -> tuple[np.ndarray, np.ndarray]:
    """Teacher-forcing inputs and targets, length L = max_output + 1 (longer texts are cut)."""
    length = max_output + 1
    tin = np.full((len(texts), length), tok.pad_id, np.int64)
    tgt = np.full((len(texts), length), tok.pad_id, np.int64)
    for b, text in enumerate(texts):
        ids = tok.encode(text)[:max_output]
        tin[b, 0] = tok.sos_id
        tin[b, 1:1 + len(ids)] = ids
        tgt[b, :len(ids)] = ids
        tgt[b, len(ids)] = tok.eos_id
    return tin, tgt


def make_batch(records: list[Record], spec: features.FeatureSpec, tok: Tokenizer, max_output: int) -> Batch:
    xs, ms = zip(*(features.prepare(r.frames, spec, r.aspect) for r in records))
    texts = [tok.normalise(r.text)[:max_output] for r in records]
    tin, tgt = encode_targets(texts, tok, max_output)
    return Batch(np.stack(xs), np.stack(ms), tin, tgt,
                 np.array([r.kind != "spell" for r in records]),
                 np.array([np.nan if r.aux is None else r.aux for r in records], np.float32), texts)
