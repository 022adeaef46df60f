"""Signing at pace in the synthesiser (issue 24, letters at pace): short letters, letters formed while the wrist
still moves, motion blur on fast fingers, transitions passing through a neighbouring letter's shape. Pure and
seeded: the helpers on hand-made timelines, the whole sample on the real handshapes."""

import dataclasses

import numpy as np

from asl_gpt.landmarks import layout
from asl_gpt.training.handshapes import canonicalise
from asl_gpt.training.synth import SynthOptions, Synthesizer, motion_blur, moving_wrist, pace_timing


def test_short_letters_last_two_to_four_frames():
    o = SynthOptions(short_letter_rate=0.5)
    holds, trans = [0.3] * 12, [0.2] * 12
    short = pace_timing(np.random.default_rng(0), o, holds, trans)
    assert short.any() and not short.all()
    for k in np.flatnonzero(short):
        assert o.short_letter_s[0] - 1e-9 <= holds[k] + trans[k] <= o.short_letter_s[1] + 1e-9
        assert holds[k] < trans[k] * 9  # barely held
        if k > 0:
            assert trans[k - 1] <= o.short_letter_s[1]  # the way in is short too
    assert all(h == 0.3 for k, h in enumerate(holds) if not short[k])


def test_moving_wrist_never_still_in_a_moving_hold_and_continuous():
    t = np.arange(0, 2.0, 1 / 60)
    idx = np.minimum((t / 0.5).astype(int), 3)  # 4 letters of 0.5 s
    in_hold = (t % 0.5) < 0.3
    o = SynthOptions(moving_hold_rate=1.0)
    offs = moving_wrist(np.random.default_rng(1), o, idx, in_hold, t)
    step = np.linalg.norm(np.diff(offs, axis=0), axis=-1)
    moving = in_hold[1:] & in_hold[:-1] & (idx[1:] == idx[:-1])
    assert (step[moving] > 1e-4).all()  # no still frame while a letter is held
    assert step.max() < 0.5 / 0.3 / 60 * 1.01  # steady, no jumps: at most the fastest travel over one step
    assert np.allclose(np.diff(offs, axis=0)[~in_hold[1:]], 0.0)  # kept, not undone, between letters
    still = moving_wrist(np.random.default_rng(1), dataclasses.replace(o, moving_hold_rate=0.0), idx, in_hold, t)
    assert np.allclose(still, 0.0)


def test_motion_blur_follows_finger_speed_and_spares_the_wrist():
    t = np.arange(0, 1.0, 1 / 60)
    shape = np.zeros((len(t), 21, 3))
    shape[:, 8, 0] = np.where(t < 0.5, 0.0, (t - 0.5) * 4)  # the index tip still, then fast
    before = shape.copy()
    motion_blur(np.random.default_rng(2), SynthOptions(blur=(0.3, 0.3)), shape, t, 30.0)
    d = shape - before
    assert np.allclose(d[:, 0], 0.0) and np.allclose(d[t < 0.45], 0.0)  # wrist, and a still hand: untouched
    assert np.abs(d[t > 0.55, 8, 0]).mean() > 0.01  # a fast fingertip smears along its motion
    assert np.allclose(d[:, 8, 1:], 0.0)  # and only along it


def _nearest(shape, bank, rows):
    d = np.linalg.norm((bank.shapes[rows] - shape).reshape(len(rows), -1), axis=1)
    return bank.labels[rows][int(np.argmin(d))]


def _quiet(**kw) -> SynthOptions:
    return SynthOptions(jitter=(0.0, 0.0), drop_rate=(0.0, 0.0), roll_deg=0.0, yaw_deg=0.0, fps=(30.0, 30.0),
                        left_hand_rest_rate=0.0, rise_rate=0.0, pace_rate=1.0, blur=(0.0, 0.0), coarticulation=0.0,
                        **kw)


def test_paced_phrase_keeps_its_text_and_is_seeded(bank, body):
    syn = Synthesizer(bank.only(["hand1"]), body, SynthOptions(pace_rate=1.0))
    a = syn.sample(np.random.default_rng(5), text="quick brown", signer="hand1", negative=False)
    b = syn.sample(np.random.default_rng(5), text="quick brown", signer="hand1", negative=False)
    assert a.text == "quick brown" and len(a.char_times_ms) == len(a.text)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert np.isfinite(a.frames[:, layout.RIGHT_HAND]).any()


def test_held_letters_still_read_and_transitions_pass_through_another_letter(bank, body):
    """At pace (no short letters, no blur), each letter's time still shows that letter, and some transition's
    midpoint shows a third letter's shape: the model must learn that such a shape on the way is not read."""
    signer = "hand1"
    rows = np.flatnonzero(bank.signers == signer)
    syn = Synthesizer(bank.only([signer]), body, _quiet(short_letter_rate=0.0, pass_through_rate=1.0,
                                                         pass_through_strength=(1.0, 1.0), pace_letters_per_s=(3.0, 3.0)))
    text = "vowel cab"
    s = syn.sample(np.random.default_rng(3), text=text, signer=signer, negative=False)
    hand = s.frames[:, layout.RIGHT_HAND]
    shapes = [canonicalise(h[None], (s.aspect, 1.0))[0] for h in hand]
    letters = [(c, t) for c, t in zip(text, s.char_times_ms) if c != " "]
    for c, t in letters:
        assert _nearest(shapes[int(np.argmin(np.abs(s.times_ms - t)))], bank, rows) == c
    others = 0
    for (a, ta), (b, tb) in zip(letters, letters[1:]):
        mid = int(np.argmin(np.abs(s.times_ms - (ta + tb) / 2)))
        others += _nearest(shapes[mid], bank, rows) not in (a, b)
    assert others >= 3
