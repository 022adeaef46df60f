"""The measuring tools of real recordings and static letters (eval --data real-words / letters), on
hand-made inputs and a fake recognizer: no evaluation data, no MediaPipe, no model."""

from types import SimpleNamespace

import numpy as np
import pytest

from asl_gpt.recognition.buffer import BufferOptions
from asl_gpt.errors import InputError
from asl_gpt.landmarks import layout
from asl_gpt.landmarks.io import write_parquet
from asl_gpt.recognition.recognizer import Hypothesis
from asl_gpt.recognition.streaming import StreamOptions
from asl_gpt.training import letter_eval as letters
from asl_gpt.training import real


class SpellingRecognizer:
    """Reads the right hand's x (a letter index) in its frames: the letters of the runs it sees, with a
    fixed confidence. Deterministic, instant."""

    contract = SimpleNamespace(min_confidence=0.5)

    def __init__(self, confidence: float = 0.8):
        self.confidence = confidence

    def recognize(self, frames, t_start=0.0, t_end=0.0):
        x = frames[:, layout.RIGHT_HAND.start, 0]
        x = x[np.isfinite(x)]
        text = "".join(chr(ord("a") + int(v)) for i, v in enumerate(x) if i == 0 or v != x[i - 1])
        return Hypothesis(text, self.confidence, t_start, t_end)


def spelled(word: str, hold: int = 12, rest: int = 40) -> np.ndarray:
    """Frames of a word: each letter's hand held `hold` frames, then no hands for `rest` frames."""
    f = layout.empty_frames(len(word) * hold + rest)
    for i, c in enumerate(word):
        f[i * hold:(i + 1) * hold, layout.RIGHT_HAND, :] = 0.5
        f[i * hold:(i + 1) * hold, layout.RIGHT_HAND.start, 0] = ord(c) - ord("a")
    return f


# --- names, signers, scores ----------------------------------------------------------------------

def test_names_and_signer_table():
    assert real.parse_name("ALL") == ("all", "0")
    assert real.parse_name("YOU") == ("you", "1")
    assert real.parse_name("HALO") == ("halo", "3")
    assert real.parse_name("A_3") == ("a", "3")
    assert real.parse_name("hello_maria") == ("hello", "maria")
    assert real.parse_name("zebra") == ("zebra", real.UNKNOWN)
    assert len(real.WORD_SIGNERS) == 40 and sorted(set(real.WORD_SIGNERS.values())) == ["0", "1", "2", "3"]


def test_the_two_swapped_word_videos_are_scored_against_what_they_spell(tmp_path):
    """Only the repository's own two files (by name and size) are relabelled; another AM.mp4 keeps its name."""
    sizes = {name: size for (name, size) in real.RELABELLED}
    for name, size in sizes.items():
        (tmp_path / "set" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "set" / name).write_bytes(b"x" * size)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "AM.mp4").write_bytes(b"x")
    labels = {i.rel: i.label for i in real.list_set(tmp_path)}
    assert labels == {"set/AM.mp4": "are", "set/ARE.mp4": "am", "mine/AM.mp4": "am"}


