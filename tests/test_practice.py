"""Practice mode's core: the forced alignment, judging a known word with a stand-in model, the tips, and (slow)
the shipped model on synthetic held-out words and the command's no-hands error."""

from types import SimpleNamespace

import numpy as np
import pytest
from fakes import letter_shapes

from asl_gpt import resources
from asl_gpt.config import PracticeConfig
from asl_gpt.errors import InputError
from asl_gpt.landmarks import layout
from asl_gpt.recognition import features
from asl_gpt.recognition.practice import align, judge, practice_word, tip_for, with_tips
from asl_gpt.recognition.tokenizer import Tokenizer
from asl_gpt.words import ALPHABET

SHAPES = letter_shapes()


class ShapeReader:
    """A stand-in model that knows the 26 shapes of `letter_shapes`: the letter head is the negative distance
    to each shape's invariants; the decoder reads the held letters in order and, teacher-forced, gives the
    asked letter the probability of the letter actually held at that position."""

    def __init__(self):
        self.contract = SimpleNamespace(tokenizer=Tokenizer(" " + ALPHABET))
        self.refs = features.hand_invariants(np.stack([SHAPES[c] for c in ALPHABET]))

    def letter_logits(self, invariants):
        d = np.linalg.norm(np.asarray(invariants)[:, None, :] - self.refs[None], axis=-1)
        return (-4.0 * d).astype(np.float32)

    def teacher_forced(self, frames, ids, aspect=1.0, adapter=None):
        pts = features.signing_hand_points(frames, aspect)[0]
        ok = np.isfinite(pts).all(axis=(1, 2))
        held = self.letter_logits(features.hand_invariants(pts[ok])).argmax(1)
        seq = [int(c) for i, c in enumerate(held) if i == 0 or c != held[i - 1]]
        tok = self.contract.tokenizer
        out = np.zeros((len(ids) + 1, tok.vocab_size), np.float32)
        for i in range(len(ids) + 1):
            if i < len(seq):
                out[i, tok.encode(ALPHABET[seq[i]])[0]] = 8.0
        return out


def spelled(word: str, hold: int = 12, gap: int = 4, lead: int = 5):
    """Landmarks of `word` held letter by letter (a right hand, no body), no hand before/after and between."""
    seq = [None] * lead
    for c in word:
        seq += [c] * hold + [None] * gap
    seq += [None] * lead
    frames = layout.empty_frames(len(seq))
    for t, c in enumerate(seq):
        if c:
            frames[t, layout.RIGHT_HAND] = 0.5 + 0.05 * SHAPES[c]
    return frames, np.arange(len(seq)) * 1000.0 / 30


def test_align_gives_each_letter_its_held_span():
    logp = np.full((40, 26), np.log(0.01))
    for k, (a, b) in enumerate([(2, 12), (15, 25), (28, 38)]):
        logp[a:b, k] = np.log(0.9)
    logp[12:15] = logp[25:28] = np.nan  # no hand between letters
    assert align(logp, [0, 1, 2], 3, -2.5) == [(2, 12), (15, 25), (28, 38)]


def test_align_with_one_frame_minimum_still_holds_letters():
    logp = np.full((12, 26), np.log(0.01))
    logp[:6, 0] = logp[6:, 1] = np.log(0.9)
    assert align(logp, [0, 1], 1, -2.5) == [(0, 6), (6, 12)]


def test_align_keeps_a_double_letter_apart_and_every_letter_at_least_min_frames():
    logp = np.full((30, 26), np.log(0.01))
    logp[:, 4] = np.log(0.9)  # "ee" held as one long E
    spans = align(logp, [4, 4, 1], 5, -2.5)
    assert spans[0][1] <= spans[1][0] and spans[1][1] <= spans[2][0]
    assert all(b - a >= 5 for a, b in spans)


