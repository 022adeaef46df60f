"""What a laptop camera sees, made from the pixels of a real recording: webcam-framed variants.

The real evaluation set is learners standing in a portrait frame. A laptop sees a seated signer in a
landscape 16:9 frame: head and shoulders, the shoulders about two thirds down, the frame's bottom at
mid-chest, the resting hand at or below the bottom edge. Moving landmarks cannot show what Holistic
does with a body cut at the chest, so each variant is made at the pixel level and Holistic runs on it:

1. Holistic reads the original (every `frame_step`-th frame); the median nose and shoulders of the
   video give one fixed crop per video (`crop_matrix`): the head's top `HEAD_ROOM` shoulder widths
   above the nose, the shoulders at `shoulders_at` of the height, 16:9, centred on the shoulders.
2. Every frame is cropped and scaled into `out_wh` with that one affine warp; where the crop leaves
   the source it is padded with the video's background colour (the median of its side borders).
   `far`: the same anchor, zoomed out until the signing hand is `hand_px` wide.
3. Holistic reads the new pixels (one tracking session per video and variant).

Holistic costs about 50-90 ms a frame on one core, so only every `frame_step`-th frame is read; each
landmark frame is then held for the frames skipped (same times as the video), so the runtime's gates,
which count frames, see the video's own frame rate (the model reads at most 15 fps anyway).

Landmarks are cached (`np.load`, the format of asl_gpt.training.real's cache plus `variant` and
`params`) under a folder named by the variant and a hash of its parameters: never committed (the set
has no licence).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from asl_gpt.landmarks import layout
from asl_gpt.training.real import MAX_SIDE, RealItem, RealSample

log = logging.getLogger(__name__)

HEAD_ROOM = 0.6  # shoulder widths above the nose to the frame's top: the top of the head, with a little air
_NOSE, _L_SH, _R_SH = layout.POSE.start + 0, layout.POSE.start + 11, layout.POSE.start + 12


@dataclass(frozen=True)
class Framing:
    name: str
    shoulders_at: float = 0.65  # the shoulders' midpoint as a fraction of the frame's height (laptop: 0.55-0.75)
    out_wh: tuple[int, int] = (640, 360)  # a laptop camera's 16:9 frame, as Holistic gets it after max_side
    hand_px: float = 0.0  # > 0: zoom out (never in) until the signing hand is this wide (far from the camera)
    frame_step: int = 3  # Holistic reads every this-many-th frame (cost); the frames between hold its landmarks


FRAMINGS: dict[str, Framing | None] = {
    "original": None,  # the recording as it is (same frame step, so it compares with the others)
    "webcam": Framing("webcam"),
    "far": Framing("far", hand_px=55.0),  # the held-back webcam signers' hands: 50-80 px in 640x360
}
FRAME_STEP = Framing.frame_step
EXTRACTOR = "mediapipe holistic, model_complexity=1, video mode, no face mesh, every frame_step-th frame"


@dataclass(frozen=True)
class Geometry:
    """A video's body in source pixels (medians over the frames where the pose is seen)."""
    shoulder_mid: tuple[float, float]
    shoulder_width: float
    nose_y: float
    hand_width: float  # the signing hand's width (its larger extent), NaN when no hand was seen


def body_geometry(frames: np.ndarray, wh: tuple[int, int]) -> Geometry | None:
    """Median nose, shoulders and signing-hand size, in pixels, of landmarks float32[T, 543, 3] of a
    `wh` frame; None when the pose is never seen."""
    scale = np.array(wh, np.float64)
    ls, rs, nose = (frames[:, k, :2].astype(np.float64) * scale for k in (_L_SH, _R_SH, _NOSE))
    ok = np.isfinite(ls).all(1) & np.isfinite(rs).all(1) & np.isfinite(nose).all(1)
    if not ok.any():
        return None
    mid = np.median((ls[ok] + rs[ok]) / 2, axis=0)
    sw = float(np.median(np.linalg.norm(ls[ok] - rs[ok], axis=1)))
    widths = []
    for part in (layout.LEFT_HAND, layout.RIGHT_HAND):
        h = frames[:, part, :2].astype(np.float64) * scale
        seen = np.isfinite(h).all(axis=(1, 2))
        ext = (h[seen].max(1) - h[seen].min(1)).max(1) if seen.any() else np.zeros(0)
        widths.append((len(ext), float(np.median(ext)) if len(ext) else float("nan")))
    hand = max(widths)[1]  # the hand seen most often signs (the other rests out of view or low)
    return Geometry((float(mid[0]), float(mid[1])), sw, float(np.median(nose[ok, 1])), hand)


