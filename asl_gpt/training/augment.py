"""Augmentations from the design, on raw frames float32[T, 543, 3] (NaN = not tracked), before
asl_gpt.recognition.features, so that training sees exactly what the runtime would have seen.

CutMix within a signer, finger dropout, face/pose dropout, time stretch, spatial affine, left/right
flip (competition symmetry.csv), and decoder input masking (on token ids).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asl_gpt.landmarks import layout

# The four joints of each finger (thumb .. pinky), MediaPipe hand numbering.
FINGERS = tuple(tuple(range(1 + 4 * f, 5 + 4 * f)) for f in range(5))


@dataclass(frozen=True)
class AugmentOptions:
    p_flip: float = 0.25  # left/right flip (a left-handed signer)
    p_affine: float = 0.8  # scale, shear, rotation, shift
    scale: tuple[float, float] = (0.8, 1.2)
    shear: float = 0.15
    rotate_deg: float = 12.0
    shift: float = 0.08
    p_time_stretch: float = 0.5
    stretch: tuple[float, float] = (0.7, 1.4)  # new length / old length
    p_finger_dropout: float = 0.2
    p_face_dropout: float = 0.3  # Holistic loses the face (turned head, occlusion)
    p_pose_dropout: float = 0.1
    p_cutmix: float = 0.2  # join the start of one phrase to the end of another, same signer
    p_decoder_mask: float = 0.1  # share of teacher-forcing input tokens replaced by random characters


def flip(frames: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Mirror left and right: swap symmetric landmarks (layout.mirror_permutation) and x -> 1 - x."""
    out = frames[:, perm].copy()
    out[..., 0] = 1.0 - out[..., 0]
    return out


def affine(frames: np.ndarray, rng: np.random.Generator, o: AugmentOptions = AugmentOptions()) -> np.ndarray:
    """One random 2-D affine map about the centre of the present points; z is scaled only."""
    pts = frames[..., :2]
    centre = np.nanmean(pts.reshape(-1, 2), axis=0) if np.isfinite(pts).any() else np.array([0.5, 0.5])
    s = rng.uniform(*o.scale)
    a = np.radians(rng.uniform(-o.rotate_deg, o.rotate_deg))
    sh = rng.uniform(-o.shear, o.shear)
    m = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[1.0, sh], [0.0, 1.0]])
    out = frames.copy()
    out[..., :2] = (pts - centre) @ m.T + centre + rng.uniform(-o.shift, o.shift, 2)
    out[..., 2] *= s
    return out.astype(np.float32)


def time_stretch(frames: np.ndarray, factor: float) -> np.ndarray:
    """Nearest-frame resampling to round(T * factor) frames (first and last frame kept)."""
    t = frames.shape[0]
    n = max(1, int(round(t * factor)))
    idx = np.round(np.linspace(0, t - 1, n)).astype(np.int64)
    return frames[idx]


def finger_dropout(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hide one or two fingers of a hand for a stretch of frames (self-occlusion, tracking loss)."""
    out = frames.copy()
    t = frames.shape[0]
    part = (layout.LEFT_HAND, layout.RIGHT_HAND)[int(rng.integers(2))]
    for f in rng.choice(5, size=int(rng.integers(1, 3)), replace=False):
        a = int(rng.integers(t))
        b = min(t, a + int(rng.integers(1, max(2, t // 2))))
        rows = [part.start + j for j in FINGERS[f]]
        out[a:b, rows] = np.nan
    return out


def part_dropout(frames: np.ndarray, part: slice) -> np.ndarray:
    out = frames.copy()
    out[:, part] = np.nan
    return out


def cutmix(a: np.ndarray, text_a: str, b: np.ndarray, text_b: str, rng: np.random.Generator,
           times_a: np.ndarray | None = None, times_b: np.ndarray | None = None,
           frame_ms_a: np.ndarray | None = None, frame_ms_b: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """The start of `a` then the end of `b` (same signer). With per-character times (the
    synthesiser's) the cuts fall between characters; without (competition data) the text is cut
    in proportion to time, as the 1st-place solution did."""
    if len(text_a) < 2 or len(text_b) < 2:
        return a, text_a
    i = int(rng.integers(1, len(text_a)))
    j = int(rng.integers(1, len(text_b)))
    if times_a is not None and frame_ms_a is not None and times_b is not None and frame_ms_b is not None:
        cut_a = int(np.searchsorted(frame_ms_a, (times_a[i - 1] + times_a[i]) / 2))
        cut_b = int(np.searchsorted(frame_ms_b, (times_b[j - 1] + times_b[j]) / 2))
    else:
        cut_a = int(round(len(a) * i / len(text_a)))
        cut_b = int(round(len(b) * j / len(text_b)))
    return np.concatenate([a[:max(cut_a, 1)], b[cut_b:]]), text_a[:i] + text_b[j:]


def mask_decoder_input(tokens: np.ndarray, p: float, n_symbols: int, rng: np.random.Generator,
                       protect: np.ndarray | None = None) -> np.ndarray:
    """Replace a share `p` of character tokens (ids < n_symbols) by random characters, so the
    decoder learns to read the encoder rather than continue its own guesses."""
    out = tokens.copy()
    hit = (rng.random(tokens.shape) < p) & (tokens < n_symbols)
    if protect is not None:
        hit &= ~protect
    out[hit] = rng.integers(0, n_symbols, int(hit.sum()))
    return out


def augment(frames: np.ndarray, rng: np.random.Generator, perm: np.ndarray | None,
            o: AugmentOptions = AugmentOptions()) -> np.ndarray:
    """The per-sample frame augmentations (all but CutMix and decoder masking), each by its chance."""
    x = frames
    if perm is not None and rng.random() < o.p_flip:
        x = flip(x, perm)
    if rng.random() < o.p_time_stretch:
        x = time_stretch(x, rng.uniform(*o.stretch))
    if rng.random() < o.p_affine:
        x = affine(x, rng, o)
    if rng.random() < o.p_finger_dropout:
        x = finger_dropout(x, rng)
    if rng.random() < o.p_face_dropout:
        x = part_dropout(x, layout.FACE)
    if rng.random() < o.p_pose_dropout:
        x = part_dropout(x, layout.POSE)
    return x
