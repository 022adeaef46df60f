"""Layout, features and the parquet layout: pure, no camera or weights."""

import numpy as np
import pytest

from asl_gpt.recognition import features
from asl_gpt.recognition.features import FeatureSpec
from asl_gpt.landmarks import io, layout


def test_layout_order_and_columns():
    assert layout.N_POINTS == 543
    assert layout.OFFSETS == {"face": 0, "left_hand": 468, "pose": 489, "right_hand": 522}
    cols = layout.column_names()
    assert len(cols) == 543 * 3 and cols[0] == "x_face_0" and cols[543] == "y_face_0" and cols[-1] == "z_right_hand_20"
    assert layout.parse_column("y_right_hand_3") == (525, 1)
    with pytest.raises(ValueError):
        layout.parse_column("w_hand_1")


def test_mirror_permutation_swaps_hands(data_dir):
    perm = layout.mirror_permutation(data_dir / "kaggle-format" / "symmetry.csv")
    assert perm[layout.point_index("left_hand", 4)] == layout.point_index("right_hand", 4)
    assert perm[layout.point_index("pose", 11)] == layout.point_index("pose", 12)
    assert sorted(perm) == list(range(543))


def test_competition_spec_columns_parse(data_dir):
    import json

    cols = json.loads((data_dir / "kaggle-format" / "inference_args.json").read_text())["selected_columns"]
    frames = np.random.default_rng(0).random((5, 543, 3), dtype=np.float32)
    x = features.select(frames, tuple(cols))
    rows, axes = layout.columns_to_index(cols)
    assert x.shape == (5, 390) and np.allclose(x[:, 7], frames[:, rows[7], axes[7]])


def test_normalise_keeps_nan_semantics_and_standardises():
    cols = features.hand_columns()
    rng = np.random.default_rng(1)
    frames = layout.empty_frames(10)
    frames[:, layout.RIGHT_HAND] = rng.normal(0.5, 0.1, (10, 21, 3))
    x = features.select(frames, cols)
    assert np.isnan(x[:, :21]).all()  # left hand missing stays NaN until normalised
    n = features.normalise(x, cols)
    assert np.isfinite(n).all() and (n[:, :21] == 0).all()
    xs = n[:, [i for i, c in enumerate(cols) if c.startswith("x_right")]]
    assert abs(xs.mean()) < 1e-5 and abs(xs.std() - 1) < 1e-4


def test_fit_window_pads_and_resamples():
    x = np.arange(10, dtype=np.float32)[:, None]
    w, m = features.fit_window(x, 16)
    assert w.shape == (16, 1) and m.sum() == 10 and w[9, 0] == 9 and w[10, 0] == 0
    w, m = features.fit_window(np.arange(100, dtype=np.float32)[:, None], 16)
    assert m.all() and w[0, 0] == 0 and w[-1, 0] == 99 and np.all(np.diff(w[:, 0]) > 0)
    w, m = features.fit_window(np.zeros((0, 3), np.float32), 8)
    assert not m.any()


def test_prepare_shapes_and_hands_present():
    spec = FeatureSpec(features.hands_pose_columns(), 32)
    frames = layout.empty_frames(40)
    frames[5:20, layout.LEFT_HAND] = 0.4
    window, mask = features.prepare(frames, spec)
    assert window.shape == (32, spec.n_features) and mask.shape == (32,) and np.isfinite(window).all()
    assert features.hands_present(frames).sum() == 15


def test_parquet_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    frames = rng.random((7, 543, 3)).astype(np.float32)
    frames[2, layout.LEFT_HAND] = np.nan
    io.write_parquet(frames, tmp_path / "a.parquet")
    back = io.read_parquet(tmp_path / "a.parquet")
    assert np.array_equal(np.isnan(back), np.isnan(frames)) and np.allclose(np.nan_to_num(back), np.nan_to_num(frames))
    import pandas as pd

    df = pd.read_parquet(tmp_path / "a.parquet")
    assert list(df.columns[:2]) == ["frame", "x_face_0"] and df.shape == (7, 1 + 543 * 3)


def test_reader_accepts_missing_column_groups(data_dir):
    frames = io.read_parquet(data_dir / "seed-capture" / "output_landmarks.parquet")
    assert frames.shape == (261, 543, 3)
    assert np.isnan(frames[:, layout.LEFT_HAND]).all()  # the file has no left-hand columns
    assert np.isfinite(frames[:, layout.FACE]).all()


