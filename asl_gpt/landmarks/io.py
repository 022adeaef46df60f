"""Landmark files in the competition's wide layout: `frame`, `x_face_0` ... `z_right_hand_20`.

Readers accept files with missing column groups (a capture without left-hand columns, a subset of
points): every absent column reads as NaN.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asl_gpt.errors import InputError
from asl_gpt.landmarks import layout

PARQUET_FPS = 30.0  # the competition's recordings: frame times when a file stores none


def to_table(frames: np.ndarray, frame_ids: np.ndarray | None = None):
    """float32[T, 543, 3] -> pandas DataFrame with `frame` and the 1,629 landmark columns (x block, y, z)."""
    import pandas as pd

    t = frames.shape[0]
    wide = frames.transpose(0, 2, 1).reshape(t, -1)  # [T, 3 * 543]: all x, then all y, then all z
    df = pd.DataFrame(wide, columns=layout.column_names())
    df.insert(0, "frame", np.arange(t) if frame_ids is None else np.asarray(frame_ids))
    return df


def from_table(df) -> np.ndarray:
    """A wide DataFrame (any subset of landmark columns, in any order) -> float32[T, 543, 3]."""
    frames = layout.empty_frames(len(df))
    present = [c for c in df.columns if isinstance(c, str) and c[:2] in ("x_", "y_", "z_")]
    if not present:
        raise InputError("no landmark columns (x_face_0 ... z_right_hand_20) in the table")
    rows, axes = layout.columns_to_index(present)
    frames[:, rows, axes] = df[present].to_numpy(dtype=np.float32)
    return frames


def write_parquet(frames: np.ndarray, path: str | Path, frame_ids: np.ndarray | None = None) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_table(frames, frame_ids).to_parquet(path, index=False)


def read_parquet(path: str | Path, sequence_id: int | None = None) -> np.ndarray:
    """Frames of one landmark parquet, sorted by `frame`; `sequence_id` picks one sequence of a
    competition file that holds many (its `sequence_id` index or column)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"landmark file not found: {path}")
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for corrupt files
        raise InputError(f"cannot read landmark parquet {path}: {e}") from None
    if sequence_id is not None:
        if "sequence_id" in df.columns:
            df = df[df["sequence_id"] == sequence_id]
        else:
            df = df.loc[[sequence_id]] if sequence_id in df.index else df.iloc[0:0]
        if df.empty:
            raise InputError(f"sequence {sequence_id} not in {path}")
    if "frame" in df.columns:
        df = df.sort_values("frame", kind="stable")
    return from_table(df)


def read_landmark_file(path: str | Path, fps: float = PARQUET_FPS) -> tuple[np.ndarray, np.ndarray]:
    """A competition-layout landmark .parquet -> (frames float32[T, 543, 3], times_ms float64[T]).

    Times come from a `t_ms` column when the file has one, else from the `frame` column at `fps`, else
    from the row order. InputError for a missing or unreadable file."""
    import pandas as pd
    import pyarrow.parquet as pq

    frames = read_parquet(path)  # checks the file; rows sorted by `frame`
    names = set(pq.read_schema(path).names)
    cols = [c for c in ("frame", "t_ms") if c in names]
    df = pd.read_parquet(path, columns=cols) if cols else pd.DataFrame(index=range(len(frames)))
    if "frame" in df.columns:
        df = df.sort_values("frame", kind="stable")
    if "t_ms" in df.columns:
        times = df["t_ms"].to_numpy(np.float64)
    elif "frame" in df.columns:
        f = df["frame"].to_numpy(np.float64)
        times = (f - f[0]) * 1000.0 / fps if len(f) else f
    else:
        times = np.arange(len(frames), dtype=np.float64) * 1000.0 / fps
    return frames, times
