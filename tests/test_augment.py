"""Augmentation invariants on raw landmark frames."""

import numpy as np
import pytest

from asl_gpt.landmarks import layout
from asl_gpt.training import augment as aug


def _frames(t=20, seed=0):
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.2, 0.8, (t, layout.N_POINTS, 3)).astype(np.float32)
    f[:, layout.LEFT_HAND] = np.nan  # one hand missing, like most fingerspelling
    f[3:5, layout.RIGHT_HAND] = np.nan
    return f


@pytest.fixture(scope="module")
def perm(data_dir):
    return layout.mirror_permutation(data_dir / "kaggle-format" / "symmetry.csv")


def test_flip_is_an_involution_and_swaps_hands(perm):
    f = _frames()
    g = aug.flip(f, perm)
    assert np.isfinite(g[:, layout.LEFT_HAND]).any() and not np.isfinite(g[:, layout.RIGHT_HAND]).any()
    right, left = f[:, layout.RIGHT_HAND], g[:, layout.LEFT_HAND]
    np.testing.assert_allclose(left[..., 0], 1.0 - right[..., 0], rtol=1e-6)  # x mirrored
    np.testing.assert_allclose(left[..., 1:], right[..., 1:])  # y, z kept
    np.testing.assert_allclose(aug.flip(g, perm), f, equal_nan=True, rtol=1e-6)


def test_affine_keeps_missing_points_missing():
    f = _frames()
    g = aug.affine(f, np.random.default_rng(1))
    assert g.shape == f.shape and g.dtype == np.float32
    assert np.array_equal(np.isnan(g), np.isnan(f))
    assert not np.allclose(g[np.isfinite(g)], f[np.isfinite(f)])


def test_affine_identity_options():
    o = aug.AugmentOptions(scale=(1.0, 1.0), shear=0.0, rotate_deg=0.0, shift=0.0)
    f = _frames()
    np.testing.assert_allclose(aug.affine(f, np.random.default_rng(0), o), f, rtol=1e-5, equal_nan=True)


def test_time_stretch_lengths_and_endpoints():
    f = _frames(40)
    for factor in (0.5, 1.0, 1.7):
        g = aug.time_stretch(f, factor)
        assert len(g) == round(40 * factor)
        np.testing.assert_array_equal(g[0], f[0])
        np.testing.assert_array_equal(g[-1], f[-1])


def test_finger_dropout_only_removes_fingers():
    f = _frames()
    g = aug.finger_dropout(f, np.random.default_rng(3))
    newly = np.isnan(g) & ~np.isnan(f)
    assert newly.any()
    rows = np.unique(np.nonzero(newly)[1])
    fingers = {layout.LEFT_HAND.start + j for fi in aug.FINGERS for j in fi} | {layout.RIGHT_HAND.start + j for fi in aug.FINGERS for j in fi}
    assert set(rows.tolist()) <= fingers  # never the wrist, never face or pose
    np.testing.assert_array_equal(g[~np.isnan(g)], f[~np.isnan(g)])


def test_part_dropout():
    g = aug.part_dropout(_frames(), layout.FACE)
    assert np.isnan(g[:, layout.FACE]).all() and np.isfinite(g[:, layout.POSE]).all()


def test_cutmix_text_and_frames():
    rng = np.random.default_rng(0)
    a, b = _frames(30, 1), _frames(40, 2)
    x, text = aug.cutmix(a, "hello", b, "world", rng)
    assert any(text == "hello"[:i] + "world"[j:] for i in range(1, 5) for j in range(1, 5))
    assert 1 <= len(x) <= 70
    # with character times the cut falls between the chosen characters
    ta, tb = np.array([100, 200, 300, 400, 500.0]), np.array([100, 200, 300, 400, 500.0])
    ms_a, ms_b = np.arange(30) * 20.0, np.arange(40) * 15.0
    x, text = aug.cutmix(a, "abcde", b, "vwxyz", np.random.default_rng(5), ta, tb, ms_a, ms_b)
    i = next(i for i in range(1, 5) if any(text == "abcde"[:i] + "vwxyz"[j:] for j in range(1, 5)))
    j = 5 - (len(text) - i)
    # frames of a up to halfway between its characters i-1 and i, then b from halfway between j-1 and j
    assert len(x) == np.searchsorted(ms_a, (ta[i - 1] + ta[i]) / 2) + 40 - np.searchsorted(ms_b, (tb[j - 1] + tb[j]) / 2)


def test_mask_decoder_input_changes_only_characters():
    rng = np.random.default_rng(0)
    tokens = np.array([[60, 1, 2, 3, 4, 59, 59]] * 50)
    out = aug.mask_decoder_input(tokens, 0.5, 59, rng)
    assert (out[:, 0] == 60).all() and (out[:, 5:] == 59).all()
    changed = out != tokens
    assert changed.any() and (out[changed] < 59).all()
    assert np.array_equal(aug.mask_decoder_input(tokens, 0.0, 59, rng), tokens)
