"""A seated signer at a laptop camera (issue 24): head and shoulders, the shoulders about two thirds down
the frame, the other hand resting at the bottom edge. The gates (raised test, signing span, one-handed
rule) measure in units that do not change with the frame's aspect, and a hand at the bottom edge rests."""

import numpy as np
import pytest

from asl_gpt.landmarks import layout
from asl_gpt.recognition import explain, features
from asl_gpt.recognition.pipeline import recognize_landmarks
from asl_gpt.recognition.streaming import StreamOptions
from asl_gpt.recognition.buffer import BufferOptions
from fakes import ShapeReader, letter_shapes

ASPECTS = {"4:3": 4 / 3, "16:9": 16 / 9, "9:16": 9 / 16}
SHOULDERS_Y = 0.65  # the shoulders two thirds down the frame
SHOULDER_W = 0.5  # frame heights: head and shoulders fill the frame's height (x is scaled by the aspect)
HAND = 0.12  # frame heights from the wrist to the fingertips, about


def _shape(seed: int) -> np.ndarray:
    """A right hand's 21 points (true proportions, wrist at the origin, fingers up), distinct per seed."""
    rng = np.random.default_rng(seed)
    p = np.zeros((21, 3))
    for f in range(5):
        base = np.array([-0.3 + 0.15 * f, -0.35, 0.0])
        for j in range(4):
            p[1 + 4 * f + j] = base * (1 + 0.2 * j) + rng.normal(0, 0.06, 3) + np.array([0, -0.12 * j, 0])
    return p * HAND / 0.7


def _frame(aspect: float, sign: np.ndarray | None, sign_at, rest_at=(0.2, 0.99), other=None) -> np.ndarray:
    """One frame: the body (true proportions about the frame's centre), the signing (right) hand's points
    `sign` with the wrist at `sign_at` (x from the centre, y), the left hand resting with its wrist at
    `rest_at` (at the bottom edge, its fingers cut off; `other`: its points instead, for a raised left
    hand); x then divided by the aspect (fractions)."""
    f = layout.empty_frames(1)[0]
    cx = aspect / 2
    f[layout.POSE.start + 0] = (cx, SHOULDERS_Y - 0.3, 0.0)
    f[layout.POSE.start + 11] = (cx + SHOULDER_W / 2, SHOULDERS_Y, 0.0)  # the signer's left shoulder
    f[layout.POSE.start + 12] = (cx - SHOULDER_W / 2, SHOULDERS_Y, 0.0)
    rest = _shape(99) * np.array([-1.0, -1.0, 1.0]) if other is None else other  # a left hand, fingers down, on the desk
    f[layout.LEFT_HAND] = rest + np.array([cx + rest_at[0], rest_at[1], 0.0])
    if sign is not None:
        f[layout.RIGHT_HAND] = sign + np.array([cx + sign_at[0], sign_at[1], 0.0])
    f[..., 0] /= aspect
    f[..., 2] /= aspect
    return f


def webcam_word(word: str, aspect: float, fps: float = 30.0, hold_s: float = 0.7):
    """A word spelled in webcam framing: the hand rises from below the bottom edge, holds each letter at
    chest height (wrist a fifth of a shoulder width below the shoulders), moves on, and drops back out of
    view; the other hand rests at the bottom edge throughout. -> (frames, times_ms, letter shapes)."""
    shapes = {c: _shape(ord(c)) for c in word}
    spell_y = SHOULDERS_Y + 0.2 * SHOULDER_W
    rows = [(None, (-0.15, 1.3))] * 10  # nothing in view
    rows += [(_shape(7), (-0.15, y)) for y in np.linspace(1.15, spell_y, 12)]  # the rise, an in-between shape
    for i, c in enumerate(word):
        rows += [(shapes[c], (-0.15, spell_y))] * int(hold_s * fps)
        if i + 1 < len(word):
            rows += [((shapes[c] + shapes[word[i + 1]]) / 2, (-0.15, spell_y))] * 3  # on the way to the next
    rows += [(_shape(7), (-0.15, y)) for y in np.linspace(spell_y, 1.15, 12)]  # the drop
    rows += [(None, (-0.15, 1.3))] * 40
    frames = np.stack([_frame(aspect, s, at) for s, at in rows])
    return frames, np.arange(len(rows)) * 1000.0 / fps, shapes


