"""Draw what the recogniser sees on a frame: landmarks, the current text, a confidence bar, utterances.

Pure OpenCV on numpy arrays; used by `asl-gpt live` and by the app's returned video frames.
"""

from __future__ import annotations

import numpy as np

from asl_gpt.landmarks import layout

# MediaPipe hand skeleton (21 points).
HAND_EDGES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
              (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (17, 18), (18, 19), (19, 20), (0, 17))
POSE_EDGES = ((11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24))

# BGR-free: we draw on RGB images, so colours are (R, G, B).
GREEN, ORANGE, WHITE, GREY, RED, BLACK = (40, 220, 90), (255, 160, 30), (255, 255, 255), (160, 160, 160), (230, 60, 60), (0, 0, 0)


def _pts(lm: np.ndarray, part: slice, w: int, h: int) -> np.ndarray:
    p = lm[part, :2]
    out = np.full((len(p), 2), -1, np.int32)
    ok = np.isfinite(p).all(axis=1)
    out[ok] = np.round(p[ok] * (w, h)).astype(np.int32)
    return out


def draw_landmarks(rgb: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Hands (skeleton), upper-body pose and a sparse face outline, drawn in place; returns the image."""
    import cv2

    h, w = rgb.shape[:2]
    face = _pts(lm, layout.FACE, w, h)
    for x, y in face[::6]:
        if x >= 0:
            cv2.circle(rgb, (int(x), int(y)), 1, GREY, -1)
    pose = _pts(lm, layout.POSE, w, h)
    for a, b in POSE_EDGES:
        if pose[a, 0] >= 0 and pose[b, 0] >= 0:
            cv2.line(rgb, tuple(map(int, pose[a])), tuple(map(int, pose[b])), GREY, 2)
    for part, colour in ((layout.LEFT_HAND, ORANGE), (layout.RIGHT_HAND, GREEN)):
        pts = _pts(lm, part, w, h)
        for a, b in HAND_EDGES:
            if pts[a, 0] >= 0 and pts[b, 0] >= 0:
                cv2.line(rgb, tuple(map(int, pts[a])), tuple(map(int, pts[b])), colour, 2)
        for x, y in pts:
            if x >= 0:
                cv2.circle(rgb, (int(x), int(y)), 3, WHITE, -1)
    return rgb


def draw_status(rgb: np.ndarray, text: str, confidence: float, threshold: float,
                hands_visible: bool, utterances: list[str] = ()) -> np.ndarray:
    """The pending text in large type, a confidence bar with the threshold mark, recent utterances."""
    import cv2

    h, w = rgb.shape[:2]
    scale = max(0.5, w / 900)
    band = int(70 * scale)
    cv2.rectangle(rgb, (0, h - band), (w, h), BLACK, -1)
    shown = text[-40:] if text else ("no hands in view" if not hands_visible else "...")
    low = bool(text) and confidence < threshold
    cv2.putText(rgb, shown, (int(10 * scale), h - int(28 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 1.1 * scale,
                ORANGE if low else WHITE, max(1, int(2 * scale)), cv2.LINE_AA)
    # confidence bar along the bottom edge; the tick marks the threshold
    bar_w = w - int(20 * scale)
    x0, y0, y1 = int(10 * scale), h - int(16 * scale), h - int(6 * scale)
    cv2.rectangle(rgb, (x0, y0), (x0 + bar_w, y1), GREY, 1)
    cv2.rectangle(rgb, (x0, y0), (x0 + int(bar_w * max(0.0, min(1.0, confidence))), y1), RED if low else GREEN, -1)
    tx = x0 + int(bar_w * threshold)
    cv2.line(rgb, (tx, y0 - 4), (tx, y1 + 4), WHITE, 2)
    for i, u in enumerate(list(utterances)[-3:]):
        org = (int(10 * scale), int((28 + 26 * i) * scale))
        (tw, th), _ = cv2.getTextSize(u[-48:], cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, max(1, int(2 * scale)))
        cv2.rectangle(rgb, (org[0] - 4, org[1] - th - 6), (org[0] + tw + 4, org[1] + 6), BLACK, -1)  # legible on any background
        cv2.putText(rgb, u[-48:], org, cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, WHITE, max(1, int(2 * scale)), cv2.LINE_AA)
    return rgb
