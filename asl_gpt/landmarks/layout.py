"""The 543-point MediaPipe Holistic layout in the competition's order, and its column names.

Frames are float32[543, 3] (x, y, z) with NaN wherever a part was not detected. The order is the
Google "ASL Fingerspelling" competition's: face 468, left hand 21, pose 33, right hand 21. Wide
tables use the competition's column names (`x_face_0` ... `z_right_hand_20`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

# (part name, number of points), in file order.
PARTS: tuple[tuple[str, int], ...] = (("face", 468), ("left_hand", 21), ("pose", 33), ("right_hand", 21))
N_POINTS = sum(n for _, n in PARTS)  # 543
AXES = ("x", "y", "z")

OFFSETS: dict[str, int] = {}
_o = 0
for _name, _n in PARTS:
    OFFSETS[_name] = _o
    _o += _n
del _o, _name, _n

FACE = slice(OFFSETS["face"], OFFSETS["face"] + 468)
LEFT_HAND = slice(OFFSETS["left_hand"], OFFSETS["left_hand"] + 21)
POSE = slice(OFFSETS["pose"], OFFSETS["pose"] + 33)
RIGHT_HAND = slice(OFFSETS["right_hand"], OFFSETS["right_hand"] + 21)

# Pose indices used by the synthesiser and feature code (MediaPipe Pose numbering).
POSE_NOSE, POSE_L_SHOULDER, POSE_R_SHOULDER = 0, 11, 12
POSE_L_ELBOW, POSE_R_ELBOW, POSE_L_WRIST, POSE_R_WRIST = 13, 14, 15, 16


def point_index(part: str, i: int) -> int:
    """Row of landmark `i` of `part` in a [543, 3] frame."""
    return OFFSETS[part] + i


def point_names() -> list[str]:
    """`face_0` ... `right_hand_20`, one per row of a frame."""
    return [f"{part}_{i}" for part, n in PARTS for i in range(n)]


def column_names() -> list[str]:
    """The competition's wide columns: all x (x_face_0 ... x_right_hand_20), then all y, then all z."""
    names = point_names()
    return [f"{a}_{p}" for a in AXES for p in names]


def parse_column(column: str) -> tuple[int, int]:
    """`y_right_hand_3` -> (row in the 543 frame, axis 0..2)."""
    axis, rest = column.split("_", 1)
    part, idx = rest.rsplit("_", 1)
    if axis not in AXES or part not in OFFSETS:
        raise ValueError(f"not a landmark column: {column!r}")
    return OFFSETS[part] + int(idx), AXES.index(axis)


def columns_to_index(columns: list[str] | tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Rows and axes for a list of column names, for fancy indexing `frames[:, rows, axes]`."""
    pairs = [parse_column(c) for c in columns]
    return np.array([p for p, _ in pairs], dtype=np.int64), np.array([a for _, a in pairs], dtype=np.int64)


def mirror_permutation(symmetry_csv: str | Path) -> np.ndarray:
    """Row permutation that swaps left and right landmarks, from the competition's symmetry.csv.

    Flipping a frame is `flipped = frames[:, perm]` followed by x -> 1 - x.
    """
    perm = np.arange(N_POINTS)
    names = {n: i for i, n in enumerate(point_names())}
    with open(symmetry_csv, newline="") as f:
        for row in csv.DictReader(f):
            perm[names[row["id"]]] = names[row["corresponding_id"]]
    return perm


def empty_frames(n: int) -> np.ndarray:
    """n frames with nothing detected."""
    return np.full((n, N_POINTS, 3), np.nan, dtype=np.float32)