def test_the_asked_word_is_right_and_another_word_is_not():
    frames, times = spelled("cab")
    reader = ShapeReader()
    good = judge("CAB", frames, times, reader)
    assert [v.letter for v in good.letters] == ["c", "a", "b"] and all(v.ok for v in good.letters)
    assert good.share_ok == 1.0
    starts = [v.start_s for v in good.letters]
    assert starts == sorted(starts) and all(v.start_s <= v.end_s for v in good.letters)
    assert abs(good.letters[0].start_s - 5 / 30) < 0.1  # C is held from frame 5
    bad = judge("xyz", frames, times, reader)
    assert not any(v.ok for v in bad.letters) and bad.share_ok == 0.0
    assert [v.read_as for v in bad.letters] == ["c", "a", "b"]  # what was signed in each letter's place
    d = bad.as_dict()
    assert d["word"] == "xyz" and set(d["letters"][0]) == {"letter", "ok", "score", "read_as", "start_s", "end_s"}


def test_one_wrong_letter_is_the_only_miss():
    frames, times = spelled("cot")
    verdicts = judge("cat", frames, times, ShapeReader()).letters
    assert [v.ok for v in verdicts] == [True, False, True]
    assert verdicts[1].read_as == "o"


def test_no_hands_is_one_clear_error_and_words_are_letters():
    frames = layout.empty_frames(30)
    with pytest.raises(InputError, match="no hands in view"):
        judge("cat", frames, np.arange(30) * 33.0, ShapeReader())
    for bad in ("", "two words", "r2d2", "x" * (PracticeConfig.max_letters + 1)):
        with pytest.raises(InputError):
            practice_word(bad)
    assert practice_word(" Zebra ") == "zebra"


def test_tips_name_the_confusion_and_cite_the_page():
    kb = resources.knowledge_dir()
    for letter, read_as in [("e", "s"), ("k", "v"), ("g", "h"), ("u", "v"), ("i", "j"), ("d", "z"), ("m", "n")]:
        tip = tip_for(letter, read_as, kb)
        assert tip is not None, (letter, read_as)
        assert read_as.upper() in tip.text and tip.source.endswith(".md") and tip.heading
    plain = tip_for("b", "", kb)
    assert plain is not None and "B" in plain.text
    frames, times = spelled("cot")
    j = with_tips(judge("cat", frames, times, ShapeReader()), kb)
    assert len(j.tips) == 1 and j.tips[0].letter == "a"


@pytest.mark.slow
def test_shipped_model_judges_synthetic_held_out_words(bank, body):
    from asl_gpt.benchmarks.practice import other_word
    from asl_gpt.config import load_settings
    from asl_gpt.recognition.recognizer import build_recognizer
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER
    from asl_gpt.training.synth import SynthOptions, Synthesizer

    rec = build_recognizer(load_settings())
    words = ["cat", "dog", "hello", "asl", "deaf", "sign", "world", "name"]
    syn = Synthesizer(bank.only([HELD_OUT_SIGNER]), body, SynthOptions(negative_rate=0.0), words=words)
    rng = np.random.default_rng(3)
    asked = other = 0.0
    for w in words:
        s = syn.sample(rng, text=w, signer=HELD_OUT_SIGNER, negative=False)
        asked += judge(w, s.frames, s.times_ms, rec, s.aspect).share_ok / len(words)
        other += judge(other_word(w, words, rng), s.frames, s.times_ms, rec, s.aspect).share_ok / len(words)
    assert asked >= 0.8 and other <= 0.4, (asked, other)


@pytest.mark.slow
def test_practice_command_no_hands_is_one_line(tmp_path):
    import subprocess
    import sys

    import cv2

    path = tmp_path / "empty.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (320, 240))
    for _ in range(10):
        w.write(np.full((240, 320, 3), 40, np.uint8))
    w.release()
    p = subprocess.run([sys.executable, "-m", "asl_gpt.cli", "practice", "cat", "--video", str(path)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1].startswith("error: no hands in view")
