"""Landmark frames -> model input window. The SAME code runs in training and at inference.

Two kinds of input (the model's contract names its kind):

- ``"columns"``: select the contract's columns from float32[T, 543, 3] frames, normalise each axis by the
mean and standard deviation of the present (non-NaN) values in the window, replace NaN by 0 only
after normalisation (missing stays distinguishable from "at the mean" through the mask of frames
with no hand), and fit the time axis to the model's fixed window (nearest-frame resampling when
longer, zero padding with a mask when shorter). Fixed lengths because dynamic shapes do not
convert to TFLite.
- ``"signing_hand"``: the hand that signs (the raised one; a resting hand stays out), mirrored to a
  right hand, described by features that do not depend on the signer's size, distance, in-plane
  rotation or handedness: its 20 points in a palm-aligned frame (palm lengths), the palm's direction
  and normal in the camera frame (H/U, G/Q and K/P differ mainly by orientation), joint flexion and
  finger spread cosines, fingertip and thumb-to-finger distances; then presence, height above the
  shoulders and motion. x is scaled by the frame's aspect (width/height) so angles are true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asl_gpt.landmarks import layout


COLUMNS, SIGNING_HAND = "columns", "signing_hand"
KINDS = (COLUMNS, SIGNING_HAND)


@dataclass(frozen=True)
class FeatureSpec:
    columns: tuple[str, ...]  # competition column names in model input order (x block, y block, z block)
    window: int  # frames per model input; longer inputs are resampled, shorter ones padded
    kind: str = COLUMNS  # COLUMNS: normalised columns; SIGNING_HAND: invariant features of the signing hand

    @property
    def n_features(self) -> int:
        return len(self.columns) if self.kind == COLUMNS else HAND_FEATURES


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


def prepare(frames: np.ndarray, spec: FeatureSpec, aspect: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """float32[T, 543, 3] -> (float32[window, C], mask float32[window]): the model's input.
    `aspect`: the frames' width / height (landmark x and y are fractions of each)."""
    if spec.kind == SIGNING_HAND:
        return signing_hand_window(frames, spec.window, aspect)
    x = select(frames, spec.columns)
    x = normalise(x, spec.columns)
    return fit_window(x, spec.window)


def hands_present(frames: np.ndarray) -> np.ndarray:
    """bool[T]: whether either hand was detected in each frame."""
    left = np.isfinite(frames[:, layout.LEFT_HAND, 0]).any(axis=1)
    right = np.isfinite(frames[:, layout.RIGHT_HAND, 0]).any(axis=1)
    return left | right


# --- the signing hand ---------------------------------------------------------------------------------

TIPS = (4, 8, 12, 16, 20)
FINGERS = tuple((0, 1 + 4 * f, 2 + 4 * f, 3 + 4 * f, 4 + 4 * f) for f in range(5))  # wrist .. tip
N_INVARIANTS = 103  # 60 palm-frame coordinates + 6 orientation + 19 angle cosines + 18 distances
N_EXTRA = 8  # present, height above the shoulders, wrist/index/pinky tip motion (x, y)
HAND_FEATURES = N_INVARIANTS + N_EXTRA
RAISED_BELOW_SHOULDERS = 1.0  # a wrist more than this many shoulder widths below the shoulders rests
_L_SH, _R_SH = layout.POSE.start + 11, layout.POSE.start + 12


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-6)


