"""Streaming schedule and the session wiring, with a fake recognizer (unit tests only)."""

import threading
import time

import numpy as np

from asl_gpt.recognition.buffer import BufferOptions, Committed, Partial
from asl_gpt.landmarks import layout
from asl_gpt.landmarks.video import Frame
from asl_gpt.recognition.pipeline import RecognitionSession
from asl_gpt.recognition.recognizer import Hypothesis
from asl_gpt.recognition.streaming import StreamingRecognizer, StreamOptions
from fakes import LetterRecognizer


def frame(hand: bool) -> np.ndarray:
    f = layout.empty_frames(1)[0]
    if hand:
        f[layout.RIGHT_HAND] = 0.5
    return f


def run(stream, pattern, dt=33.0):
    ups = []
    for i, h in enumerate(pattern):
        ups += stream.push(i * dt, frame(h))
    return ups + stream.flush()


def test_partials_every_stride_and_one_final_per_segment():
    rec = LetterRecognizer()
    s = StreamingRecognizer(rec, StreamOptions(max_fps=0, stride_frames=5, drop_frames=3, min_segment_frames=3))
    ups = run(s, [False] * 3 + [True] * 20 + [False] * 5 + [True] * 10 + [False] * 4)
    finals = [u for u in ups if u.final]
    assert [u.segment for u in finals] == [0, 1]
    assert finals[0].hypothesis.text == "abcd" and finals[1].hypothesis.text == "ab"
    assert any(not u.final for u in ups)
    assert finals[0].hypothesis.t_start == 3 * 33.0  # the segment starts at the first hand frame
    s.close()


def test_short_noise_segments_are_ignored():
    rec = LetterRecognizer()
    s = StreamingRecognizer(rec, StreamOptions(max_fps=0, stride_frames=5, drop_frames=3, min_segment_frames=6))
    ups = run(s, [True] * 3 + [False] * 10)
    assert ups == [] and rec.calls == []
    s.close()


def test_push_never_waits_for_a_slow_recognizer():
    rec = LetterRecognizer(delay_s=0.3)
    s = StreamingRecognizer(rec, StreamOptions(max_fps=0, stride_frames=2, drop_frames=3, min_segment_frames=2))
    worst = 0.0
    for i in range(40):
        t = time.perf_counter()
        s.push(i * 33.0, frame(True))
        worst = max(worst, time.perf_counter() - t)
    assert worst < 0.1  # far below one 0.3 s decode: push only hands work over
    ups = s.flush()
    assert ups and ups[-1].final and ups[-1].hypothesis.text == "abcdefgh"
    s.close()


def test_recognizer_errors_do_not_kill_the_stream():
    class Broken(LetterRecognizer):
        def recognize(self, frames, t_start=0.0, t_end=0.0):
            raise RuntimeError("boom")

    s = StreamingRecognizer(Broken(), StreamOptions(max_fps=0, stride_frames=2, drop_frames=2, min_segment_frames=2))
    assert run(s, [True] * 6 + [False] * 3) == [] and s.errors >= 1
    s.close()


def test_session_commits_utterances_from_frames():
    rec = LetterRecognizer()
    hands = iter([False] * 2 + [True] * 25 + [False] * 60)
    session = RecognitionSession(rec, lambda rgb: frame(next(hands)), StreamOptions(max_fps=0, stride_frames=5, drop_frames=3),
                                 BufferOptions(min_confidence=0.5, end_pause_ms=1000))
    rgb = np.zeros((4, 4, 3), np.uint8)
    events = []
    for i in range(87):
        events += session.process(Frame(i * 33.0, rgb)).events
        time.sleep(0.002)
    events += session.finish()
    committed = [e for e in events if isinstance(e, Committed)]
    assert [c.text for c in committed] == ["abcde"]
    session.close()


def test_session_survives_a_failing_frame():
    def extractor(rgb):
        raise ValueError("corrupt frame")

    session = RecognitionSession(LetterRecognizer(), extractor)
    r = session.process(Frame(0.0, np.zeros((2, 2, 3), np.uint8)))
    assert r.error == "corrupt frame" and not r.hands_visible
    session.close()


def _signer_frame(raised: bool, resting_other: bool = True) -> np.ndarray:
    """A body (shoulders at y 0.5), the other hand resting low in view, the right hand raised or absent."""
    f = layout.empty_frames(1)[0]
    f[layout.POSE.start + 11] = (0.65, 0.5, 0.0)
    f[layout.POSE.start + 12] = (0.35, 0.5, 0.0)
    if resting_other:
        f[layout.LEFT_HAND] = (0.7, 0.97, 0.0)  # 1.6 shoulder widths below the shoulders
    if raised:
        f[layout.RIGHT_HAND] = (0.3, 0.45, 0.0)
    return f


def test_a_resting_second_hand_neither_opens_nor_holds_a_segment():
    rec = LetterRecognizer()
    s = StreamingRecognizer(rec, StreamOptions(max_fps=0, stride_frames=50, drop_frames=3, min_segment_frames=3))
    pattern = [False] * 10 + [True] * 15 + [False] * 10 + [True] * 10 + [False] * 10
    ups = []
    for i, up in enumerate(pattern):
        ups += s.push(i * 33.0, _signer_frame(up))
        s.wait()
    finals = [u for u in ups if u.final]
    assert [u.segment for u in finals] == [0, 1]  # both words closed while the other hand stayed in view
    assert not s.in_segment
    s.close()


