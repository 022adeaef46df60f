"""Ordinary signing: the hand rises from rest, spells, and drops back. The synthesiser makes such
phrases (rises, drops, coarticulated transitions, a far signer's small hand), and the streaming
recognizer reads only what is held in signing space (features.signing_span)."""

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.landmarks import layout
from asl_gpt.recognition.streaming import StreamingRecognizer, StreamOptions
from asl_gpt.training.handshapes import HELD_OUT_SIGNER
from asl_gpt.training.synth import SynthOptions, Synthesizer

QUIET = dict(jitter=(0.0, 0.0), pixel_jitter=(0.0, 0.0), drop_rate=(0.0, 0.0), left_hand_rest_rate=0.0, far_rate=0.0)


def _heights(s):
    return features.hand_heights(s.frames, s.aspect)[:, 1]


def test_phrases_rise_from_rest_and_drop_back(bank, body):
    opts = SynthOptions(rise_rate=1.0, rest_depth=(1.5, 1.5), letters_per_s=(2.0, 2.0), **QUIET)
    s = Synthesizer(bank.only(["hand1"]), body, opts).sample(np.random.default_rng(0), text="cab", signer="hand1",
                                                             negative=False)
    h = _heights(s)
    held = h[np.argmin(np.abs(s.times_ms - s.char_times_ms[1]))]
    seen = np.flatnonzero(np.isfinite(h))
    assert h[seen[0]] < held - 0.5 and h[seen[-1]] < held - 0.5  # enters and leaves well below the letters
    wrist = s.frames[:, layout.RIGHT_HAND.start, :2]
    first = np.argmin(np.abs(s.times_ms - s.char_times_ms[0]))
    rise = seen[seen < first]
    assert len(rise) >= 3 and np.linalg.norm(np.diff(wrist[rise], axis=0), axis=-1).max() > 0.005  # it travels


def test_rise_without_rest_starts_mid_air(bank, body):
    opts = SynthOptions(rise_rate=0.0, **QUIET)
    s = Synthesizer(bank.only(["hand1"]), body, opts).sample(np.random.default_rng(1), text="dog", signer="hand1",
                                                             negative=False)
    h = _heights(s)
    assert np.isfinite(h).all() and np.ptp(h) < 0.6  # up from the first frame to the last


def test_fast_letters_lean_toward_their_neighbours(bank, body):
    """Coarticulation: at 8 letters/s the held shape is between the letter and its neighbours."""
    def held_shapes(rate, coart):
        opts = SynthOptions(rise_rate=0.0, letters_per_s=(rate, rate), coarticulation=coart, roll_deg=0.0, yaw_deg=0.0,
                            **QUIET)
        s = Synthesizer(bank.only(["hand1"]), body, opts).sample(np.random.default_rng(2), text="lbl", signer="hand1",
                                                                 negative=False)
        i = np.argmin(np.abs(s.times_ms - s.char_times_ms[1]))
        return features.hand_invariants(s.frames[i, layout.RIGHT_HAND][None])[0]

    b_alone, b_fast = held_shapes(8.0, 0.0), held_shapes(8.0, 0.35)
    assert np.abs(b_fast - b_alone).max() > 0.05


def test_far_signer_has_a_small_hand(bank, body):
    opts = SynthOptions(far_rate=1.0, rise_rate=0.0, left_hand_rest_rate=0.0)
    syn = Synthesizer(bank.only(["hand1"]), body, opts)
    rng = np.random.default_rng(3)
    tall = []
    for _ in range(30):
        s = syn.sample(rng, text="a", signer="hand1", negative=False)
        if s.aspect > 1:  # far scenes are landscape
            w = 1280.0 if s.aspect > 1.5 else 640.0
            hand = s.frames[:, layout.RIGHT_HAND]
            ok = np.isfinite(hand[:, 0, 0])
            tall.append(np.nanmedian(np.ptp(hand[ok, :, 1], axis=1)) * w / s.aspect)
    assert tall and np.median(tall) < 90  # pixels: the held-back webcam signers' hands were about 60 px tall


def test_signing_span_cuts_the_rise_and_the_drop(bank, body):
    opts = SynthOptions(rise_rate=1.0, letters_per_s=(1.5, 1.5), **QUIET)
    syn = Synthesizer(bank.only(["hand2"]), body, opts)
    rng = np.random.default_rng(4)
    for text in ("b", "why"):
        s = syn.sample(rng, text=text, signer="hand2", negative=False)
        frames = features.true_proportions(s.frames, s.aspect)
        a, b = features.signing_span(frames, s.times_ms)
        first = np.argmin(np.abs(s.times_ms - s.char_times_ms[0]))
        last = np.argmin(np.abs(s.times_ms - s.char_times_ms[-1]))
        assert a <= first and b > last  # every letter's hold is kept
        h = _heights(s)
        assert h[a:b].min() > h[first] - features.SIGNING_SPACE_DEPTH - 0.05  # nothing from low on the way


