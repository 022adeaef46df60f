"""The real-recording variants the app must survive (faster spelling, ordinary use) and the edit
operations counted per signer. Pure numpy, on a hand-made recording."""

from pathlib import Path

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.landmarks import layout
from asl_gpt.training import variants
from asl_gpt.training.metrics import edit_operations
from asl_gpt.training.real import RealSample

_L_SH, _R_SH = layout.POSE.start + 11, layout.POSE.start + 12


def recording(n: int = 60) -> RealSample:
    """A portrait 720 x 1280 learner: shoulders at (0.4..0.6, 0.5), the right hand held up beside the face
    (a hand about 100 px tall), the left hand resting low."""
    f = layout.empty_frames(n)
    f[:, _L_SH] = (0.6, 0.5, 0.0)
    f[:, _R_SH] = (0.4, 0.5, 0.0)
    rng = np.random.default_rng(0)
    hand = np.stack([np.linspace(0, 0.05, 21), np.linspace(0, -0.08, 21), np.zeros(21)], -1)
    for i in range(n):
        f[i, layout.RIGHT_HAND] = hand + (0.38, 0.45, 0.0) + rng.normal(0, 0.001, (21, 3))
        f[i, layout.LEFT_HAND] = hand * (-1, -1, 1) + (0.62, 0.8, 0.0)
    return RealSample(Path("CAT.mp4"), "cat", "0", "word", f, np.arange(n) * 33.3, (720, 1280))


def test_faster_keeps_every_kth_frame_at_the_same_rate():
    s = recording()
    f = variants.faster(s, 3)
    assert len(f.frames) == 20 and np.allclose(np.diff(f.times_ms), 33.3)
    assert variants.faster(s, 1) is s


def test_ordinary_use_is_small_landscape_and_rises_and_drops():
    s = recording()
    passing = variants.passing_shapes([s.frames], [720 / 1280])
    o = variants.ordinary(s, passing, seed=1)
    assert o.frame_wh == (1280, 720) and len(o.frames) > len(s.frames)
    hand = o.frames[:, layout.RIGHT_HAND]
    seen = np.isfinite(hand[:, 0, 0])
    tall = np.median(np.ptp(hand[seen, :, 1], axis=1)) * 720
    assert 50 < tall < 70  # about HAND_PX
    h = features.hand_heights(o.frames, o.aspect)[:, 1]
    held = np.nanmedian(h)
    assert np.nanmin(h[: len(h) // 4]) < held - 1.0 and np.nanmin(h[-len(h) // 4:]) < held - 1.0  # from and to rest
    assert np.isfinite(np.diff(o.times_ms)).all() and (np.diff(o.times_ms) > 0).all()
    again = variants.ordinary(s, passing, seed=1)
    np.testing.assert_array_equal(np.nan_to_num(again.frames), np.nan_to_num(o.frames))  # the same for every model


def test_edit_operations_by_kind_and_place():
    e = edit_operations("tiger", "fgtigeuru")  # the rise read as f, g; a transition as u; the drop as u
    assert e["insert"] == {"start": 2, "inside": 1, "end": 1} and not any(e["delete"].values())
    assert edit_operations("her", "heu")["substitute"] == {"start": 0, "inside": 0, "end": 1}
    assert edit_operations("me", "")["delete"]["inside"] == 2
    assert not any(v for op in edit_operations("cat", "cat").values() for v in op.values())