def test_the_aspect_is_applied_before_decoding():
    seen = []

    class Spy(LetterRecognizer):
        def recognize(self, frames, t_start=0.0, t_end=0.0):
            seen.append(float(np.nanmax(frames[:, layout.RIGHT_HAND, 0])))
            return super().recognize(frames, t_start, t_end)

    s = StreamingRecognizer(Spy(), StreamOptions(max_fps=0, stride_frames=50, drop_frames=2, min_segment_frames=2), aspect=0.5)
    for i, up in enumerate([True] * 5 + [False] * 3):
        s.push(i * 33.0, _signer_frame(up, resting_other=False))
    s.flush()
    s.close()
    assert np.allclose(seen, [0.15])  # x 0.3 of a frame half as wide as it is high


def test_a_commit_with_the_hand_still_up_is_not_read_again():
    """A learner holds a letter past the still pause: what was committed is cut from the segment, so the
    next reading holds only what is signed after it (not 'a', then 'ab', then 'abc' ...)."""

    class SlowSpeller(LetterRecognizer):  # one letter per 15 hand frames it is given: still between letters
        def recognize(self, frames, t_start=0.0, t_end=0.0):
            n = int(np.isfinite(frames[:, layout.RIGHT_HAND, 0]).any(axis=1).sum())
            return Hypothesis("abcdefgh"[: n // 15], 0.9, t_start, t_end)

    session = RecognitionSession(SlowSpeller(), lambda rgb: None,
                                 StreamOptions(max_fps=0, stride_frames=3, drop_frames=3, min_segment_frames=3),
                                 BufferOptions(min_confidence=0.5, still_pause_ms=300, end_pause_ms=300))
    events = []
    for i in range(100):
        events += session.process_landmarks(i * 33.0, frame(True)).events
        session.stream.wait()
        events += session.poll()
    events += session.finish()
    session.close()
    said = [e.text for e in events if isinstance(e, Committed)]
    assert len(said) >= 3 and all(t == "a" for t in said), said


def test_frames_reach_the_model_at_most_max_fps():
    from asl_gpt.recognition.streaming import rate_limited

    t30 = [i * 1000 / 30 for i in range(10)]
    assert rate_limited(t30, 15.0) == [0, 2, 4, 6, 8]
    assert rate_limited([i * 1000 / 15 for i in range(5)], 15.0) == [0, 1, 2, 3, 4]  # 15 fps: every frame
    assert rate_limited(t30, 0) == list(range(10))
    rec = LetterRecognizer()
    s = StreamingRecognizer(rec, StreamOptions(max_fps=15.0, stride_frames=100, drop_frames=3, min_segment_frames=3))
    run(s, [True] * 30 + [False] * 4, dt=1000 / 30)
    s.close()
    assert rec.calls == [15]  # 30 frames at 30 fps: 15 decoded


def test_the_session_owns_its_buffer_and_offers_the_apps_operations():
    """What the app does to the pending utterance goes through the session (it keeps its buffer to itself)."""
    session = RecognitionSession(LetterRecognizer(), lambda rgb: None, StreamOptions(max_fps=0),
                                 BufferOptions(min_confidence=0.5, end_pause_ms=100))
    try:
        session.push("leba", 0.2, final=True)
        assert session.last_rejected.text == "leba" and session.partial().text == ""
        session.restore_rejected()
        assert session.partial() == Partial("leba", 0.2, True) and session.last_rejected is None
        session.hold(True)
        assert session.process_landmarks(0.0, frame(False)).events == []
        assert session.process_landmarks(500.0, frame(False)).events == []  # held: the pause does not send
        session.edit("where is it")
        session.delete_last_word()
        assert session.partial() == Partial("where is", 1.0, False)
        assert session.set_options(min_confidence=0.9).min_confidence == 0.9 == session.options.min_confidence
        session.clear()
        assert session.partial().text == ""
    finally:
        session.close()


def test_a_final_reading_that_lands_after_the_pause_sent_the_word_is_not_read_again():
    """The pause commits the last partial reading while the segment's final decode is still running (two busy
    cores): that late final must not come back as a new pending utterance that joins the next word."""
    gate = threading.Event()
    gate.set()

    class Gated(LetterRecognizer):
        def recognize(self, frames, t_start=0.0, t_end=0.0):
            gate.wait(5.0)
            return super().recognize(frames, t_start, t_end)

    session = RecognitionSession(Gated(), lambda rgb: None,
                                 StreamOptions(max_fps=0, stride_frames=5, drop_frames=3, min_segment_frames=3),
                                 BufferOptions(min_confidence=0.5, end_pause_ms=200))
    try:
        events, t = [], 0.0
        for _ in range(15):
            events += session.process_landmarks(t, frame(True)).events
            session.stream.wait()
            t += 33.0
        assert session.partial().text
        gate.clear()  # the final decode (submitted after drop_frames frames without a hand) now hangs
        for _ in range(12):
            events += session.process_landmarks(t, frame(False)).events
            t += 33.0
        said = [e.text for e in events if isinstance(e, Committed)]
        assert said and session.partial().text == ""  # the pause sent the last partial reading
        gate.set()
        session.stream.wait()
        events += session.poll()
        assert session.partial().text == "" and [e.text for e in events if isinstance(e, Committed)] == said
    finally:
        gate.set()
        session.close()