def test_signing_span_of_a_hand_that_never_holds_is_empty():
    t = np.arange(20) * 66.0
    frames = layout.empty_frames(20)
    hand = np.random.default_rng(5).normal(0.5, 0.02, (21, 3)).astype(np.float32)
    for i in range(20):  # sweeping across the frame, never still
        frames[i, layout.RIGHT_HAND] = hand + np.array([0.05 * i, 0.0, 0.0], np.float32)
    assert features.signing_span(frames, t) == (0, 0)


def test_a_rise_and_a_drop_around_a_held_letter_add_no_letter(shipped, bank, body):
    """Through the streaming recognizer with the shipped model: the held letter alone and the same letter
    wrapped in a rise from rest and a drop to rest read the same."""
    readings = {}
    for rise in (0.0, 1.0):
        opts = SynthOptions(rise_rate=rise, letters_per_s=(0.5, 0.5), rest_depth=(1.4, 1.4), **QUIET)
        syn = Synthesizer(bank.only([HELD_OUT_SIGNER]), body, opts)
        s = syn.sample(np.random.default_rng(6), text="b", signer=HELD_OUT_SIGNER, negative=False)
        stream = StreamingRecognizer(shipped, StreamOptions(), aspect=s.aspect)
        ups = []
        for f, t in zip(s.frames, s.times_ms):
            ups += stream.push(float(t), f)
        ups += stream.flush()
        stream.close()
        readings[rise] = " ".join(u.hypothesis.text for u in ups if u.final)
    assert readings[1.0] == readings[0.0] == "b"


def test_the_hand_that_spells_is_the_higher_one_when_both_are_raised():
    """A far signer's other hand rests on the desk just under the shoulders (raised by the -1 shoulder width
    rule in every frame); the spelling hand is below it on its way up and down, above it in between."""
    n = 60
    heights = np.full((n, 2), -0.8, np.float32)  # left: resting, always "raised"
    heights[:, 1] = np.concatenate([np.linspace(-2.0, 0.1, 15), np.full(30, 0.1), np.linspace(0.1, -2.0, 15)])
    assert features.side_of_heights(heights) == 1
    heights[:, 1] = np.nan  # only one hand in view: that one
    assert features.side_of_heights(heights) == 0


def test_two_handed_signing_is_not_read_as_fingerspelling():
    n = 30
    frames = layout.empty_frames(n)
    frames[:, layout.POSE.start + 11] = (0.6, 0.5, 0.0)
    frames[:, layout.POSE.start + 12] = (0.4, 0.5, 0.0)
    hand = np.stack([np.linspace(0, 0.05, 21), np.linspace(0, -0.08, 21), np.zeros(21)], -1).astype(np.float32)
    frames[:, layout.RIGHT_HAND] = hand + np.array([0.4, 0.45, 0.0], np.float32)
    frames[:, layout.LEFT_HAND] = hand + np.array([0.6, 0.8, 0.0], np.float32)  # resting low: fingerspelling
    assert not features.two_handed(frames)
    frames[:, layout.LEFT_HAND] = hand + np.array([0.6, 0.47, 0.0], np.float32)  # up beside it: a sign
    assert features.two_handed(frames)


def test_a_segment_not_read_closes_with_an_empty_last_word():
    """A partial read while the segment looked like spelling must not stay pending when the final decode
    finds the segment is not spelling (here: the other hand comes up beside the signing hand)."""
    from asl_gpt.recognition.contract import ModelContract
    from asl_gpt.recognition.recognizer import Hypothesis

    class Reader:
        contract = ModelContract("fake", features.hand_columns(), 32, 8, min_confidence=0.5)

        def recognize(self, frames, t_start=0.0, t_end=0.0):
            return Hypothesis("ab", 0.9, t_start, t_end)

    hand = np.stack([np.linspace(0, 0.05, 21), np.linspace(0, -0.08, 21), np.zeros(21)], -1).astype(np.float32)
    stream = StreamingRecognizer(Reader(), StreamOptions(max_fps=0, stride_frames=8, drop_frames=3))
    ups = []
    for i in range(40):
        f = layout.empty_frames(1)[0]
        f[layout.POSE.start + 11], f[layout.POSE.start + 12] = (0.6, 0.5, 0.0), (0.4, 0.5, 0.0)
        f[layout.RIGHT_HAND] = hand + np.array([0.4, 0.45, 0.0], np.float32)
        if i >= 10:  # from here on both hands sign
            f[layout.LEFT_HAND] = hand + np.array([0.6, 0.46, 0.0], np.float32)
        ups += stream.push(i * 33.0, f)
        stream.wait()
    for i in range(40, 44):
        ups += stream.push(i * 33.0, layout.empty_frames(1)[0])
    ups += stream.flush()
    stream.close()
    assert any(u.hypothesis.text == "ab" and not u.final for u in ups)  # read early, alone
    finals = [u for u in ups if u.final]
    assert len(finals) == 1 and finals[0].hypothesis.text == ""
