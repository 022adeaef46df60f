"""Camera and video-file frames as RGB arrays with timestamps: the only module that opens OpenCV captures."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from asl_gpt.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    t_ms: float  # time since the start of the stream
    rgb: np.ndarray  # uint8[H, W, 3], RGB, unmirrored


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    frames: int  # as reported by the container; may be 0 or wrong for some files
    width: int
    height: int

    @property
    def aspect(self) -> float:
        """Width / height (1.0 where the container does not say): landmark x and y are fractions of each."""
        return self.width / self.height if self.width and self.height else 1.0


def _cv2():
    # FFmpeg inside OpenCV prints its own complaint about unreadable files; we raise a clearer one.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    import cv2  # opencv-contrib-python, installed with mediapipe

    return cv2


def probe(path: str | Path) -> VideoInfo:
    """Open a video file and report its properties; InputError if it is missing or unreadable."""
    cap = _open_file(path)
    try:
        return _info(cap)
    finally:
        cap.release()


def _info(cap) -> VideoInfo:
    cv2 = _cv2()
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    return VideoInfo(
        fps=fps if 1.0 <= fps <= 240.0 else 30.0,
        frames=int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
        width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
        height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0),
    )


def _open_file(path: str | Path):
    cv2 = _cv2()
    p = Path(path)
    if not p.exists():
        raise InputError(f"video not found: {p}")
    if not p.is_file():
        raise InputError(f"not a video file: {p}")
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        raise InputError(f"cannot read video {p}: OpenCV does not recognise its format")
    return cap


def read_video(path: str | Path, max_side: int | None = None) -> Iterator[Frame]:
    """Frames of a video file with container timestamps (frame index / fps).

    Raises InputError for a missing, unreadable or empty file. `max_side` shrinks large frames
    (MediaPipe's cost grows with pixels; 640 px is plenty for landmarks).
    """
    cap = _open_file(path)
    info = _info(cap)
    n = 0
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            yield Frame(t_ms=n * 1000.0 / info.fps, rgb=_to_rgb(bgr, max_side))
            n += 1
    finally:
        cap.release()
    if n == 0:
        raise InputError(f"video {path} has no readable frames")


def open_camera(index: int = 0, width: int = 640, height: int = 480):
    """An opened cv2.VideoCapture for camera `index`; InputError when there is none."""
    cv2 = _cv2()
    cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        cap.release()
        raise InputError(f"no camera at index {index} (is one connected, and is access allowed?)")
    cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    return cap


def read_camera(index: int = 0, width: int = 640, height: int = 480, clock=None) -> Iterator[Frame]:
    """Frames from a live camera, timestamped with a monotonic clock; stops when the camera stops."""
    import time

    clock = clock or time.monotonic
    cap = open_camera(index, width, height)
    t0 = clock()
    failures = 0
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                failures += 1
                if failures > 30:  # about a second of nothing: the camera went away
                    log.warning("camera %d stopped delivering frames", index)
                    return
                continue
            failures = 0
            yield Frame(t_ms=(clock() - t0) * 1000.0, rgb=_to_rgb(bgr, None))
    finally:
        cap.release()


def _to_rgb(bgr: np.ndarray, max_side: int | None) -> np.ndarray:
    cv2 = _cv2()
    if max_side and max(bgr.shape[:2]) > max_side:
        s = max_side / max(bgr.shape[:2])
        bgr = cv2.resize(bgr, (round(bgr.shape[1] * s), round(bgr.shape[0] * s)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
