"""Calibration profiles: the adapter, the file, the guided capture, and the shipped model's letter signatures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asl_gpt.recognition import calibration as cal
from asl_gpt.recognition import features
from asl_gpt.landmarks import layout
from asl_gpt.training.metrics import score
from fakes import ClipReader, LinearReader, hand_take, letter_shapes, toy_profile


def test_adapter_learns_a_users_letters_the_head_misreads():
    """The head reads letter shapes by a map that is wrong for this user; fitted to their takes, the
    adapter reads new frames of the same user right (held-out frames, not the fitted ones)."""
    reader = LinearReader()
    profile = cal.fit_profile(toy_profile(), reader)
    assert profile.usable and profile.check.applied
    rng, shapes = np.random.default_rng(7), letter_shapes()
    test = {c: np.stack([hand_take(rng, shapes[c]) for _ in range(5)]) for c in cal.LETTERS}
    inv = features.hand_invariants(np.concatenate(list(test.values())))
    y = np.repeat(np.arange(26), 5)
    base = reader.letter_logits(inv)
    assert (base.argmax(1) == y).mean() < 0.5  # the toy head is mostly wrong for this user
    assert (profile.adapter.apply(inv, base).argmax(1) == y).mean() > 0.95


def test_too_few_letters_are_kept_but_not_applied():
    profile = cal.fit_profile(toy_profile(letters="abc"), LinearReader())
    assert profile.letters == "abc" and profile.adapter is None and not profile.usable
    assert "not fitted" in profile.summary()


def test_self_check_refuses_an_adapter_that_reads_its_own_letters_worse():
    check = cal.SelfCheck(base=0.9, adapted=0.8, frames=50, letters=26, fit_s=0.1)
    assert not check.applied and "NOT applied" in check.describe()
    assert not cal.SelfCheck(base=0.0, adapted=0.0, frames=0, letters=6, fit_s=0.0).applied  # nothing checked


def test_self_check_refuses_a_profile_that_reads_its_own_clips_worse():
    """Frames may read better while the whole recognizer reads the letters' recordings worse (text or gate):
    not applied, and the user is told to discard it."""
    check = cal.SelfCheck(base=0.8, adapted=0.9, frames=50, letters=26, fit_s=0.1, clips=26, clips_base=20,
                          clips_adapted=17)
    assert not check.applied and "20 -> 17 of 26" in check.describe() and "discard it" in check.describe()
    assert cal.SelfCheck(0.8, 0.9, 50, 26, 0.1, clips=26, clips_base=20, clips_adapted=20).applied


def test_the_reading_check_reads_each_recording_with_and_without_the_profile():
    letters = "abcdefg"
    clips = [(c, np.full((3, 543, 3), ord(c), np.float32), np.arange(3) * 33.0, 1.0) for c in letters]
    good = cal.fit_profile(toy_profile(letters=letters), ClipReader(letters), clips=clips)
    assert (good.check.clips, good.check.clips_base, good.check.clips_adapted) == (7, 7, 7) and good.usable
    bad = cal.fit_profile(toy_profile(letters=letters), ClipReader("abc"), clips=clips)
    assert (bad.check.clips_base, bad.check.clips_adapted) == (7, 3) and not bad.usable
    assert "discard it" in bad.summary()


def test_profile_file_round_trips(tmp_path):
    profile = cal.fit_profile(toy_profile(n=6), LinearReader())
    path = cal.save_profile(profile, tmp_path / "me.npz")
    back = cal.load_profile(path)
    assert (back.model, back.model_id, back.letters) == (profile.model, profile.model_id, profile.letters)
    for c in profile.samples:
        np.testing.assert_array_equal(back.samples[c], profile.samples[c])
    np.testing.assert_allclose(back.adapter.weight, profile.adapter.weight)
    assert back.check == profile.check and back.usable
    assert not list(tmp_path.glob("*.tmp"))  # written atomically


@pytest.mark.parametrize("content", [b"", b"not a profile at all", b"PK\x03\x04 truncated zip", b"\x93NUMPY\x01\x00"])
def test_corrupt_profile_files_are_one_line_errors(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(cal.ProfileError) as e:
        cal.load_profile(path)
    assert "\n" not in str(e.value) and "bad.npz" in str(e.value)


def test_foreign_and_damaged_profiles_are_rejected(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, meta=np.array(json.dumps({"format": "someone-else/3"})))
    with pytest.raises(cal.ProfileError, match="not an ASL GPT profile"):
        cal.load_profile(foreign)
    path = cal.save_profile(toy_profile(n=3, letters="ab"), tmp_path / "p.npz")
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    arrays["hand_a"] = np.zeros((3, 5), np.float32)  # not hand points
    np.savez(tmp_path / "damaged.npz", **arrays)
    with pytest.raises(cal.ProfileError, match="not a readable profile"):
        cal.load_profile(tmp_path / "damaged.npz")
    with pytest.raises(cal.ProfileError, match="not found"):
        cal.load_profile(tmp_path / "missing.npz")


def test_a_profile_for_another_model_is_named_as_such():
    p = cal.Profile("default", "a" * 64)
    assert cal.check_model(p, "default", "a" * 64) == ""
    assert "made for model" in cal.check_model(p, "default", "b" * 64)


def test_profile_names_resolve_under_the_state_folder(tmp_path):
    assert cal.resolve_profile("me", tmp_path) == tmp_path / "profiles" / "me.npz"
    assert cal.resolve_profile(str(tmp_path / "x.npz"), tmp_path) == tmp_path / "x.npz"
    cal.save_profile(cal.Profile("m", "id"), cal.resolve_profile("me", tmp_path))
    assert [p.name for p in cal.list_profiles(tmp_path)] == ["me.npz"]


def _frame(points):
    """A landmark frame with only the right hand (raised: no body in view)."""
    f = layout.empty_frames(1)[0]
    f[layout.RIGHT_HAND] = points
    return f


def test_steady_frames_leave_out_the_hand_moving_into_the_shape():
    rng, shape = np.random.default_rng(0), letter_shapes()["a"]
    pts = np.stack([hand_take(rng, shape, 0.001) + (0.5 * i if i < 10 else 5.0) for i in range(40)])  # moving, then held
    times = np.arange(40) * 33.3
    keep = cal.steady_indices("a", pts, times)
    assert keep.min() >= 10 and len(keep) >= 25
    assert len(cal.steady_indices("j", pts, times)) == 40  # J is traced: every frame counts


def test_guided_capture_asks_again_flags_keeps_and_skips():
    shapes = letter_shapes()
    reader = LinearReader()
    capture = cal.GuidedCapture(reader, cal.Profile("toy", "id"), letters="abc")
    rng = np.random.default_rng(0)
    assert capture.state().phase == "ready" and capture.letter == "a"
    t = 0.0
    for _ in range(60):  # no hand for 2 s: nothing happens, still asking for A
        capture.feed(t, layout.empty_frames(1)[0])
        t += 33.3
    assert capture.state().phase == "ready" and capture.letter == "a"
    head = reader.letter_logits(features.hand_invariants(shapes["a"][None]))[0]
    flagged = head.argmax() != 0  # the toy head may read A as another letter: then the take is flagged
    while capture.letter == "a" and capture.state().phase != "flagged":
        s = capture.feed(t, _frame(hand_take(rng, shapes["a"], 0.001)))
        t += 33.3
    if flagged:
        assert s.phase == "flagged" and "looks like" in s.message
        capture.keep()
    assert "a" in capture.profile.samples and capture.letter == "b"
    capture.skip()
    assert capture.letter == "c" and "skipped" in capture.state().message
    capture.retake("a")
    assert capture.letter == "a"
    profile = capture.finish()  # partial: usable as a file, not fitted (too few letters)
    assert profile.letters == "a" and profile.adapter is None


# --- the shipped model ------------------------------------------------------------------------------


def test_a_neutral_profile_reads_exactly_as_the_shipped_model(shipped):
    """The calibrated path (letters -> adapter -> encode_letters) with a zero adapter is the plain encode."""
    from asl_gpt.recognition.recognizer import CalibratedRecognizer

    rng, shapes = np.random.default_rng(0), letter_shapes()
    frames = np.stack([_frame(hand_take(rng, shapes["abc"[i // 15]], 0.01)) for i in range(45)])
    n = features.N_INVARIANTS
    zero = cal.Adapter(np.zeros(n, np.float32), np.ones(n, np.float32), np.zeros((n, 26), np.float32), np.zeros(26, np.float32))
    profile = cal.Profile("default", shipped.fingerprint, adapter=zero, check=cal.SelfCheck(1, 1, 1, 26, 0))
    a = shipped.recognize(frames, 0, 1000)
    b = CalibratedRecognizer(shipped, profile).recognize(frames, 0, 1000)
    assert (a.text, a.raw_text) == (b.text, b.raw_text)
    assert a.confidence == pytest.approx(b.confidence, abs=1e-5)


def test_a_profile_never_makes_the_gate_less_sure(shipped):
    """An adapter that moves letter evidence around (here: pushes every frame towards Z) may change the
    reading; the confidence the buffer gates on is never below the shipped model's for the same frames."""
    from asl_gpt.recognition.recognizer import CalibratedRecognizer

    rng, shapes = np.random.default_rng(1), letter_shapes()
    frames = np.stack([_frame(hand_take(rng, shapes["cat"[i // 15]], 0.01)) for i in range(45)])
    n = features.N_INVARIANTS
    bias = np.full(26, -4.0, np.float32)
    bias[25] = 6.0
    z = cal.Adapter(np.zeros(n, np.float32), np.ones(n, np.float32), np.zeros((n, 26), np.float32), bias)
    profile = cal.Profile("default", shipped.fingerprint, adapter=z, check=cal.SelfCheck(1, 1, 1, 26, 0))
    a = shipped.recognize(frames, 0, 1000)
    b = CalibratedRecognizer(shipped, profile).recognize(frames, 0, 1000)
    assert b.confidence >= a.confidence - 1e-6


def test_with_profile_falls_back_with_one_line(shipped):
    from asl_gpt.recognition.recognizer import CalibratedRecognizer, with_profile

    other = cal.Profile("default", "0" * 64)
    rec, problem = with_profile(shipped, other)
    assert rec is shipped and "made for model" in problem and "\n" not in problem
    rec, problem = with_profile(shipped, cal.Profile("default", shipped.fingerprint))
    assert rec is shipped and "not applied" in problem
    usable = cal.fit_profile(toy_profile(n=6), shipped)
    usable = cal.Profile("default", shipped.fingerprint, usable.samples, usable.adapter,
                         cal.SelfCheck(0.5, 0.9, 10, 26, 0.1))
    rec, problem = with_profile(shipped, usable)
    assert isinstance(rec, CalibratedRecognizer) and problem == ""


def test_calibrating_on_massey_hand4_reads_hand4s_other_shapes_at_least_as_well(shipped):
    """The held-out Massey signer: half of each letter's photos calibrate, the other half are read by the
    shipped head and by the adapter."""
    from asl_gpt.config import load_settings

    data = load_settings().paths.data_dir
    if not (data / "massey" / "landmarks_21x3.npz").is_file():
        pytest.skip(f"no Massey handshapes under {data}")
    from asl_gpt.training.handshapes import HELD_OUT_SIGNER, load_bank

    bank = load_bank(data).only([HELD_OUT_SIGNER])
    keep = np.isin(bank.labels, list(cal.LETTERS))
    shapes, labels = bank.shapes[keep], bank.labels[keep]
    rng = np.random.default_rng(0)
    profile, test = cal.Profile("default", shipped.fingerprint), []
    for c in sorted(set(labels)):
        idx = rng.permutation(np.flatnonzero(labels == c))
        half = len(idx) // 2
        profile = profile.with_letter(c, shapes[idx[:half]])
        test += [(c, shapes[i]) for i in idx[half:]]
    profile = cal.fit_profile(profile, shipped)
    assert profile.usable
    inv = features.hand_invariants(np.stack([s for _, s in test]))
    y = np.array([cal.LETTERS.index(c) for c, _ in test])
    base = shipped.letter_logits(inv)
    before, after = (base.argmax(1) == y).mean(), (profile.adapter.apply(inv, base).argmax(1) == y).mean()
    # the shipped head, fitted with the public-domain photos too, already reads all of them (1.0): never worse
    assert after >= before and after >= 0.95, (before, after)


# --- the commands ---------------------------------------------------------------------------------

def _cli(*args, env=None, timeout=300):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "asl_gpt.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_calibrate_from_videos_then_recognize_with_and_without_a_usable_profile(tmp_path, signing_videos, shipped):
    """`calibrate --video` reads one letter a file (named after it) through Holistic and saves a profile;
    --resume adds to it; `recognize --profile` reads with a usable one, and a corrupt one is one warning
    line while the shipped model reads."""
    import shutil

    from asl_gpt.landmarks.io import write_parquet

    env = {"ASL_GPT_PATHS_STATE_DIR": str(tmp_path / "state")}
    for letter in "ab":
        shutil.copy(signing_videos["FOOTBALL"], tmp_path / f"{letter.upper()}_0.mp4")
    p = _cli("calibrate", "--video", tmp_path / "A_0.mp4", "--profile", "me", env=env)
    assert p.returncode == 0, p.stderr
    saved = tmp_path / "state" / "profiles" / "me.npz"
    assert cal.load_profile(saved).letters in ("a", "")  # a signing video: a steady A may or may not be found
    p = _cli("calibrate", "--video", tmp_path / "B_0.mp4", "--profile", "me", "--resume", env=env)
    assert p.returncode == 0 and "resuming" in p.stdout, p.stderr
    p = _cli("calibrate", "--video", tmp_path / "nothing.mp4", "--profile", "me", env=env)
    assert p.returncode == 2 and p.stderr.strip().startswith("error:") and len(p.stderr.strip().splitlines()) == 1

    rng = np.random.default_rng(0)
    frames = layout.empty_frames(60)
    frames[:, layout.POSE] = rng.uniform(0.3, 0.7, (60, 33, 3))
    frames[5:50, layout.RIGHT_HAND] = rng.uniform(0.3, 0.5, (45, 21, 3))
    lm = tmp_path / "capture.parquet"
    write_parquet(frames, lm)
    usable = cal.fit_profile(toy_profile(n=6), shipped)
    usable = cal.Profile("default", shipped.fingerprint, usable.samples, usable.adapter, cal.SelfCheck(0.5, 0.9, 10, 26, 0.1))
    cal.save_profile(usable, tmp_path / "usable.npz")
    p = _cli("recognize", lm, "--json", "--no-progress", "--profile", tmp_path / "usable.npz", env=env)
    assert p.returncode == 0 and not [x for x in p.stderr.splitlines() if x.startswith("warning:")], p.stderr
    assert json.loads(p.stdout)["profile"] == str(tmp_path / "usable.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"garbage")
    p = _cli("recognize", lm, "--json", "--no-progress", "--profile", tmp_path / "corrupt.npz", env=env)
    assert p.returncode == 0, p.stderr
    warnings = [line for line in p.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "reading without a profile" in warnings[0]
    assert json.loads(p.stdout)["profile"] is None


# --- the check words: a profile must not read the user's own words worse -------------------------------

def _words(*words):
    """Check-word recordings (word, frames, times_ms, aspect); the frames only carry the word's index."""
    return [(w, np.full((4, 543, 3), i, np.float32), np.arange(4) * 33.0, 16 / 9) for i, w in enumerate(words)]


class ScriptedWords:
    """How the check words read: as spelled by the shipped model; with an adapter, as spelled only while the
    adapter is no stronger than `max_norm` (its weights' norm), else with the last letter misread."""

    def __init__(self, max_norm: float):
        self.max_norm, self.calls = max_norm, []

    def __call__(self, frames, times_ms, aspect, adapter):
        self.calls.append(adapter)
        word = self.words[int(frames[0, 0, 0])]
        if adapter is None or np.linalg.norm(adapter.weight) <= self.max_norm:
            return word
        return word[:-1] + "l"


def _norms(profile=None):
    """The adapter's weight norm at each pull of the default choices (a stronger pull: a smaller norm)."""
    profile = profile or toy_profile()
    return {l2: float(np.linalg.norm(cal.fit_profile(profile, LinearReader(), cal.CalibrationOptions(l2=l2))
                                     .adapter.weight)) for l2 in cal.CalibrationOptions.l2_choices}


def test_a_profile_that_reads_the_check_words_worse_is_not_applied_and_says_so():
    words = _words("at", "but", "the")
    read = ScriptedWords(max_norm=0.0)  # any adapter misreads them
    read.words = [w for w, *_ in words]
    profile = cal.fit_profile(toy_profile(), LinearReader(), words=words, read_word=read)
    check = profile.check
    assert check.letters_ok and not check.applied and not profile.usable  # its letters alone would pass
    assert (check.words, check.words_base) == (3, 1.0) and check.words_adapted < 1.0
    assert check.l2 == max(cal.CalibrationOptions.l2_choices)  # every pull tried, the weakest reported
    assert "reads your words worse" in profile.summary() and "discard it" in profile.summary()
    assert sum(a is None for a in read.calls) == 3  # the shipped model's reading is read once per word


def test_the_check_words_choose_the_strongest_pull_that_reads_them_no_worse():
    norms = _norms()
    assert norms[0.3] > norms[1.0] > norms[3.0]
    words = _words("at", "but")
    read = ScriptedWords(max_norm=(norms[0.3] + norms[1.0]) / 2)  # 0.3 misreads, 1 and 3 read them right
    read.words = [w for w, *_ in words]
    profile = cal.fit_profile(toy_profile(), LinearReader(), words=words, read_word=read)
    assert profile.usable and profile.check.l2 == 1.0 and profile.check.words_adapted == profile.check.words_base
    assert "2 check words read 1.00 -> 1.00 (pull 1)" in profile.summary()
    read = ScriptedWords(max_norm=1e9)  # every pull reads them right: the strongest is kept
    read.words = [w for w, *_ in words]
    assert cal.fit_profile(toy_profile(), LinearReader(), words=words, read_word=read).check.l2 == 0.3


def test_without_check_words_the_profile_says_it_was_checked_on_letters_only():
    profile = cal.fit_profile(toy_profile(), LinearReader())
    assert profile.usable and profile.check.words == 0 and profile.check.l2 == cal.CalibrationOptions.l2
    assert "checked on letters only" in profile.summary()
    with pytest.raises(ValueError):  # words need the reading path they are checked through
        cal.fit_profile(toy_profile(), LinearReader(), words=_words("at"))


def test_word_scores_are_the_sets_normalized_levenshtein():
    assert cal.word_score([("at", "at"), ("but", "bul")]) == pytest.approx(4 / 5)
    assert cal.word_score([("at", "")]) == 0.0 and cal.word_score([]) == 1.0  # training.metrics.score's formula
    assert cal.word_score([("at", "at"), ("but", "bul")]) == score(["at", "but"], ["at", "bul"]).score


def test_the_word_check_round_trips_and_an_older_file_without_it_loads(tmp_path):
    words = _words("at", "but")
    read = ScriptedWords(max_norm=1e9)
    read.words = [w for w, *_ in words]
    profile = cal.fit_profile(toy_profile(n=6), LinearReader(), words=words, read_word=read)
    back = cal.load_profile(cal.save_profile(profile, tmp_path / "me.npz"))
    assert back.check == profile.check and back.check.words == 2 and back.check.l2 == 0.3
    with np.load(tmp_path / "me.npz") as d:  # a profile saved before the word check existed
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(str(arrays["meta"]))
    for key in ("words", "words_base", "words_adapted", "l2", "read_s"):
        del meta["check"][key]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **arrays)
    old = cal.load_profile(tmp_path / "old.npz")
    assert old.check.words == 0 and old.check.l2 == cal.CalibrationOptions.l2 and old.usable
    assert "checked on letters only" in old.summary()


def test_check_words_read_through_the_users_streaming_path_with_and_without_the_adapter():
    """pipeline.committed_reading streams a recording as `recognize` does and returns its committed text; the
    adapter reaches the model's reading, and a reading below the confidence gate commits nothing."""
    from types import SimpleNamespace

    from asl_gpt.recognition.buffer import BufferOptions
    from asl_gpt.recognition.pipeline import committed_reading
    from asl_gpt.recognition.recognizer import Hypothesis
    from asl_gpt.recognition.streaming import StreamOptions
    from fakes import landmarks

    class Base:
        contract = SimpleNamespace(min_confidence=0.5, name="fake")

        def recognize(self, frames, t_start=0.0, t_end=0.0, aspect=1.0, adapter=None):
            text, conf = ("at", 0.9) if adapter is None else ("al", 0.9) if adapter == "strong" else ("al", 0.1)
            return Hypothesis(text, conf, t_start, t_end)

    frames = np.stack([landmarks(hand=i < 40) for i in range(60)])
    times = np.arange(60) * 40.0
    read = committed_reading(Base(), StreamOptions(), BufferOptions(min_confidence=0.5))
    assert read(frames, times, 1.0, None) == "at"
    assert read(frames, times, 1.0, "strong") == "al"
    assert read(frames, times, 1.0, "unsure") == ""


def test_check_words_are_common_words_of_the_calibrated_letters():
    words = cal.check_words_for("abcdefghiklmnoprstuvwy", 3)
    assert len(words) == 3 and len(set(words)) == 3
    assert all(3 <= len(w) <= 4 and set(w) <= set("abcdefghiklmnoprstuvwy") for w in words)
    assert cal.check_words_for("xq", 3) == []  # nothing common spelled with these


def test_guided_capture_ends_with_check_words_that_may_be_skipped():
    """Once the letters are done the capture asks for check words: a take runs from the hand's rise until it has
    been down `word_rest_s`; a word or all of them may be skipped; finish() checks the profile on those spelled."""
    shapes, rng = letter_shapes(), np.random.default_rng(0)
    readings = []

    def read(frames, times_ms, aspect, adapter):
        readings.append((len(frames), adapter is None))
        return capture_words[0]

    capture = cal.GuidedCapture(LinearReader(), toy_profile(), letters="", read_word=read)
    capture_words = list(capture.words)
    assert len(capture_words) == 3 and capture.state().phase == "word" and capture.state().word == capture_words[0]
    t = 0.0
    for i in range(30):  # 10 frames without a hand (waiting), 10 spelling, then down
        hand = 10 <= i < 20
        capture.feed(t, _frame(hand_take(rng, shapes["a"], 0.001)) if hand else layout.empty_frames(1)[0])
        t += 100.0
    s = capture.state()
    assert s.words_done == 1 and s.word == capture_words[1] and "recorded" in s.message
    capture.skip()
    assert capture.word == capture_words[2]
    capture.skip_words()
    assert capture.state().phase == "done"
    profile = capture.finish()
    assert profile.check.words == 1 and profile.check.words_base == 1.0
    assert readings[0] == (20, True)  # the take: from the rise to 1 s after the drop


def test_guided_capture_without_a_reading_path_or_when_words_are_skipped_checks_letters_only():
    assert cal.GuidedCapture(LinearReader(), toy_profile(), letters="").state().phase == "done"
    capture = cal.GuidedCapture(LinearReader(), toy_profile(), letters="", read_word=lambda *a: "")
    capture.skip_words()
    assert "letters only" in capture.state().message
    assert "checked on letters only" in capture.finish().summary()


@pytest.mark.parametrize("spec", ["cat", "cat=", "=cat.mp4", "c4t=cat.mp4", "cat=missing-video.mp4"])
def test_calibrate_word_with_a_bad_spec_is_one_clear_line(tmp_path, spec):
    from asl_gpt.commands.calibrate import word_specs
    from asl_gpt.errors import InputError

    with pytest.raises(InputError) as e:
        word_specs([spec])
    assert "\n" not in str(e.value)
    p = _cli("calibrate", "--video", tmp_path / "A_0.mp4", "--word", spec, timeout=120,
             env={"ASL_GPT_PATHS_STATE_DIR": str(tmp_path / "state")})
    assert p.returncode == 2 and p.stderr.strip().startswith("error:") and len(p.stderr.strip().splitlines()) == 1
    assert ("--word" in p.stderr) or ("missing-video" in p.stderr)


def test_the_benchmark_splits_each_signers_words_by_a_fixed_rule_and_reads_each_adapter_once():
    from asl_gpt.benchmarks.calibration import folds, remembered

    words = ["all", "am", "are", "as", "at"]
    assert folds(words) == (["all", "are", "at"], ["am", "as"])  # alternate by sorted file name
    calls = []
    read = remembered(lambda frames, times, aspect, adapter: calls.append(adapter) or "x")
    frames = np.zeros((3, 543, 3), np.float32)
    a = cal.fit_profile(toy_profile(n=3), LinearReader()).adapter
    same, other = cal.Adapter(a.mean, a.std, a.weight.copy(), a.bias), cal.Adapter(a.mean, a.std, 2 * a.weight, a.bias)
    for adapter in (None, None, a, same, other):
        read(frames, None, 1.0, adapter)
    assert calls == [None, a, other]  # the same weights are read once
