"""Fast tests of the app's parts with fakes: the live session worker, chat turns, status text, the Blocks.

No camera, browser, model or LLM: a fake extractor says whether a hand is in the frame, a fake
recognizer returns fixed hypotheses, a fake assistant yields the chain's real event types.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from asl_gpt.app.chat import Question, answer_turn, sources_messages, user_message
from asl_gpt.app.live import LiveOptions, LiveSession, LiveState
from asl_gpt.app.status import caption_html, camera_line, full_status, hands_line, IndexStatus, LLMInfo
from asl_gpt.buffer import BufferOptions, Committed
from asl_gpt.errors import InputError
from asl_gpt.landmarks import layout
from asl_gpt.recognizer import Hypothesis
from asl_gpt.streaming import StreamOptions


def _landmarks(hand: bool) -> np.ndarray:
    lm = layout.empty_frames(1)[0]
    if hand:
        start = layout.OFFSETS["right_hand"]
        lm[start:start + 21] = np.random.default_rng(0).uniform(0.3, 0.7, (21, 3)).astype(np.float32)
    return lm


class FakeExtractor:
    """A frame whose top-left pixel is bright has a hand in it."""

    def __call__(self, rgb):
        return _landmarks(bool(rgb[0, 0, 0] > 127))

    def close(self):
        pass


@dataclass
class FakeRecognizer:
    text: str = "hello"
    confidence: float = 0.9

    def __post_init__(self):
        self.contract = SimpleNamespace(min_confidence=0.5, name="fake")

    def recognize(self, frames, t_start=0.0, t_end=0.0):
        return Hypothesis(self.text, self.confidence, t_start, t_end)


def _frame(hand: bool) -> np.ndarray:
    img = np.zeros((48, 64, 3), np.uint8)
    if hand:
        img[0, 0] = 255
    return img


def _session(rec=None, **buffer) -> LiveSession:
    opts = BufferOptions(min_confidence=0.5, end_pause_ms=100, still_pause_ms=10_000, **buffer)
    return LiveSession(rec, FakeExtractor, StreamOptions(stride_frames=2, drop_frames=2, min_segment_frames=2),
                       opts, LiveOptions(mirrored_input=False, idle_stop_s=5.0), model_error="" if rec else "model file not found: x")


def _feed(live: LiveSession, hands: list[bool], gap_s: float = 0.02) -> None:
    for h in hands:
        live.submit(_frame(h))
        deadline = time.monotonic() + 5
        n = live.state().frames_received
        while live.state().frames_processed < n and time.monotonic() < deadline:
            time.sleep(0.005)  # one at a time, so none is dropped as stale
        time.sleep(gap_s)


def test_live_session_recognises_and_auto_sends():
    live = _session(FakeRecognizer())
    try:
        _feed(live, [True] * 8 + [False] * 12, gap_s=0.02)
        deadline = time.monotonic() + 5
        committed = []
        while not committed and time.monotonic() < deadline:
            _feed(live, [False], gap_s=0.05)
            committed += live.take_committed()
        assert [c.text for c in committed] == ["hello"]
        s = live.state()
        assert s.frames_processed == s.frames_received and s.frames_with_hands == 8
        assert s.model == "fake" and not s.model_error
        img = live.annotated
        assert img is not None and img.shape == (48, 64, 3)
    finally:
        live.close()


def test_low_confidence_is_shown_not_sent_and_can_be_restored():
    live = _session(FakeRecognizer("helo", 0.2))
    try:
        _feed(live, [True] * 8 + [False] * 6)
        time.sleep(0.2)
        _feed(live, [False] * 4, gap_s=0.05)
        assert live.take_committed() == []
        s = live.state()
        assert "helo" in s.last_rejected and "below the threshold" in s.last_rejected
        live.restore_rejected()
        got = live.send()
        assert isinstance(got, Committed) and got.text == "helo"
    finally:
        live.close()


def test_buffer_edit_delete_clear_send_without_a_model():
    live = _session(None, auto_send=False)
    try:
        live.edit("what is  asl   now")
        assert live.state().text == "what is asl now"
        live.delete_last_word()
        assert live.state().text == "what is asl"
        got = live.send()
        assert isinstance(got, Committed) and got.text == "what is asl" and got.confidence == 1.0
        assert live.state().text == ""
        assert live.send() == "nothing to send"
        live.edit("x")
        live.clear()
        assert live.state().text == ""
        _feed(live, [True, False])  # no model: frames are still drawn and counted
        s = live.state()
        assert s.frames_processed == 2 and s.model_error
    finally:
        live.close()


def test_stale_frames_are_dropped_not_queued():
    class SlowExtractor(FakeExtractor):
        def __call__(self, rgb):
            time.sleep(0.05)
            return super().__call__(rgb)

    live = LiveSession(None, SlowExtractor, StreamOptions(), BufferOptions(), LiveOptions(backpressure_s=0))
    try:
        for _ in range(20):
            live.submit(_frame(False))  # far faster than the extractor
            time.sleep(0.005)
        time.sleep(0.3)
        s = live.state()
        assert s.frames_received == 20 and 1 <= s.frames_processed < 10
    finally:
        live.close()


def test_backpressure_paces_the_sender_to_the_worker():
    class SlowExtractor(FakeExtractor):
        def __call__(self, rgb):
            time.sleep(0.04)
            return super().__call__(rgb)

    live = LiveSession(None, SlowExtractor, StreamOptions(), BufferOptions(), LiveOptions(backpressure_s=1.0))
    try:
        t0 = time.monotonic()
        for _ in range(10):
            live.submit(_frame(False))  # returns once the worker has taken the frame
        assert time.monotonic() - t0 >= 8 * 0.04
        time.sleep(0.2)
        assert live.state().frames_processed >= 9  # at most the one in flight when the next came was replaced
    finally:
        live.close()


def test_mirrored_input_is_unflipped_for_recognition():
    seen = []

    class Spy(FakeExtractor):
        def __call__(self, rgb):
            seen.append(rgb.copy())
            return super().__call__(rgb)

    live = LiveSession(None, Spy, StreamOptions(), BufferOptions(), LiveOptions(mirrored_input=True))
    try:
        img = np.zeros((48, 64, 3), np.uint8)
        img[:, -1] = 200  # right edge as mirrored by the browser = left edge of the real frame
        live.submit(img)
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen and seen[0][0, 0, 0] == 200 and seen[0][0, -1, 0] == 0
    finally:
        live.close()


# -- chat -------------------------------------------------------------------------------------------
class FakeAssistant:
    def __init__(self, fail: str = ""):
        self.calls = []
        self.fail = fail

    def validate(self, q):
        if not q.strip():
            raise InputError("the question is empty")
        return q.strip()

    def ask_stream(self, question, history=None, raw=None):
        from asl_gpt.rag.chain import Answer, Retrieved, Source, Token
        from asl_gpt.rag.correction import Correction

        self.calls.append((question, list(history or []), raw))
        corr = Correction(raw, "what is asl", (("whst", "what"),)) if raw else None
        asked = corr.corrected if corr and question == raw else self.validate(question)
        src = (Source(1, "knowledge/asl.md", "ASL", "Overview", "ASL is a language.", 0.8),)
        yield Retrieved(asked, src, corr)
        if self.fail:
            yield Answer(asked, "", src, "llm_error", error=self.fail, correction=corr)
            return
        for piece in ("ASL is ", "a language [1]."):
            yield Token(piece)
        yield Answer(asked, "ASL is a language [1].", (Source(**{**src[0].__dict__, "cited": True}),),
                     correction=corr, timings={"total_s": 0.1})


def test_typed_turn_streams_and_ends_with_sources():
    steps = list(answer_turn(FakeAssistant(), Question("What is ASL?", "typed"), [], []))
    partial = [c[-1]["content"] for c, _, _ in steps if c and c[-1]["role"] == "assistant" and "metadata" not in c[-1]]
    assert "ASL is " in partial and len(set(partial)) >= 2  # tokens arrived one by one
    chat, turns, status = steps[-1]
    assert chat[0]["content"].startswith("**Typed**")
    assert chat[1] == {"role": "assistant", "content": "ASL is a language [1]."}
    assert chat[2]["metadata"]["title"] == "Sources (1)"
    child = chat[3]
    assert child["metadata"]["title"] == "[1] ASL — Overview" and child["metadata"]["parent_id"] == chat[2]["metadata"]["id"]
    assert "ASL is a language." in child["content"] and "knowledge/asl.md" in child["content"]
    assert turns == [{"role": "user", "content": "What is ASL?"}, {"role": "assistant", "content": "ASL is a language [1]."}]
    assert status.startswith("answered")


def test_signed_turn_shows_raw_and_corrected_and_passes_history():
    backend = FakeAssistant()
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    chat, turns, _ = list(answer_turn(backend, Question("whst is asl", "signed", raw="whst is asl", confidence=0.7),
                                      [], history))[-1]
    assert backend.calls[0] == ("whst is asl", history, "whst is asl")
    head = chat[0]["content"]
    assert head.startswith("**Signed**") and "`whst is asl`" in head and "`what is asl`" in head and "0.70" in head
    assert turns[-2] == {"role": "user", "content": "what is asl"}


def test_llm_down_and_bad_input_are_messages_and_keep_the_question():
    chat, _, status = list(answer_turn(FakeAssistant(fail="cannot reach the LLM at x"), Question("q", "typed"), [], []))[-1]
    assert chat[0]["content"].endswith("q")
    assert "did not answer: cannot reach the LLM" in chat[1]["content"] and chat[2]["metadata"]["title"] == "Sources (1)"
    assert status.startswith("LLM error")
    chat, _, status = list(answer_turn(FakeAssistant(), Question("  ", "typed"), [], []))[-1]
    assert chat[0]["role"] == "user" and "the question is empty" in chat[1]["content"] and "empty" in status


def test_messages_and_status_text():
    assert user_message(Question("hi", "typed"))["content"] == "**Typed**\n\nhi"
    assert sources_messages(()) == []
    s = LiveState()
    assert "no frames yet" in camera_line(s) and hands_line(s) == "Hands: —"
    s = LiveState(text="helo", confidence=0.2, low_confidence=True, threshold=0.5, hands_visible=True,
                  frames_received=10, frames_processed=8, received_fps=15.0, processed_fps=12.5,
                  last_frame_age_s=0.1, model_error="model file not found: m")
    assert "15.0 frames/s reach the server" in camera_line(s) and "12.5" in camera_line(s)
    assert "detected" in hands_line(s)
    text = full_status(s, IndexStatus(False, message="the index is empty"), LLMInfo(False, "http://x", "down"))
    assert "model file not found" in text and "index is empty" in text and "down" in text
    html_ = caption_html(s)
    assert "caption low" in html_ and "will not be sent automatically" in html_ and "helo" in html_
    assert "&lt;b&gt;" in caption_html(LiveState(text="<b>"))


# -- the Blocks ------------------------------------------------------------------------------------
class FakeServices:
    def __init__(self, tmp_path):
        self.settings = SimpleNamespace(paths=SimpleNamespace(knowledge_dir=tmp_path, state_dir=tmp_path),
                                        recognizer=SimpleNamespace(stride_frames=4, min_segment_frames=2, drop_frames=3))
        self.assistant_ = FakeAssistant()

    def recognizer(self, retry=False):
        return FakeRecognizer()

    def new_extractor(self):
        return FakeExtractor()

    def assistant(self):
        return self.assistant_

    def knowledge(self):
        return SimpleNamespace(documents=lambda: [], stats=lambda: SimpleNamespace(documents=0, chunks=0))

    def uploads_dir(self):
        return self.settings.paths.state_dir

    def close(self):
        pass


def test_build_demo_with_fake_services(tmp_path):
    pytest.importorskip("gradio")
    from asl_gpt.app import build_demo

    demo = build_demo(FakeServices(tmp_path), initial_index=False)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    for needed in ("camera", "annotated", "caption", "pending", "send-btn", "delete-word-btn", "clear-btn",
                   "auto-send", "chat", "question", "ask-btn", "documents", "kb-files", "upload-btn", "reindex-btn",
                   "status", "threshold", "end-pause", "high-contrast", "video-file", "live-status"):
        assert needed in ids, needed
    live = demo.registry.get("session-a")
    assert live is not demo.registry.get("session-b")  # per-browser state
    demo.registry.drop("session-a")
    assert len(demo.registry) == 1
    demo.registry.close()


def test_unreadable_video_and_bad_uploads_are_one_line_errors(tmp_path):
    from asl_gpt.app.video import recognize_upload
    from asl_gpt.services import save_uploads

    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video")
    with pytest.raises(InputError, match="cannot read video"):
        recognize_upload(FakeServices(tmp_path), str(bad), 0.5)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(InputError, match="unsupported file type"):
        save_uploads([exe], tmp_path / "up")
    (tmp_path / "up").mkdir()
    doc = tmp_path / "../notes .md"
    doc.write_text("# Notes\n")
    assert [p.name for p in save_uploads([doc], tmp_path / "up")] == ["notes_.md"]


def test_knowledge_tab_reports_index_failures(tmp_path):
    from asl_gpt.app import knowledge as kn
    from asl_gpt.app.status import StatusProbe
    from asl_gpt.errors import IndexError_

    services = FakeServices(tmp_path)

    def broken_index(*a, **k):
        raise IndexError_("the index is locked by another process")

    services.knowledge = lambda: SimpleNamespace(index=broken_index, documents=lambda: [],
                                                 stats=lambda: SimpleNamespace(documents=0, chunks=0))
    probe = StatusProbe(services)
    assert kn.reindex(services, probe, False) == "⚠ the index is locked by another process"
    assert probe.indexing == ""
    assert "index is empty" in probe.index().message


def test_uploaded_video_is_recognised_and_offered(tmp_path, signing_videos):
    from asl_gpt.app.video import recognize_upload

    class AlwaysHands(FakeExtractor):
        def __call__(self, rgb):
            return _landmarks(True)

    services = FakeServices(tmp_path)
    services.new_extractor = AlwaysHands
    msg, offered = recognize_upload(services, str(signing_videos["SOUP"]), 0.5)
    assert offered == ["hello"] and "41 frames" in msg
    services.assistant_ = None
    msg, offered = recognize_upload(services, str(signing_videos["SOUP"]), 0.95)  # above the fake's 0.9
    assert offered == [] and "Nothing reached the confidence threshold 0.95" in msg and "`hello`" in msg


def test_a_missing_model_is_retried_later(monkeypatch):
    from asl_gpt.errors import ModelError
    from asl_gpt.services import _Lazy

    calls = []

    def build():
        calls.append(1)
        if len(calls) == 1:
            raise ModelError("model file not found: m")
        return "model"

    lazy = _Lazy(build, retry_after_s=0.05)
    with pytest.raises(ModelError):
        lazy.get()
    with pytest.raises(ModelError):
        lazy.get()  # remembered, not rebuilt on every call
    assert len(calls) == 1
    time.sleep(0.06)
    assert lazy.get() == "model" and lazy.get() == "model" and len(calls) == 2
