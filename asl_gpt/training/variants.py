"""Variants of a real recording that the app must survive: faster spelling, and ordinary use.

The real evaluation set is learners, recorded mid-air, in a portrait frame. What a user does is
different, so each recording can be turned into:

- `faster(sample, k)`: every k-th frame at the original frame rate: the same spelling k times as fast.
- `ordinary(sample, passing, seed)`: the recording as ordinary use looks, in three steps.
  1. Reframed into a landscape 16:9 frame (1280 x 720) with the signer further away: the whole body is
     scaled about the shoulders until the signing hand is about 60 px tall (never enlarged), placed
     with the shoulders at 62 % of the frame's height; points that leave the frame are lost (NaN), as
     Holistic would lose them, and the hands get 1 px of tracking noise.
  2. A rise from rest before the first frame: the signing hand starts at rest, 1.8 shoulder widths below
     the shoulders (at the bottom of the frame, or below it and untracked), and travels an arc to where the recording starts in 0.4-0.8 s,
     passing through `passing` shapes: real handshapes of people signing ordinary signs (Holistic on
     the MIT-licensed signing videos of ../shared/data/signing-video), which become the recording's
     first shape only near the end of the way. The body and the other hand hold still meanwhile.
  3. The same backwards after the last frame: a drop to rest.
  It is deterministic for a seed, so every model meets the same variant.

Pure numpy; the caller reads the passing shapes once (`passing_shapes`).
"""

from __future__ import annotations

import dataclasses
import zlib
from pathlib import Path

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.landmarks import layout
from asl_gpt.training.real import RealSample

CANVAS = (1280.0, 720.0)  # the landscape frame, pixels
HAND_PX = 60.0  # target height of the signing hand, pixels (the held-back webcam signers')
SHOULDERS_AT = 0.62  # the shoulders' midpoint, as a fraction of the frame's height
REST_DEPTH = 1.8  # shoulder widths below the shoulders: the hand at rest
RISE_S = (0.4, 0.8)  # seconds from rest to the first letter (and from the last to rest)
HAND_NOISE_PX = 1.0  # tracking noise added to the smaller hands, pixels
_L_SH, _R_SH = layout.POSE.start + 11, layout.POSE.start + 12


def faster(sample: RealSample, k: int) -> RealSample:
    """Every k-th frame, at the original frame rate: spelling k times as fast."""
    if k <= 1:
        return sample
    return dataclasses.replace(sample, frames=sample.frames[::k], times_ms=sample.times_ms[::k] / k)


def passing_shapes(frames_list: list[np.ndarray], aspects: list[float]) -> np.ndarray:
    """float32[N, 21, 3] hand shapes (wrist at 0, palm length 1, true proportions, as a right hand) from
    recordings of ordinary signing: every tracked hand of every frame."""
    out = []
    for frames, aspect in zip(frames_list, aspects):
        f = features.true_proportions(frames, aspect)
        for part, mirror in ((layout.RIGHT_HAND, False), (layout.LEFT_HAND, True)):
            h = f[:, part].astype(np.float64)
            ok = np.isfinite(h).all(axis=(1, 2))
            h = h[ok] - h[ok, :1]
            if mirror:
                h[..., 0] *= -1.0
            palm = np.linalg.norm(h[:, 9, :2], axis=-1)
            out.append(h / np.maximum(palm, 1e-6)[:, None, None])
    shapes = np.concatenate(out) if out else np.zeros((0, 21, 3))
    return shapes.astype(np.float32)


