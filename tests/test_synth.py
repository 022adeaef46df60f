"""Synthesiser properties on the real handshapes: letters in order, timing within bounds, the same
columns as live Holistic, and the held-out signer kept out of training."""

import dataclasses

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.landmarks import layout
from asl_gpt.training.handshapes import HELD_OUT_SIGNER, canonicalise
from asl_gpt.training.synth import SynthOptions, Synthesizer


def test_bank_has_both_sets_and_signers(bank):
    assert {"webcam", "hand1", "hand2", "hand3", "hand4"} <= set(bank.signer_names)
    assert set("abcdefghijklmnopqrstuvwxyz") <= set(bank.labels.tolist())
    np.testing.assert_allclose(np.linalg.norm(bank.shapes[:, 9, :2], axis=-1), 1.0, rtol=1e-4)
    assert np.abs(bank.shapes[:, 0]).max() < 1e-5  # wrist at the origin


def test_held_out_signer_is_excluded(bank, body):
    train = bank.without([HELD_OUT_SIGNER])
    assert HELD_OUT_SIGNER not in train.signer_names
    syn = Synthesizer(train, body)
    rng = np.random.default_rng(0)
    assert {syn.sample(rng).signer for _ in range(40)} <= set(train.signer_names)


def _nearest_label(shape, bank_rows, bank):
    d = np.linalg.norm((bank.shapes[bank_rows] - shape).reshape(len(bank_rows), -1), axis=1)
    return bank.labels[bank_rows][int(np.argmin(d))]


def test_letters_appear_in_order(bank, body):
    """With no jitter or rotation, the hand at each character's time is nearest to that letter's
    real handshapes (re-canonicalised from the rendered frame)."""
    opts = SynthOptions(jitter=(0.0, 0.0), drop_rate=(0.0, 0.0), roll_deg=0.0, yaw_deg=0.0, letters_per_s=(3.0, 3.0),
                        hold_fraction=(0.6, 0.6), fps=(30.0, 30.0), left_hand_rest_rate=0.0)
    signer = "hand1"
    syn = Synthesizer(bank.only([signer]), body, opts)
    rows = np.flatnonzero(bank.signers == signer)
    text = "cab dog"
    s = syn.sample(np.random.default_rng(4), text=text, signer=signer, negative=False)
    assert s.text == text and len(s.char_times_ms) == len(text)
    assert np.all(np.diff(s.char_times_ms) > 0)  # in order
    hand = s.frames[:, layout.RIGHT_HAND]
    for c, t in zip(text, s.char_times_ms):
        if c == " ":
            continue
        i = int(np.argmin(np.abs(s.times_ms - t)))
        assert np.isfinite(hand[i]).all()
        # back to the canonical frame: this scene's frame proportions (the sample's aspect), wrist at 0
        found = {_nearest_label(canonicalise(hand[i][None], (s.aspect, 1.0))[0], rows, bank)}
        assert c in found, f"{c!r} at {t:.0f} ms looks like {found}"


def test_timing_within_bounds(bank, body):
    opts = SynthOptions()
    # (signing at pace has its own bounds: tests/test_synth_pace.py)
    syn = Synthesizer(bank.without([HELD_OUT_SIGNER]), body, dataclasses.replace(opts, negative_rate=0.0, pace_rate=0.0))
    rng = np.random.default_rng(1)
    for _ in range(30):
        s = syn.sample(rng)
        letters = [t for c, t in zip(s.text, s.char_times_ms) if c != " "]
        gaps = np.diff(letters) / 1000.0
        if len(gaps):
            # 2-8 letters/s, each letter 0.75-1.3 of the mean duration, J/Z and word ends held longer
            assert gaps.min() >= 0.75 / opts.letters_per_s[1] * 0.99
            assert gaps.max() <= 1.3 / opts.letters_per_s[0] * 1.6 + opts.word_pause_s[1] + 0.01
        fps = (len(s.times_ms) - 1) / ((s.times_ms[-1] - s.times_ms[0]) / 1000.0)
        assert opts.fps[0] * 0.7 <= fps <= opts.fps[1] * 1.15  # lost frames lower the mean rate a little
        assert s.times_ms[0] == 0 and s.char_times_ms[-1] <= s.times_ms[-1] + 1000.0 / opts.fps[0] * 2
        assert len(s.text) <= opts.max_chars


def test_frames_fill_holistic_columns(bank, body):
    syn = Synthesizer(bank.without([HELD_OUT_SIGNER]), body)
    rng = np.random.default_rng(2)
    kinds = set()
    for _ in range(40):
        s = syn.sample(rng)
        kinds.add(s.kind)
        f = s.frames
        assert f.shape[1:] == (layout.N_POINTS, 3) and f.dtype == np.float32
        assert np.isfinite(f[:, layout.FACE]).all() and np.isfinite(f[:, layout.POSE]).all()
        assert features.hands_present(f).mean() > (0.3 if s.kind == "spell" else 0.0)
        hand = f[:, layout.RIGHT_HAND]
        vis = np.isfinite(hand[:, 0, 0])
        assert (np.isfinite(hand[vis]).all()) and np.isnan(hand[~vis]).all()  # a hand is tracked whole or not at all
        if s.kind != "spell":
            assert s.text == ""
        x, mask = features.prepare(f, features.FeatureSpec(features.hands_pose_columns(), 128))
        assert np.isfinite(x).all()
    assert "spell" in kinds and len(kinds) >= 2  # negatives are produced too


def test_j_and_z_move(bank, body):
    opts = SynthOptions(jitter=(0.0, 0.0), drop_rate=(0.0, 0.0), letters_per_s=(2.0, 2.0), left_hand_rest_rate=0.0)
    syn = Synthesizer(bank.only(["hand1"]), body, opts)
    for c in "jz":
        s = syn.sample(np.random.default_rng(0), text=c, signer="hand1", negative=False)
        wrist = s.frames[:, layout.RIGHT_HAND.start, :2]
        t = s.char_times_ms[0]
        near = np.isfinite(wrist[:, 0]) & (np.abs(s.times_ms - t) < 150)
        assert np.ptp(wrist[near], axis=0).max() > 0.01  # traced in the air, not held still
