"""Single-letter accuracy on any static handshape set, through the runtime recognizer (LiteRT).

The set is an .npz in the layout of `massey/landmarks_21x3.npz`: `X` float[N, 21, 3] raw MediaPipe
Hands coordinates (x, y in 0..1 of the frame the detector saw, z relative to the wrist), `y` the
labels, and optionally `names` (image paths; the file name's part before the first `_` names the
signer). Each hand becomes a short sequence of Holistic-layout frames in which it is the RIGHT hand,
held still in front of the shoulder of a real upper body with small tracking jitter (no synthesised
motion: J and Z are scored as the static shapes the set holds), and the recognizer reads it.
Needs numpy only (no torch): it measures exported models.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl_gpt.errors import InputError
from asl_gpt.landmarks import layout
from asl_gpt.training.handshapes import MASSEY_FRAME  # 400 x 400 photos padded to 600 x 600

log = logging.getLogger(__name__)

UNKNOWN = "unknown"


@dataclass(frozen=True)
class HandSet:
    shapes: np.ndarray  # float32[N, 21, 3] canonical hands (handshapes.canonicalise: wrist 0, palm length 1)
    labels: np.ndarray  # str[N], 'a'..'z'
    signers: np.ndarray  # str[N]


@dataclass(frozen=True)
class StillOptions:
    frames: int = 30  # one second at 30 fps: a letter held the way a learner holds it
    fps: float = 30.0
    frame_wh: tuple[float, float] = (640.0, 480.0)  # camera frame (the body capture's is 4:3 640 x 480)
    camera_scale: float = 0.33  # shoulder width over frame width (the synthesiser's 0.22-0.45, mid)
    centre: tuple[float, float] = (0.5, 0.6)  # shoulders' midpoint, share of frame width / height
    hand_size: float = 0.45  # wrist -> middle MCP over shoulder width (real captures: about 0.37-0.60)
    anchor: tuple[float, float] = (-0.1, 0.05)  # wrist from the right shoulder, in shoulder widths
    anchor_spread: float = 0.08  # per-sample place varies this much (shoulder widths)
    jitter: float = 0.01  # per-frame landmark noise, palm lengths (Holistic's tracking noise on a still hand)
    drift: float = 0.02  # slow sway of the whole hand, palm lengths
    lead_frames: int = 0  # frames without the hand before and after the hold (0: the segment the streaming
    #                       recognizer submits for a held letter, which starts and ends with the hand in view)


def load_handshapes(path: str | Path, frame_wh: tuple[float, float] = MASSEY_FRAME, mirror: bool = False,
                    signer: str | None = None) -> HandSet:
    """Letters a-z of a handshape .npz (digits and unreadable hands skipped); InputError for a bad file."""
    from asl_gpt.training.handshapes import canonicalise

    path = Path(path)
    if not path.is_file():
        raise InputError(f"handshape file not found: {path}")
    try:
        d = np.load(path, allow_pickle=False)
        X, y = np.asarray(d["X"], np.float64), np.char.lower(np.asarray(d["y"]).astype(str))
        names = np.asarray(d["names"]).astype(str) if "names" in d.files else None
    except (KeyError, ValueError, OSError) as e:
        raise InputError(f"cannot read handshapes from {path} (need X N x 21 x 3 and y): {e}") from None
    if X.ndim != 3 or X.shape[1:] != (21, 3) or len(y) != len(X):
        raise InputError(f"{path}: X must be N x 21 x 3 with one label in y per hand (got X {list(X.shape)}, "
                         f"y {len(y)})")
    signers = (np.array([Path(n).name.split("_")[0] for n in names]) if names is not None and len(names) == len(X)
               else np.full(len(X), UNKNOWN))
    keep = np.array([len(lab) == 1 and "a" <= lab <= "z" for lab in y], bool) & np.isfinite(X).all(axis=(1, 2))
    if signer is not None:
        if signer not in set(signers.tolist()):
            raise InputError(f"no signer {signer!r} in {path} (it has: {', '.join(sorted(set(signers.tolist())))})")
        keep &= signers == signer
    if not keep.any():
        raise InputError(f"no letters a-z in {path}" + (f" for signer {signer}" if signer else ""))
    shapes = canonicalise(X[keep], frame_wh, mirror=mirror)
    ok = np.abs(shapes).max(axis=(1, 2)) < 10  # a detection that collapsed to a point
    return HandSet(shapes[ok], y[keep][ok], signers[keep][ok])


def still_sequence(shape: np.ndarray, body: np.ndarray, rng: np.random.Generator,
                   options: StillOptions = StillOptions()) -> tuple[np.ndarray, np.ndarray]:
    """One canonical hand held still as the right hand in front of a real body ->
    (frames float32[T, 543, 3], times_ms float64[T])."""
    o = options
    n = o.frames
    w, h = o.frame_wh
    P = layout.point_index
    start = int(rng.integers(len(body)))
    b = body[(start + np.arange(n)) % len(body)].astype(np.float32).copy()
    b[:, layout.LEFT_HAND] = np.nan
    b[:, layout.RIGHT_HAND] = np.nan
    # the real body, moved and scaled to this framing (the capture's camera is close: shoulders ~0.6 of the width)
    px = b[..., :2].astype(np.float64) * np.array([640.0, 480.0])
    ls, rs = px[:, P("pose", 11)], px[:, P("pose", 12)]
    seed_centre, seed_sw = ((ls + rs) / 2).mean(0), float(np.linalg.norm(ls - rs, axis=-1).mean())
    sw = o.camera_scale * w
    px = (px - seed_centre) * (sw / max(seed_sw, 1e-6)) + np.array(o.centre) * np.array([w, h])
    b[..., 0], b[..., 1] = px[..., 0] / w, px[..., 1] / h
    shoulder_r = px[:, P("pose", 12)]  # the signer's right shoulder (image left in an unmirrored camera)
    palm = o.hand_size * sw
    anchor = np.array(o.anchor) + rng.normal(0, o.anchor_spread, 2)
    phase = rng.uniform(0, 2 * math.pi, 2)
    t = np.arange(n) / o.fps
    sway = np.stack([np.sin(2 * math.pi * 0.5 * t + phase[0]), np.sin(2 * math.pi * 0.4 * t + phase[1])], -1)
    wrist = shoulder_r + anchor * sw + sway * o.drift * palm  # [n, 2] pixels
    pts = np.repeat(shape[None].astype(np.float64) * palm, n, 0)  # [n, 21, 3] pixels, wrist at 0
    pts += rng.normal(0, o.jitter * palm, pts.shape)
    pts[..., :2] += wrist[:, None, :]
    pts[..., 2] -= pts[:, :1, 2]  # Holistic hand z is relative to the wrist, in x units
    xyz = np.stack([pts[..., 0] / w, pts[..., 1] / h, pts[..., 2] / w], -1)
    b[:, layout.RIGHT_HAND] = xyz.astype(np.float32)
    # the pose model's own right wrist, elbow and hand points follow the hand (as Holistic's do)
    elbow = wrist + np.array([-0.35, 1.0]) * sw * 0.9
    for pi, xy in ((16, wrist), (14, elbow)):
        b[:, P("pose", pi), 0], b[:, P("pose", pi), 1] = xy[:, 0] / w, xy[:, 1] / h
    for pi, hi in ((18, 17), (20, 5), (22, 2)):
        b[:, P("pose", pi), 0], b[:, P("pose", pi), 1] = pts[:, hi, 0] / w, pts[:, hi, 1] / h
    if o.lead_frames:
        k = o.lead_frames
        b = np.concatenate([np.repeat(b[:1], k, 0), b, np.repeat(b[-1:], k, 0)])
        b[:k, layout.RIGHT_HAND] = np.nan
        b[-k:, layout.RIGHT_HAND] = np.nan
        t = np.arange(len(b)) / o.fps
    return b, t * 1000.0


def evaluate_letters(recognizer, hands: HandSet, body: np.ndarray, options: StillOptions = StillOptions(),
                     seed: int = 1234, progress: bool = True) -> dict:
    """Each hand read as one still letter: accuracy overall, per signer and per letter."""
    thr = float(recognizer.contract.min_confidence)
    rng = np.random.default_rng(seed)
    right = np.zeros(len(hands.labels), bool)
    confident = np.zeros(len(hands.labels), bool)
    confusions: dict[str, dict[str, int]] = {}
    it = range(len(hands.labels))
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="letters", unit="hand")
    for i in it:
        frames, times = still_sequence(hands.shapes[i], body, rng, options)
        hyp = recognizer.recognize(frames, float(times[0]), float(times[-1]), aspect=options.frame_wh[0] / options.frame_wh[1])
        lab = str(hands.labels[i])
        right[i] = hyp.text == lab
        confident[i] = right[i] and hyp.confidence >= thr
        if not right[i]:
            wrong = confusions.setdefault(lab, {})
            wrong[hyp.text] = wrong.get(hyp.text, 0) + 1

    def acc(sel: np.ndarray) -> float | None:
        return round(float(right[sel].mean()), 4) if sel.any() else None

    letters = sorted(set(hands.labels.tolist()))
    signers = sorted(set(hands.signers.tolist()))
    return {"letters": {
        "samples": int(len(right)), "threshold": thr,
        "accuracy": acc(np.ones(len(right), bool)),
        "accuracy_and_confident": round(float(confident.mean()), 4),
        "per_letter": {c: acc(hands.labels == c) for c in letters},
        "per_signer": {s: {"samples": int((hands.signers == s).sum()), "accuracy": acc(hands.signers == s),
                           "accuracy_and_confident": round(float(confident[hands.signers == s].mean()), 4)}
                       for s in signers},
        "confusions": {c: dict(sorted(v.items(), key=lambda kv: -kv[1])[:3]) for c, v in sorted(confusions.items())},
    }}
