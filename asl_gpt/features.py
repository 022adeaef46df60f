"""Landmark frames -> model input window. The SAME code runs in training and at inference.

Steps: select the contract's columns from float32[T, 543, 3] frames, normalise each axis by the
mean and standard deviation of the present (non-NaN) values in the window, replace NaN by 0 only
after normalisation (missing stays distinguishable from "at the mean" through the mask of frames
with no hand), and fit the time axis to the model's fixed window (nearest-frame resampling when
longer, zero padding with a mask when shorter). Fixed lengths because dynamic shapes do not
convert to TFLite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asl_gpt.landmarks import layout


@dataclass(frozen=True)
class FeatureSpec:
    columns: tuple[str, ...]  # competition column names in model input order (x block, y block, z block)
    window: int  # frames per model input; longer inputs are resampled, shorter ones padded

    @property
    def n_features(self) -> int:
        return len(self.columns)


def hand_columns() -> tuple[str, ...]:
    """Both hands, all x then all y then all z: the core of any fingerspelling spec."""
    pts = [f"{h}_{i}" for h in ("left_hand", "right_hand") for i in range(21)]
    return tuple(f"{a}_{p}" for a in layout.AXES for p in pts)


def hands_pose_columns() -> tuple[str, ...]:
    """Both hands plus upper-body pose 11..22 (shoulders, elbows, wrists, hand points of the pose)."""
    pts = [f"{h}_{i}" for h in ("left_hand", "right_hand") for i in range(21)] + [f"pose_{i}" for i in range(11, 23)]
    return tuple(f"{a}_{p}" for a in layout.AXES for p in pts)


def select(frames: np.ndarray, columns: tuple[str, ...]) -> np.ndarray:
    """float32[T, 543, 3] -> float32[T, C] in `columns` order (NaN kept)."""
    if frames.ndim != 3 or frames.shape[1:] != (layout.N_POINTS, 3):
        raise ValueError(f"expected frames of shape [T, {layout.N_POINTS}, 3], got {frames.shape}")
    rows, axes = layout.columns_to_index(columns)
    return frames[:, rows, axes].astype(np.float32, copy=False)


def normalise(x: np.ndarray, columns: tuple[str, ...]) -> np.ndarray:
    """Per axis (x, y, z) standardisation over the present values of the whole window; NaN -> 0 after."""
    out = np.array(x, dtype=np.float32, copy=True)
    axis_of = np.array([layout.AXES.index(c[0]) for c in columns])
    for a in range(3):
        cols = axis_of == a
        if not cols.any():
            continue
        block = out[:, cols]
        present = block[np.isfinite(block)]
        if present.size:
            mean = float(present.mean())
            std = float(present.std())
            block = (block - mean) / (std if std > 1e-6 else 1.0)
        out[:, cols] = block
    out[~np.isfinite(out)] = 0.0
    return out


def fit_window(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """[T, C] -> ([window, C], mask float32[window]) by nearest-frame resampling or zero padding."""
    t = x.shape[0]
    if t == 0:
        return np.zeros((window, x.shape[1]), np.float32), np.zeros(window, np.float32)
    if t > window:
        idx = np.round(np.linspace(0, t - 1, window)).astype(np.int64)
        return x[idx].astype(np.float32), np.ones(window, np.float32)
    out = np.zeros((window, x.shape[1]), np.float32)
    out[:t] = x
    mask = np.zeros(window, np.float32)
    mask[:t] = 1.0
    return out, mask


def prepare(frames: np.ndarray, spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """float32[T, 543, 3] -> (float32[window, C], mask float32[window]): the model's input."""
    x = select(frames, spec.columns)
    x = normalise(x, spec.columns)
    return fit_window(x, spec.window)


def hands_present(frames: np.ndarray) -> np.ndarray:
    """bool[T]: whether either hand was detected in each frame."""
    left = np.isfinite(frames[:, layout.LEFT_HAND, 0]).any(axis=1)
    right = np.isfinite(frames[:, layout.RIGHT_HAND, 0]).any(axis=1)
    return left | right