def hand_invariants(hand: np.ndarray) -> np.ndarray:
    """float[..., 21, 3] right hand, true proportions (any origin, scale, rotation) -> float32[..., 103].
    NaN in, NaN out."""
    p = np.asarray(hand, np.float64)
    p = p - p[..., :1, :]
    p = p / np.maximum(np.linalg.norm(p[..., 9, :], axis=-1), 1e-6)[..., None, None]  # wrist->middle MCP = 1
    u = _unit(p[..., 9, :])  # along the palm
    n = _unit(np.cross(p[..., 5, :], p[..., 17, :]))  # palm normal (a right hand's palm side)
    v = _unit(np.cross(n, u))
    local = np.einsum("...pi,...ij->...pj", p, np.stack([u, v, n], axis=-1))  # [..., 21, 3] palm frame
    cos = []
    for f in FINGERS:
        bones = [_unit(p[..., f[i + 1], :] - p[..., f[i], :]) for i in range(4)]
        cos += [(bones[i] * bones[i + 1]).sum(-1) for i in range(3)]  # flexion at each joint
    dirs = [_unit(p[..., f[4], :] - p[..., f[1], :]) for f in FINGERS]
    cos += [(dirs[i] * dirs[i + 1]).sum(-1) for i in range(4)]  # spread between neighbours
    dist = [np.linalg.norm(p[..., TIPS[i], :] - p[..., TIPS[j], :], axis=-1) for i in range(5) for j in range(i + 1, 5)]
    dist += [np.linalg.norm(p[..., 4, :] - p[..., k, :], axis=-1) for k in (6, 10, 14, 18, 5, 9, 13, 17)]  # A/S/T/M/N/E
    out = np.concatenate([local[..., 1:, :].reshape(*p.shape[:-2], 60), u, n, np.stack(cos, -1), np.stack(dist, -1)], -1)
    return out.astype(np.float32)


def true_proportions(frames: np.ndarray, aspect: float) -> np.ndarray:
    """Landmarks with x and z in units of the frame's height (y's unit), so distances and angles are
    true: `aspect` is the frame's width / height. The streaming recognizer applies it to camera frames
    (it knows their size); `prepare(..., aspect)` does the same for training records."""
    out = np.array(frames, dtype=np.float32, copy=True)
    if aspect != 1.0:
        out[..., 0] *= aspect
        out[..., 2] *= aspect
    return out


