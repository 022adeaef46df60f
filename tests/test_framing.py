"""Webcam-framed variants of real recordings (asl_gpt.training.framing): the crop is derived from the body,
puts the shoulders where a laptop camera has them, and the held landmark frames keep the video's times."""

import numpy as np

from asl_gpt.landmarks import layout
from asl_gpt.training import framing


def _standing(n: int = 10) -> np.ndarray:
    """A portrait 720x1280 recording's landmarks: shoulders 260 px apart at y 630, nose at 500, a raised
    right hand about 90 px wide."""
    f = layout.empty_frames(n)
    w, h = 720.0, 1280.0
    f[:, layout.POSE.start + 0] = (450 / w, 500 / h, 0)
    f[:, layout.POSE.start + 11] = (580 / w, 630 / h, 0)
    f[:, layout.POSE.start + 12] = (320 / w, 630 / h, 0)
    hand = np.random.default_rng(0).uniform(0, 90, (21, 2)) + (250, 350)
    f[:, layout.RIGHT_HAND, 0] = hand[:, 0] / w
    f[:, layout.RIGHT_HAND, 1] = hand[:, 1] / h
    return f


def _apply(m: np.ndarray, xy) -> np.ndarray:
    return m[:, :2] @ np.asarray(xy, float) + m[:, 2]


def test_the_webcam_crop_puts_the_shoulders_two_thirds_down_a_16_9_frame():
    g = framing.body_geometry(_standing(), (720, 1280))
    assert abs(g.shoulder_width - 260) < 1 and abs(g.nose_y - 500) < 1 and 80 < g.hand_width <= 90
    fr = framing.FRAMINGS["webcam"]
    m = framing.crop_matrix(g, fr)
    w, h = fr.out_wh
    assert w / h == 16 / 9
    sx, sy = _apply(m, g.shoulder_mid)
    assert abs(sx - w / 2) < 1e-6 and 0.55 <= sy / h <= 0.75
    top = _apply(m, (450, 500 - framing.HEAD_ROOM * g.shoulder_width))[1]
    assert abs(top) < 1e-6  # the head's top at the frame's top
    bottom = (h - sy) / (m[0, 0] * g.shoulder_width)  # shoulder widths below the shoulders: mid-chest
    assert 0.4 < bottom < 0.9


def test_the_far_crop_shrinks_the_hand_to_its_size_and_keeps_the_shoulders_in_place():
    g = framing.body_geometry(_standing(), (720, 1280))
    near, far = (framing.crop_matrix(g, framing.FRAMINGS[k]) for k in ("webcam", "far"))
    assert far[0, 0] < near[0, 0]
    assert abs(g.hand_width * far[0, 0] - framing.FRAMINGS["far"].hand_px) < 1e-6
    assert np.allclose(_apply(far, g.shoulder_mid), _apply(near, g.shoulder_mid))


def test_held_frames_keep_the_videos_times():
    frames = _standing(3)
    rep, t = framing.held(frames, np.array([0.0, 100.0, 200.0]), 3, 30.0)
    assert len(rep) == 9 and np.allclose(np.diff(t), 100 / 3, atol=0.01)
    assert np.array_equal(rep[4], frames[1], equal_nan=True)


def test_no_pose_no_geometry():
    assert framing.body_geometry(layout.empty_frames(4), (640, 360)) is None


def test_the_cache_key_changes_with_the_framing():
    assert framing._key(framing.FRAMINGS["webcam"], 3) != framing._key(framing.FRAMINGS["far"], 3)
    assert framing._key(framing.FRAMINGS["webcam"], 3) != framing._key(framing.FRAMINGS["webcam"], 2)
