"""Headless Chromium with a fake camera, for the app's benchmark and browser tests.

Uses Playwright's Python package driving the system's Debian `chromium` (never a downloaded
browser). The fake camera plays a Y4M file in a loop; `write_y4m` makes one from any video
OpenCV reads (the signing videos are MP4).
"""

from __future__ import annotations

import logging
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
BASE_FLAGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    # a headless tab counts as hidden: without these, timers in the page are throttled to 1 Hz
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)


def chromium_path() -> str | None:
    """The system chromium, or None (browser tests then skip, the benchmark says so)."""
    for p in (CHROMIUM, shutil.which("chromium"), shutil.which("chromium-browser")):
        if p and Path(p).is_file():
            return p
    return None


def _fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale to fit inside width x height, keep the aspect, pad with black (letterbox)."""
    import cv2

    h, w = rgb.shape[:2]
    s = min(width / w, height / h)
    nw, nh = max(2, round(w * s)) // 2 * 2, max(2, round(h * s)) // 2 * 2
    small = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.zeros((height, width, 3), np.uint8)
    y0, x0 = (height - nh) // 2, (width - nw) // 2
    out[y0:y0 + nh, x0:x0 + nw] = small
    return out


def write_y4m(video: str | Path, out: str | Path, width: int = 640, height: int = 480, fps: int = 30,
              min_seconds: float = 0.0, pingpong: bool = True) -> Path:
    """A Y4M (I420) file for Chromium's --use-file-for-fake-video-capture, from a video file.

    The clip is letterboxed to width x height. `pingpong` plays it forwards then backwards so the
    camera's loop has no jump; it repeats until it lasts `min_seconds`.
    """
    import cv2

    from asl_gpt.landmarks.video import read_video

    frames = [_fit(f.rgb, width, height) for f in read_video(video)]
    if pingpong and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    seq = list(frames)
    while len(seq) < min_seconds * fps:
        seq += frames
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in seq:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
    log.info("wrote %s: %d frames %dx%d", out, len(seq), width, height)
    return out


@contextmanager
def browser(fake_video: str | Path | None = None, timeout_s: float = 60.0) -> Iterator:
    """A Playwright Browser on the system chromium; the fake camera plays `fake_video` (Y4M) if given."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no chromium found (install the Debian package `chromium`)")
    flags = list(BASE_FLAGS)
    if fake_video:
        flags.append(f"--use-file-for-fake-video-capture={Path(fake_video).resolve()}")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=flags, timeout=timeout_s * 1000)
        try:
            yield b
        finally:
            b.close()  # Playwright gave it a fresh profile directory and removes it