def test_list_set_finds_videos_and_landmarks(tmp_path):
    for rel in ("test_word_original/CAT.mp4", "test_original/C_3.mp4", "mine/hello_me.parquet", "notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    items = real.list_set(tmp_path)
    assert [(i.rel, i.label, i.signer, i.kind) for i in items] == [
        ("mine/hello_me.parquet", "hello", "me", "word"), ("test_word_original/CAT.mp4", "cat", "3", "word"),
        ("test_original/C_3.mp4", "c", "3", "letter")]
    with pytest.raises(InputError):
        real.list_set(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no videos"):
        real.list_set(tmp_path / "empty")


def test_video_score_is_normalized_levenshtein():
    assert real.video_score("cat", "cat") == 1.0
    assert real.video_score("cat", "") == 0.0
    assert real.video_score("cat", "cut") == pytest.approx(2 / 3)
    assert real.video_score("a", "bcd") == -2.0  # more wrong text than reference: below zero
    assert real.lcs("halo", "hallo") == 4 and real.lcs("cat", "") == 0


# --- segment readings and the reliability table ------------------------------------------------------------------------

def updates_of(*segments):
    """Streaming updates of a run: each segment (text, confidence) as a partial then its final."""
    from asl_gpt.recognition.recognizer import Hypothesis
    from asl_gpt.recognition.streaming import Update

    ups, t = [], 0.0
    for k, (text, conf) in enumerate(segments):
        ups.append(Update(Hypothesis(text[:1], conf, t, t + 100), k, final=False))
        ups.append(Update(Hypothesis(text, conf, t, t + 400), k, final=True))
        t += 500
    return ups


def test_segment_readings_are_each_segments_last_word():
    from asl_gpt.recognition.recognizer import Hypothesis
    from asl_gpt.recognition.streaming import Update

    ups = updates_of(("dog", 0.3), ("cat", 0.8))
    assert real.segment_readings(ups) == [("dog", 0.3), ("cat", pytest.approx(0.8))]
    # a segment whose final decode never came: its last partial is its reading
    assert real.segment_readings([Update(Hypothesis("ca", 0.4, 0, 1), 0, final=False)]) == [("ca", 0.4)]


def test_reliability_table_on_hand_made_runs():
    def runs(cat, dog, owl):  # what each recording committed at one threshold
        return [real.VideoRun("cat.mp4", "cat", "0", "word", 10, cat, "", 0.0, []),
                real.VideoRun("dog.mp4", "dog", "0", "word", 10, dog, "", 0.0, []),
                real.VideoRun("owl.mp4", "owl", "1", "word", 10, owl, "", 0.0, [])]

    rows = {r["threshold"]: r for r in real.reliability({0.1: runs("cat", "dg", ""), 0.5: runs("cat", "", ""),
                                                          0.9: runs("", "", "")})}
    assert rows[0.5]["committed_videos"] == 1 and rows[0.5]["coverage"] == pytest.approx(1 / 3, abs=1e-4)
    assert rows[0.5]["video_precision"] == 1.0 and rows[0.5]["char_precision"] == 1.0
    assert rows[0.1]["committed_videos"] == 2 and rows[0.1]["right_videos"] == 1
    assert rows[0.1]["committed_chars"] == 5 and rows[0.1]["right_chars"] == 5  # "dg" is 2 right chars of "dog"
    assert rows[0.1]["score"] == pytest.approx((9 - 1 - 3) / 9, abs=1e-4)  # cat 0 + dog 1 + owl 3 edits over 9 chars
    assert rows[0.9]["committed_videos"] == 0 and rows[0.9]["char_precision"] is None


def test_letter_confusion_per_letter():
    def run(label, committed):
        return real.VideoRun(f"{label}.mp4", label, "0", "letter", 10, committed, "", 0.0, [])

    table = real.letter_confusion([run("n", "p"), run("m", "m"), run("n", "n"), run("n", ""), run("n", "p"),
                                   run("m", "p")])
    assert list(table) == ["m", "n"]
    assert table["n"] == {"clips": 4, "right": 1, "read": {"p": 2, "": 1}}
    assert table["m"] == {"clips": 2, "right": 1, "read": {"p": 1}}


# --- the whole evaluation, on landmark files ------------------------------------------------------

def test_evaluate_real_on_landmark_files(tmp_path):
    d = tmp_path / "set"
    write_parquet(spelled("cat"), d / "words" / "CAT.parquet", frame_ids=np.arange(76) + 100)
    write_parquet(spelled("dog"), d / "words" / "dog_maria.parquet")
    write_parquet(spelled("b"), d / "letters" / "B_3.parquet")
    write_parquet(spelled("q"), d / "letters" / "C_3.parquet")  # read wrong
    rec = SpellingRecognizer()
    out = real.evaluate_real(rec, d, None, StreamOptions(), BufferOptions(min_confidence=0.5), progress=False)
    videos = {v["file"]: v for v in out["videos"]}
    assert videos["words/CAT.parquet"]["committed"] == "cat" and videos["words/CAT.parquet"]["signer"] == "3"
    assert videos["words/dog_maria.parquet"]["signer"] == "maria"
    assert videos["words/CAT.parquet"]["segments"] == 1 and videos["words/CAT.parquet"]["hand_frames"] == 36
    assert videos["letters/C_3.parquet"] == {**videos["letters/C_3.parquet"], "committed": "q", "score": 0.0,
                                             "raw": "q", "raw_confidence": 0.8}
    w, L = out["kinds"]["word"], out["kinds"]["letter"]
    assert w["overall"]["score"] == 1.0 and set(w["per_signer"]) == {"3", "maria"}
    assert L["overall"]["exact"] == 0.5 and L["per_signer"]["3"]["videos"] == 2
    thr = [r["threshold"] for r in w["reliability"]]
    assert thr == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert [r["committed_videos"] for r in w["reliability"]] == [2] * 8 + [0]  # confidence 0.8: committed up to 0.8
    # below the threshold: nothing committed, the raw reading is still reported
    low = real.evaluate_real(SpellingRecognizer(0.3), d, None, StreamOptions(), BufferOptions(min_confidence=0.5),
                             kinds=("word",), progress=False)
    assert [v["committed"] for v in low["videos"]] == ["", ""] and [v["raw"] for v in low["videos"]] == ["cat", "dog"]
    assert "letter" not in low["kinds"] and low["kinds"]["word"]["overall"]["raw_score"] == 1.0


def test_landmark_cache_is_keyed_by_path_size_and_mtime(tmp_path, monkeypatch):
    import os

    calls = []

    def fake_extract(path, max_side=640, progress=False):
        calls.append(path)
        return spelled("ab"), np.arange(64) * 33.3

    monkeypatch.setattr("asl_gpt.landmarks.holistic.extract_video", fake_extract)
    monkeypatch.setattr(real, "video_wh", lambda path: (720, 1280))
    d, cache = tmp_path / "set", tmp_path / "cache"
    (d / "test_word_original").mkdir(parents=True)
    video = d / "test_word_original" / "AB.mp4"
    video.write_bytes(b"not really a video")
    item = real.list_set(d)[0]
    f, t = real.item_landmarks(item, cache)
    again, _ = real.item_landmarks(item, cache)
    assert len(calls) == 1 and np.array_equal(f, again, equal_nan=True) and f.dtype == np.float32
    cached = real.cache_file(item, cache)
    assert cached.is_file() and cached.parent == cache / "test_word_original" and str(video.stat().st_size) in cached.name
    os.utime(video, (1_000_000, 1_000_000))  # the recording changed: extracted again
    real.item_landmarks(item, cache)
    assert len(calls) == 2
    samples = real.load_real_set(d, cache)
    assert len(calls) == 2 and samples[0].label == "ab" and samples[0].kind == "word" and samples[0].frames.shape[1:] == (543, 3)
    assert samples[0].frame_wh == (720, 1280) and list(np.load(real.cache_file(item, cache))["frame_wh"]) == [720, 1280]


def test_read_landmark_file_times(tmp_path):
    from asl_gpt.landmarks.io import read_landmark_file

    write_parquet(spelled("ab")[:5], tmp_path / "a.parquet", frame_ids=np.array([14, 10, 11, 12, 13]))
    frames, times = read_landmark_file(tmp_path / "a.parquet")
    assert frames.shape == (5, 543, 3) and np.allclose(times, np.arange(5) * 1000 / 30)
    _, times = read_landmark_file(tmp_path / "a.parquet", fps=10)
    assert times[-1] == pytest.approx(400.0)
    with pytest.raises(InputError):
        read_landmark_file(tmp_path / "absent.parquet")


# --- static letters ----------------------------------------------------------------------------------

def hand(spread: float) -> np.ndarray:
    """A plausible raw MediaPipe hand in 0..1 image coordinates: wrist low, fingers up."""
    p = np.zeros((21, 3))
    p[0] = (0.5, 0.8, 0.0)
    for f in range(5):
        for j in range(4):
            p[1 + 4 * f + j] = (0.5 + (f - 2) * spread * (j + 1) / 4, 0.7 - 0.06 * j, -0.01 * j)
    return p


def test_load_handshapes_keeps_letters_and_signers(tmp_path):
    X = np.stack([hand(0.05 + 0.01 * i) for i in range(6)]).astype(np.float32)
    y = np.array(["A", "b", "1", "z", "a", "J"])
    names = np.array(["a/hand1_a_x.jpeg", "b/hand1_b.jpeg", "1/hand1_1.jpeg", "z/hand2_z.jpeg", "a/hand2_a.jpeg",
                      "j/hand2_j.jpeg"])
    np.savez(tmp_path / "set.npz", X=X, y=y, names=names)
    hs = letters.load_handshapes(tmp_path / "set.npz")
    assert hs.labels.tolist() == ["a", "b", "z", "a", "j"]  # the digit is skipped
    assert hs.signers.tolist() == ["hand1", "hand1", "hand2", "hand2", "hand2"]
    assert np.allclose(hs.shapes[:, 0], 0) and np.allclose(np.linalg.norm(hs.shapes[:, 9, :2], axis=-1), 1)
    assert letters.load_handshapes(tmp_path / "set.npz", signer="hand2").labels.tolist() == ["z", "a", "j"]
    with pytest.raises(InputError, match="no signer 'hand9'"):
        letters.load_handshapes(tmp_path / "set.npz", signer="hand9")
    np.savez(tmp_path / "nonames.npz", X=X, y=y)
    assert set(letters.load_handshapes(tmp_path / "nonames.npz").signers) == {letters.UNKNOWN}
    np.savez(tmp_path / "bad.npz", X=X[:, :5], y=y)
    with pytest.raises(InputError, match="N x 21 x 3"):
        letters.load_handshapes(tmp_path / "bad.npz")
    with pytest.raises(InputError, match="not found"):
        letters.load_handshapes(tmp_path / "absent.npz")


def body(n: int = 12) -> np.ndarray:
    b = layout.empty_frames(n)
    P = layout.point_index
    b[:, P("pose", 11)] = (0.65, 0.6, 0.0)  # left shoulder (image right)
    b[:, P("pose", 12)] = (0.35, 0.6, 0.0)
    return b


def test_still_sequence_holds_the_right_hand_in_front_of_the_body():
    from asl_gpt.training.handshapes import canonicalise

    can = canonicalise(hand(0.06)[None], (600.0, 600.0))[0]
    frames, times = letters.still_sequence(can, body(), np.random.default_rng(0), letters.StillOptions(frames=20))
    rh = frames[:, layout.RIGHT_HAND]
    assert frames.shape == (20, 543, 3) and np.isfinite(rh).all() and np.isnan(frames[:, layout.LEFT_HAND]).all()
    assert np.allclose(times, np.arange(20) * 1000 / 30)
    assert ((rh[..., :2] > 0) & (rh[..., :2] < 1)).all()  # in the frame
    palm = np.linalg.norm(rh[:, 9, :2] * (640, 480) - rh[:, 0, :2] * (640, 480), axis=-1)
    assert palm.std() < 0.1 * palm.mean()  # held still: jitter only
    lead, _ = letters.still_sequence(can, body(), np.random.default_rng(0), letters.StillOptions(frames=20, lead_frames=4))
    assert len(lead) == 28 and np.isnan(lead[:4, layout.RIGHT_HAND]).all() and np.isfinite(lead[4:24, layout.RIGHT_HAND]).all()


def test_evaluate_letters_per_signer_and_letter():
    from asl_gpt.training.handshapes import canonicalise

    shapes = canonicalise(np.stack([hand(0.05)] * 4), (600.0, 600.0))
    hs = letters.HandSet(shapes, np.array(["a", "b", "a", "c"]), np.array(["s1", "s1", "s2", "s2"]))

    class AlwaysA:
        contract = SimpleNamespace(min_confidence=0.5)

        def recognize(self, frames, t_start=0.0, t_end=0.0, aspect=1.0):
            return Hypothesis("a", 0.9, t_start, t_end)

    out = letters.evaluate_letters(AlwaysA(), hs, body(), progress=False)["letters"]
    assert out["accuracy"] == 0.5 and out["accuracy_and_confident"] == 0.5
    assert out["per_letter"] == {"a": 1.0, "b": 0.0, "c": 0.0}
    assert out["per_signer"]["s1"]["accuracy"] == 0.5 and out["per_signer"]["s2"]["samples"] == 2
    assert out["confusions"] == {"b": {"a": 1}, "c": {"a": 1}}