def hand_heights(frames: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """float32[T, 2] (left, right): wrist height above the shoulder line in shoulder widths (NaN: no
    hand). Without a body in view a present hand counts as raised (height 0)."""
    f = true_proportions(frames, aspect)
    sh = (f[:, _L_SH, :2] + f[:, _R_SH, :2]) / 2
    sw = np.linalg.norm(f[:, _L_SH, :2] - f[:, _R_SH, :2], axis=-1)
    out = np.full((len(f), 2), np.nan, np.float32)
    for k, part in enumerate((layout.LEFT_HAND, layout.RIGHT_HAND)):
        wrist_y = f[:, part.start, 1]
        h = (sh[:, 1] - wrist_y) / np.maximum(sw, 1e-6)
        out[:, k] = np.where(np.isfinite(wrist_y), np.where(np.isfinite(h) & (sw > 1e-3), h, 0.0), np.nan)
    return np.clip(out, -5.0, 5.0)


BOTTOM_EDGE = 0.97  # fraction of the frame's height: a wrist or palm centre this low is at the bottom edge
RESTING_HEIGHT = -5.0  # gate_heights of a resting hand: as low as hand_heights goes


def resting_hands(frames: np.ndarray) -> np.ndarray:
    """bool[T, 2] (left, right): the hand rests at the frame's bottom edge: its wrist or palm centre at or
    below BOTTOM_EDGE, or a point of it cut off by the bottom edge. A laptop camera shows a seated signer
    down to mid-chest, so the other hand on the desk or in the lap is at that edge, whatever the frame's
    aspect or the signer's size; y is a fraction of the height in true proportions too (unscaled)."""
    out = np.zeros((len(frames), 2), bool)
    for k, part in enumerate((layout.LEFT_HAND, layout.RIGHT_HAND)):
        y = frames[:, part, 1]
        palm = np.mean(y[:, (0, 5, 9, 13, 17)], axis=1)
        with np.errstate(invalid="ignore"):
            out[:, k] = (y[:, 0] >= BOTTOM_EDGE) | (palm >= BOTTOM_EDGE) | (np.nanmax(np.where(np.isfinite(y), y, -1.0), 1) > 1.0)
    return out


def gate_heights(frames: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """hand_heights for the gates (raised test, signing side and span, one-handed rule): a hand resting at
    the frame's bottom edge (resting_hands) is as low as can be (RESTING_HEIGHT), however near the shoulders
    that edge is; NaN: no hand. The model's own height feature stays hand_heights."""
    return _gated(hand_heights(frames, aspect), frames)


def _gated(heights: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """gate_heights from hand_heights already computed."""
    return np.where(resting_hands(frames) & np.isfinite(heights), np.float32(RESTING_HEIGHT), heights)


def _raised(heights: np.ndarray) -> np.ndarray:
    """bool[T, 2] from gate_heights: in view and not resting low (at the bottom edge, or more than
    RAISED_BELOW_SHOULDERS shoulder widths below the shoulders, in true proportions)."""
    return np.nan_to_num(heights, nan=-np.inf) > -RAISED_BELOW_SHOULDERS


def raised_hands(frames: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """bool[T]: a hand is in view AND raised (not resting low): the segmenter's "signing" signal."""
    return _raised(gate_heights(frames, aspect)).any(axis=1)


SIDE_MARGIN = 0.3  # shoulder widths: a hand usually this much higher than the other is the one spelling


def side_of_heights(heights: np.ndarray) -> int:
    """0 (left) or 1 (right) from gate_heights. When both hands are raised often (each at least a quarter as
    often as the other), the one usually higher (75th percentile of its height) by SIDE_MARGIN spells: a
    hand resting on a desk high in a landscape frame is raised all the time, while the spelling hand is
    below it on its way up and down. Otherwise the hand raised most often (ties: seen more, then the right)."""
    raised, seen = _raised(heights).sum(0), np.isfinite(heights).sum(0)
    if raised.min() > 0 and raised.min() >= 0.25 * raised.max():
        top = [float(np.nanpercentile(heights[:, k], 75)) for k in (0, 1)]
        if abs(top[1] - top[0]) > SIDE_MARGIN:
            return int(top[1] > top[0])
    return int((raised[1], seen[1], 1) >= (raised[0], seen[0], 0))


def signing_side(frames: np.ndarray, aspect: float = 1.0) -> int:
    """0 (left) or 1 (right): the hand that signs in these frames."""
    return side_of_heights(gate_heights(frames, aspect))


def signing_hand_points(frames: np.ndarray, aspect: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(float32[T, 21, 3] the signing hand as a right hand in true proportions, float32[T] its height).
    A left hand is mirrored (x -> -x), so left-handed signers read like right-handed ones."""
    heights = hand_heights(frames, aspect)
    side = side_of_heights(_gated(heights, frames))
    return _hand_points(frames, aspect, side), heights[:, side]


def _hand_points(frames: np.ndarray, aspect: float, side: int) -> np.ndarray:
    """float32[T, 21, 3] the hand on `side` as a right hand in true proportions (a left hand mirrored)."""
    pts = true_proportions(frames[:, (layout.LEFT_HAND, layout.RIGHT_HAND)[side]], aspect)
    if side == 0:
        pts[..., 0] *= -1.0
    return pts


# Where spelling starts and stops inside a segment: the hand rises from rest, spells, and drops back. On
# the way up or down it shows shapes that look like letters; those frames are not read.
SETTLED_SPEED = 2.0  # wrist speed, palm lengths a second, below which the hand is holding (learners on real
#                      video: median 0.3, 90th percentile under 1; a rise or a drop: 5-12)
SIGNING_SPACE_DEPTH = 1.0  # shoulder widths below this hand's usual height (the segment's 75th percentile)
#                            that still count as signing space: relative, so a signer who spells low is read too;
#                            a learner moved 0.6 between two letters (I low, N high), and 0.5 cut the I


def signing_span(frames: np.ndarray, times_ms: np.ndarray) -> tuple[int, int]:
    """[start, end) of the frames from the signing hand's arrival in signing space, holding, to its last hold
    there before it leaves: the rise from rest and the drop to rest are cut off, whatever shapes they pass.
    `frames` in true proportions (true_proportions). (0, 0) when the hand never holds in signing space."""
    gates = gate_heights(frames, 1.0)
    side = side_of_heights(gates)
    pts, height = _hand_points(frames, 1.0, side), gates[:, side]  # a hand resting at the edge is out of signing space
    present = np.isfinite(pts).all(axis=(1, 2)) & np.isfinite(height)
    if present.sum() < 3:
        return 0, 0
    palm = float(np.median(np.linalg.norm(pts[present, 9] - pts[present, 0], axis=-1)))
    wrist = pts[:, 0, :2].astype(np.float64)
    t = np.asarray(times_ms, np.float64) / 1000.0
    speed = np.full(len(pts), np.inf)
    step = np.linalg.norm(wrist[2:] - wrist[:-2], axis=-1) / np.maximum(t[2:] - t[:-2], 1e-3) / max(palm, 1e-6)
    speed[1:-1] = np.where(np.isfinite(step), step, np.inf)  # across both neighbours: one jittery frame moves little
    speed[0], speed[-1] = speed[1], speed[-2]
    top = float(np.percentile(height[present], 75))
    held = present & (height >= top - SIGNING_SPACE_DEPTH) & (speed <= SETTLED_SPEED)
    idx = np.flatnonzero(held)
    return (int(idx[0]), int(idx[-1]) + 1) if len(idx) else (0, 0)


TWO_HANDED_BAND = 0.5  # shoulder widths: the other hand this near the signing hand's height signs with it
TWO_HANDED_SHARE = 0.5  # of the frames with both hands: more, and the stretch is two-handed signing


def two_handed(frames: np.ndarray) -> bool:
    """Whether both hands sign together in these frames (true proportions): ASL fingerspelling is one-handed,
    so a stretch where the other hand is up beside the signing hand most of the time is a sign, not a spelled
    word (real signing videos: both hands at the same height in 83-100 % of frames; the real learners'
    resting hand: never within 0.5 shoulder widths of the spelling hand's height)."""
    heights = gate_heights(frames, 1.0)  # a hand resting at the bottom edge never signs with the other
    side = side_of_heights(heights)
    own, other = heights[:, side], heights[:, 1 - side]
    both = np.isfinite(own) & np.isfinite(other)
    if not both.any():
        return False
    return bool((other[both] > own[both] - TWO_HANDED_BAND).mean() > TWO_HANDED_SHARE)


def signing_hand_window(frames: np.ndarray, window: int, aspect: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """float32[T, 543, 3] -> (float32[window, HAND_FEATURES], mask[window]); frames without the
    signing hand are zeros with present = 0."""
    pts, height = signing_hand_points(frames, aspect)
    t = len(pts)
    if t > window:  # resample before motion, so motion is per model step whatever the frame rate
        idx = np.round(np.linspace(0, t - 1, window)).astype(np.int64)
        pts, height = pts[idx], height[idx]
    present = np.isfinite(pts).all(axis=(1, 2))
    inv = hand_invariants(pts)
    palm = np.linalg.norm(pts[:, 9] - pts[:, 0], axis=-1)
    key = pts[:, (0, 8, 20), :2]  # wrist, index tip, pinky tip
    motion = np.zeros((len(pts), 3, 2), np.float32)
    motion[1:] = (key[1:] - key[:-1]) / np.maximum(palm[1:], 1e-6)[:, None, None]
    motion = np.clip(np.nan_to_num(motion, nan=0.0), -3.0, 3.0)
    extra = np.concatenate([present[:, None], np.nan_to_num(height, nan=0.0)[:, None], motion.reshape(-1, 6)], 1)
    x = np.concatenate([inv, extra.astype(np.float32)], 1)
    x[~present, :N_INVARIANTS] = 0.0
    x[~np.isfinite(x)] = 0.0
    return fit_window(x, window)