@pytest.mark.parametrize("name", ASPECTS)
def test_a_resting_hand_at_the_bottom_edge_never_makes_spelling_two_handed(name):
    aspect = ASPECTS[name]
    frames = np.stack([_frame(aspect, _shape(1), (-0.15, SHOULDERS_Y + 0.1))] * 20)
    tp = features.true_proportions(frames, aspect)
    assert features.resting_hands(frames)[:, 0].all() and not features.resting_hands(frames)[:, 1].any()
    assert features.signing_side(frames, aspect) == 1
    assert not features.two_handed(tp)
    only_rest = frames.copy()
    only_rest[:, layout.RIGHT_HAND] = np.nan
    assert not features.raised_hands(only_rest, aspect).any()  # it neither opens nor holds a segment
    # the same hand raised beside the signing hand does sign with it
    up = _shape(2) * np.array([-1.0, 1.0, 1.0])  # a left hand, fingers up
    both = np.stack([_frame(aspect, _shape(1), (-0.15, SHOULDERS_Y + 0.1), (0.15, SHOULDERS_Y + 0.15), up)] * 20)
    assert features.two_handed(features.true_proportions(both, aspect))


@pytest.mark.parametrize("name", ASPECTS)
def test_a_word_in_webcam_framing_commits_all_its_letters(name):
    aspect = ASPECTS[name]
    frames, times, shapes = webcam_word("fox", aspect)
    reader = ShapeReader(shapes)
    opts = StreamOptions(max_fps=15.0, trim_rise_drop=True)
    result = recognize_landmarks(frames, times, reader, opts, BufferOptions(min_confidence=0.5), aspect=aspect)
    assert [u.text for u in result.utterances] == ["fox"]


def test_explain_names_the_gate_and_what_it_removed():
    aspect = 16 / 9
    frames, times, shapes = webcam_word("fox", aspect)
    reader = ShapeReader(shapes)
    finals: dict = {}
    result = recognize_landmarks(frames, times, reader, StreamOptions(max_fps=15.0), BufferOptions(min_confidence=0.5),
                                 aspect=aspect, explain=True,
                                 on_update=lambda u: finals.__setitem__(u.segment, u.hypothesis) if u.final else None)
    stretches = explain.explain(frames, times, aspect, result.gated, finals, reader, 0.5, 15.0)
    kept = [s for s in stretches if s.kept is not None]
    assert len(kept) == 1 and kept[0].reading == "fox" and kept[0].accepted
    gates = {r.gate for s in stretches for r in s.removals}
    assert "raised test" in gates  # the resting hand alone, before the rise and after the drop
    assert all(not r.reads for s in stretches for r in s.removals)  # nothing removed holds a letter
    text = "\n".join(explain.lines(stretches, 0.5))
    assert "raised test" in text and "reads 'fox'" in text
    totals = explain.gate_totals(stretches)
    assert totals["raised test"]["frames"] > 0 and sum(t["letters"] for t in totals.values()) == 0


def test_explain_shows_what_the_one_handed_rule_removed():
    aspect = 16 / 9
    frames, times, shapes = webcam_word("ab", aspect)
    frames = frames.copy()
    beside = features.true_proportions(frames, aspect)[:, layout.RIGHT_HAND] + np.array([0.3, 0.0, 0.0])
    up = np.isfinite(beside[:, 0, 0])
    frames[up, layout.LEFT_HAND] = beside[up] * np.array([1 / aspect, 1.0, 1 / aspect])  # both hands up together
    reader = ShapeReader(shapes)
    result = recognize_landmarks(frames, times, reader, StreamOptions(max_fps=15.0), BufferOptions(min_confidence=0.5),
                                 aspect=aspect, explain=True)
    assert not result.utterances
    stretches = explain.explain(frames, times, aspect, result.gated, {}, reader, 0.5, 15.0)
    removed = [r for s in stretches for r in s.removals if r.gate == "one-handed rule"]
    assert removed and removed[0].reads == "ab"  # the model reads letters there: the explanation says so


def test_recognize_explain_prints_what_each_gate_did(tmp_path):
    import json
    import subprocess
    import sys

    from asl_gpt.landmarks.io import write_parquet

    frames, _, _ = webcam_word("ab", 16 / 9)
    lm = tmp_path / "word.parquet"
    write_parquet(frames, lm)
    args = [sys.executable, "-m", "asl_gpt.cli", "recognize", str(lm), "--aspect", str(16 / 9), "--explain",
            "--no-progress"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = p.stdout.split("what the gates did:")[1]
    assert "stretch 1:" in out and "raised test" in out and "confidence" in out
    p = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=300)
    stretches = json.loads(p.stdout)["explain"]
    assert any(r["gate"] == "raised test" for s in stretches for r in s["removals"])
