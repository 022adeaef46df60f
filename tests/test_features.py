"""Layout, features and the parquet layout: pure, no camera or weights."""

import numpy as np
import pytest

from asl_gpt import features
from asl_gpt.features import FeatureSpec
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