def crop_matrix(g: Geometry, framing: Framing) -> np.ndarray:
    """float64[2, 3] affine map from source pixels to the framed picture: head room above the nose, the
    shoulders at `shoulders_at` of the height, centred on the shoulders, scaled into `out_wh`."""
    w, h = framing.out_wh
    top = g.nose_y - HEAD_ROOM * g.shoulder_width
    src_h = max((g.shoulder_mid[1] - top) / framing.shoulders_at, 1.0)  # source pixels the frame's height spans
    s = h / src_h
    if framing.hand_px > 0 and np.isfinite(g.hand_width) and g.hand_width * s > framing.hand_px:
        s = framing.hand_px / g.hand_width  # far: zoomed out about the shoulders' point
    tx = w / 2 - s * g.shoulder_mid[0]
    ty = framing.shoulders_at * h - s * g.shoulder_mid[1]
    return np.array([[s, 0.0, tx], [0.0, s, ty]])


def background_colour(bgr: np.ndarray) -> tuple[int, int, int]:
    """The median colour of the frame's left and right borders (5 % each): walls, rarely the signer."""
    k = max(1, bgr.shape[1] // 20)
    strips = np.concatenate([bgr[:, :k].reshape(-1, 3), bgr[:, -k:].reshape(-1, 3)])
    return tuple(int(v) for v in np.median(strips, axis=0))


def frame_picture(bgr: np.ndarray, m: np.ndarray, framing: Framing, colour) -> np.ndarray:
    """The framed picture of one source frame (uint8 BGR [h, w, 3])."""
    import cv2

    return cv2.warpAffine(bgr, m, framing.out_wh, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=colour)


def _frames(path: Path, step: int):
    """(t_ms, BGR frame) of every `step`-th frame of a video."""
    import cv2

    from asl_gpt.landmarks.video import probe

    info = probe(path)
    cap = cv2.VideoCapture(str(path))
    try:
        n = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            if n % step == 0:
                yield n * 1000.0 / info.fps, bgr
            n += 1
    finally:
        cap.release()


def _holistic(pictures) -> tuple[np.ndarray, np.ndarray]:
    """Holistic (video mode, no face mesh) over (t_ms, BGR) pictures -> (frames, times)."""
    import cv2

    from asl_gpt.landmarks.holistic import HolisticExtractor

    out, times = [], []
    with HolisticExtractor(face=False) as extract:
        for t, bgr in pictures:
            out.append(extract(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
            times.append(t)
    if not out:
        return layout.empty_frames(0), np.zeros(0)
    return np.stack(out), np.asarray(times, np.float64)


def _shrink(bgr: np.ndarray) -> np.ndarray:
    """The original as `asl-gpt recognize` feeds it to Holistic: at most MAX_SIDE pixels on its longer side."""
    import cv2

    s = MAX_SIDE / max(bgr.shape[:2])
    return cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else bgr


def extract_framings(path: Path, framings: list[Framing], step: int = FRAME_STEP) -> dict[str, tuple]:
    """{variant: (frames, times_ms, (w, h), params)} for the original and each framing of one video."""
    from asl_gpt.landmarks.video import probe

    info = probe(path)
    first = next(_frames(path, step))[1]
    small = _shrink(first).shape
    frames, times = _holistic((t, _shrink(b)) for t, b in _frames(path, step))
    out = {"original": (frames, times, (small[1], small[0]), {"frame_step": step})}
    g = body_geometry(frames, (info.width, info.height))
    if g is None:
        log.warning("%s: no pose seen, so no framed variants", path.name)
        return out
    colour = background_colour(first)
    for fr in framings:
        m = crop_matrix(g, fr)
        f2, t2 = _holistic((t, frame_picture(b, m, fr, colour)) for t, b in _frames(path, step))
        params = {**asdict(fr), "frame_step": step, "matrix": np.round(m, 4).tolist(), "geometry": asdict(g)}
        out[fr.name] = (f2, t2, fr.out_wh, params)
    return out


def held(frames: np.ndarray, times_ms: np.ndarray, step: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Each landmark frame held over the `step` video frames it stands for, at their own times."""
    if step <= 1 or not len(frames):
        return frames, times_ms
    rep = np.repeat(frames, step, axis=0)
    t = (np.repeat(times_ms, step) + np.tile(np.arange(step) * 1000.0 / fps, len(times_ms)))
    return rep, t


def _key(framing: Framing | None, step: int) -> str:
    params = json.dumps(asdict(framing) if framing else {"name": "original"}, sort_keys=True) + f"|{step}|{HEAD_ROOM}"
    return hashlib.sha256(params.encode()).hexdigest()[:10]


def cache_path(item: RealItem, variant: str, cache_dir: Path, step: int = FRAME_STEP) -> Path:
    st = item.path.stat()
    rel = Path(item.rel)
    return Path(cache_dir) / f"{variant}-{_key(FRAMINGS[variant], step)}" / rel.parent / \
        f"{rel.name}.{st.st_size}-{int(st.st_mtime)}.npz"


def framed_sample(item: RealItem, variant: str, cache_dir: Path, step: int = FRAME_STEP) -> RealSample:
    """One recording in one framing (see FRAMINGS), its landmarks from the cache or Holistic on the
    framed pixels (all variants of a video are made together: they share the pass over the original)."""
    from asl_gpt.errors import InputError
    from asl_gpt.landmarks.video import probe

    if variant not in FRAMINGS:
        raise InputError(f"unknown framing {variant!r} (one of {', '.join(FRAMINGS)})")
    if item.path.suffix.lower() == ".parquet":
        raise InputError(f"--framing needs videos, not landmark files ({item.rel})")
    cache = cache_path(item, variant, cache_dir, step)
    if not cache.is_file():
        made = extract_framings(item.path, [f for f in FRAMINGS.values() if f is not None], step)
        for name, (frames, times, wh, params) in made.items():
            _save(cache_path(item, name, cache_dir, step), item, name, frames, times, wh, params)
        if not cache.is_file():
            raise InputError(f"{item.rel}: no pose seen, so no {variant} framing")
    with np.load(cache) as d:
        frames, times, wh = d["frames"], d["times_ms"], tuple(int(v) for v in d["frame_wh"])
    frames, times = held(frames.astype(np.float32), times.astype(np.float64), step, probe(item.path).fps)
    return RealSample(item.path, item.label, item.signer, item.kind, frames, times, wh)


def _save(path: Path, item: RealItem, variant: str, frames, times, wh, params) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")  # never a half-written file under the real name
    np.savez_compressed(tmp, frames=frames.astype(np.float32), times_ms=np.asarray(times, np.float64),
                        frame_wh=np.array(wh, np.int32), source=np.array(item.rel), extractor=np.array(EXTRACTOR),
                        variant=np.array(variant), params=np.array(json.dumps(params)))
    os.replace(tmp, path)
    log.info("cached %d %s frames of %s in %s", len(frames), variant, item.rel, path)


def write_preview(item: RealItem, variant: str, cache_dir: Path, out: Path, at: float = 0.5) -> None:
    """One framed picture (at fraction `at` of the video) as an image, to look at the framing (never committed)."""
    import cv2

    with np.load(cache_path(item, variant, cache_dir)) as d:
        params = json.loads(str(d["params"]))
    frames = list(_frames(item.path, 1))
    bgr = frames[int(at * (len(frames) - 1))][1]
    fr = FRAMINGS[variant]
    cv2.imwrite(str(out), frame_picture(bgr, np.array(params["matrix"]), fr, background_colour(frames[0][1])))


if __name__ == "__main__":  # python -m asl_gpt.training.framing DIR CACHE: fill the cache (background job)
    import sys

    from tqdm import tqdm

    from asl_gpt.training.real import list_set

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    items = [i for i in list_set(sys.argv[1]) if i.kind == "word"]
    by_signer: dict[str, list] = {}
    for i in items:
        by_signer.setdefault(i.signer, []).append(i)
    items = [i for k in range(len(items)) for s in sorted(by_signer) for i in by_signer[s][k:k + 1]]  # signers in turn
    for i in tqdm(items, desc="framed videos", unit="video"):
        framed_sample(i, "webcam", Path(sys.argv[2]))