def test_reader_errors_are_one_line(tmp_path):
    from asl_gpt.errors import InputError

    with pytest.raises(InputError, match="not found"):
        io.read_parquet(tmp_path / "missing.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="cannot read"):
        io.read_parquet(tmp_path / "bad.parquet")


# --- the signing hand -------------------------------------------------------------------------------

def _body_with_hands(right: np.ndarray | None, left: np.ndarray | None = None) -> np.ndarray:
    """One frame: shoulders at y 0.5 (width 0.3), and the given hands ([21, 3], image units)."""
    f = layout.empty_frames(1)[0]
    f[layout.POSE.start + 11] = (0.65, 0.5, 0.0)  # the signer's left shoulder (image right)
    f[layout.POSE.start + 12] = (0.35, 0.5, 0.0)
    if right is not None:
        f[layout.RIGHT_HAND] = right
    if left is not None:
        f[layout.LEFT_HAND] = left
    return f


def _a_hand(seed: int = 0) -> np.ndarray:
    """A plausible right hand ([21, 3], palm length ~1) with fingers spread at random."""
    g = np.random.default_rng(seed)
    p = np.zeros((21, 3))
    for f, base in enumerate(np.linspace(-0.5, 0.6, 5)):
        d = np.array([np.sin(base), -np.cos(base), 0.0])
        for j in range(4):
            d = d + g.normal(0, 0.25, 3)
            p[1 + 4 * f + j] = (p[4 * f + j] if j else 0.0) + d / np.linalg.norm(d) * (0.5 if j else 1.0)
    return p


def test_hand_invariants_ignore_scale_position_and_rotation():
    hand = _a_hand()
    base = features.hand_invariants(hand)
    angle = np.radians(35)
    rot = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    moved = (hand @ rot.T) * 0.07 + np.array([0.4, 0.3, 0.0])
    other = features.hand_invariants(moved)
    shape_part = slice(0, 60)  # palm-frame coordinates: untouched by a turn of the whole hand
    np.testing.assert_allclose(other[shape_part], base[shape_part], atol=1e-4)
    np.testing.assert_allclose(other[66:], base[66:], atol=1e-4)  # angles and distances
    assert not np.allclose(other[60:63], base[60:63], atol=1e-2)  # orientation is kept apart: it names letters


def test_left_hand_reads_like_the_mirrored_right_hand():
    hand = _a_hand(1) * 0.08 + np.array([0.3, 0.35, 0.0])
    right = _body_with_hands(hand)[None]
    mirrored = hand.copy()
    mirrored[:, 0] = 1.0 - mirrored[:, 0]
    left = _body_with_hands(None, mirrored)[None]
    left[0, layout.POSE.start + 11, 0], left[0, layout.POSE.start + 12, 0] = 0.35, 0.65
    a, _ = features.signing_hand_window(right, 4)
    b, _ = features.signing_hand_window(left, 4)
    np.testing.assert_allclose(a[0, :features.N_INVARIANTS], b[0, :features.N_INVARIANTS], atol=1e-4)


def test_aspect_makes_a_stretched_frame_read_like_the_square_one():
    hand = _a_hand(2) * 0.08 + np.array([0.5, 0.35, 0.0])
    square = features.hand_invariants(hand)
    stretched = hand.copy()
    stretched[:, 0] = stretched[:, 0] / 0.5625  # the same hand in a portrait 9:16 frame's x units
    stretched[:, 2] = stretched[:, 2] / 0.5625
    frame = _body_with_hands(stretched)[None]
    x, _ = features.signing_hand_window(frame, 2, aspect=0.5625)
    np.testing.assert_allclose(x[0, :features.N_INVARIANTS], square, atol=1e-4)
    wrong, _ = features.signing_hand_window(frame, 2, aspect=1.0)
    assert np.abs(wrong[0, :features.N_INVARIANTS] - square).max() > 0.1


def test_the_raised_hand_signs_and_a_resting_hand_does_not():
    raised = _a_hand(3) * 0.05 + np.array([0.3, 0.45, 0.0])  # at the shoulders
    resting = _a_hand(4) * 0.05 + np.array([0.7, 0.95, 0.0])  # 1.5 shoulder widths below them
    frames = np.stack([_body_with_hands(raised, resting)] * 3)
    assert features.signing_side(frames) == 1
    assert features.raised_hands(frames).all()
    only_resting = np.stack([_body_with_hands(None, resting)] * 3)
    assert not features.raised_hands(only_resting).any()
    assert features.hands_present(only_resting).all()
    swapped = np.stack([_body_with_hands(resting, raised)] * 3)
    assert features.signing_side(swapped) == 0  # a left-handed signer


def test_signing_hand_window_marks_missing_frames_and_pads():
    hand = _a_hand(5) * 0.05 + np.array([0.3, 0.45, 0.0])
    frames = np.stack([_body_with_hands(hand), _body_with_hands(None), _body_with_hands(hand)])
    x, mask = features.signing_hand_window(frames, 8)
    assert x.shape == (8, features.HAND_FEATURES) and mask.tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    assert x[:, features.N_INVARIANTS].tolist()[:3] == [1.0, 0.0, 1.0]  # the present flag
    assert np.isfinite(x).all() and not x[1, :features.N_INVARIANTS].any()
