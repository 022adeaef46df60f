"""The overlay draws landmarks, text and the confidence bar without touching pixels it should not."""

import numpy as np

from asl_gpt.landmarks import layout
from asl_gpt.recognition.overlay import draw_landmarks, draw_status


def test_draws_hand_and_status(test_output):
    img = np.zeros((480, 640, 3), np.uint8)
    lm = layout.empty_frames(1)[0]
    lm[layout.RIGHT_HAND, 0] = np.linspace(0.4, 0.6, 21)
    lm[layout.RIGHT_HAND, 1] = np.linspace(0.3, 0.5, 21)
    draw_landmarks(img, lm)
    assert img[100:300, 200:450].any() and not img[:80].any()  # drawn near the hand only
    draw_status(img, "where is gallaudet", 0.8, 0.5, True, ["hello"])
    assert img[-70:].any()
    import cv2

    cv2.imwrite(str(test_output / "overlay.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))


def test_all_nan_draws_nothing_but_the_status():
    img = np.zeros((240, 320, 3), np.uint8)
    draw_landmarks(img, layout.empty_frames(1)[0])
    assert not img.any()
    draw_status(img, "", 0.0, 0.5, False)
    assert img[-40:].any()