def _smooth(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def ordinary(sample: RealSample, passing: np.ndarray, seed: int = 0) -> RealSample:
    """The recording reframed small in a landscape frame and wrapped in a rise from rest and a drop to rest."""
    if not len(passing):
        raise ValueError("no passing hand shapes (signing videos) to wrap the recording with")
    rng = np.random.default_rng([seed, zlib.crc32(sample.path.name.encode())])
    aspect = sample.aspect or 1.0
    w0, h0 = (sample.frame_wh if sample.frame_wh else (aspect, 1.0))
    px = np.array(sample.frames, np.float64)
    px[..., 0] *= w0
    px[..., 1] *= h0
    px[..., 2] *= w0  # z is in x units
    side = features.signing_side(sample.frames, aspect)
    part = (layout.LEFT_HAND, layout.RIGHT_HAND)[side]
    hand = px[:, part]
    ok = np.isfinite(hand).all(axis=(1, 2))
    if not ok.any():
        raise ValueError(f"{sample.path.name}: no signing hand to wrap")
    shoulders = (px[:, _L_SH, :2] + px[:, _R_SH, :2]) / 2
    centre = np.nanmedian(shoulders, axis=0)
    sw = float(np.nanmedian(np.linalg.norm(px[:, _L_SH, :2] - px[:, _R_SH, :2], axis=-1)))
    tall = float(np.median(np.ptp(hand[ok, :, 1], axis=1)))
    s = min(1.0, HAND_PX / max(tall, 1e-6))
    W, H = CANVAS
    dest = np.array([W / 2, H * SHOULDERS_AT])
    px[..., :2] = (px[..., :2] - centre) * s + dest
    px[..., 2] *= s
    sw *= s

    # the rise and the drop of the signing hand (the rest of the body holds the first / last frame)
    dt = float(np.median(np.diff(sample.times_ms))) if len(sample.times_ms) > 1 else 1000 / 30
    first, last = int(np.flatnonzero(ok)[0]), int(np.flatnonzero(ok)[-1])

    def travel(at: int) -> np.ndarray:
        n = max(2, int(rng.uniform(*RISE_S) * 1000 / dt))
        away = np.linspace(1.0, 0.0, n, endpoint=False)  # 1 at rest .. just short of the recording's frame
        u = _smooth(away)
        end = px[at, part]
        wrist0 = end[0, :2]
        rest = dest + np.array([(0.3 if side == 1 else -0.3) * sw, REST_DEPTH * sw])
        bulge = np.sin(np.pi * u) * rng.uniform(0.2, 0.5) * sw * (1 if side == 1 else -1)
        wrist = wrist0 + (rest - wrist0) * u[:, None] + np.stack([bulge, np.zeros_like(u)], -1)
        palm = float(np.linalg.norm(end[9, :2] - end[0, :2]))
        start = int(rng.integers(len(passing)))
        shapes = passing[(start + np.arange(n)) % len(passing)].astype(np.float64) * palm
        if side == 0:
            shapes[..., 0] *= -1.0  # back to a left hand
        formed = (1.0 - _smooth((away - 0.05) / 0.4))[:, None, None]  # the recording's own shape near the end
        shape = shapes + ((end - end[:1]) - shapes) * formed
        out = np.repeat(px[at][None], n, axis=0)
        out[:, part] = shape + np.concatenate([wrist, np.zeros((n, 1))], -1)[:, None, :]
        out[:, part, 2] -= out[:, part][:, :1, 2]
        return out

    rise, drop = travel(first), travel(last)[::-1]
    body = np.concatenate([rise, px[first:last + 1], drop])
    n_rise, n_drop = len(rise), len(drop)
    times = np.concatenate([sample.times_ms[first] - dt * np.arange(n_rise, 0, -1), sample.times_ms[first:last + 1],
                            sample.times_ms[last] + dt * np.arange(1, n_drop + 1)])
    times -= times[0]
    for p in (layout.LEFT_HAND, layout.RIGHT_HAND):  # a smaller hand is tracked less precisely
        body[:, p] += rng.normal(0, HAND_NOISE_PX, body[:, p].shape) * np.array([1.0, 1.0, 0.0])
    out = np.empty_like(body, np.float32)
    out[..., 0], out[..., 1], out[..., 2] = body[..., 0] / W, body[..., 1] / H, body[..., 2] / W
    for p in (layout.LEFT_HAND, layout.RIGHT_HAND):  # a hand whose wrist or middle knuckle leaves the frame is lost
        gone = ~((out[:, p.start, 1] < 1.0) & (out[:, p.start + 9, 1] < 1.0) & (out[:, p.start, 0] > 0) &
                 (out[:, p.start, 0] < 1.0))
        out[gone, p] = np.nan
    return dataclasses.replace(sample, frames=out, times_ms=times, frame_wh=(int(W), int(H)))


def signing_video_shapes(data_dir: Path, cache_dir: Path | None) -> np.ndarray:
    """Passing shapes from ../shared/data/signing-video (Holistic landmarks, cached)."""
    from asl_gpt.landmarks.video import probe
    from asl_gpt.training.evaluate import video_landmarks

    videos = sorted((Path(data_dir) / "signing-video").glob("*.mp4"))
    frames, aspects = [], []
    for v in videos:
        f, _ = video_landmarks(v, cache_dir)
        frames.append(f)
        aspects.append(probe(v).aspect)
    return passing_shapes(frames, aspects)
