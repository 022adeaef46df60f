"""Fast tests of the app's parts with fakes: the live session worker, the camera socket, chat turns,
status text, the Blocks.

No camera, browser, model or LLM: a fake extractor says whether a hand is in the frame, a fake
recognizer returns fixed hypotheses, a fake assistant yields the chain's real event types.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest

from asl_gpt.app.chat import answer_turn, sources_messages, user_message
from asl_gpt.app.live import FrameReply, LiveOptions, LiveSession, LiveState
from asl_gpt.app.status import caption_html, camera_line, full_status, hands_line, IndexStatus, LLMInfo
from asl_gpt.app.pending import Turn
from asl_gpt.recognition.buffer import BufferOptions
from asl_gpt.errors import InputError
from asl_gpt.recognition.streaming import StreamOptions
from fakes import (FakeAssistant, FakeClock, FakeExtractor, FakeRecognizer, FakeServices, feed, frame, landmarks,
                   outgoing, wait)


def _session(rec=None, **buffer) -> tuple[LiveSession, FakeClock]:
    clock = FakeClock()
    opts = BufferOptions(min_confidence=0.5, end_pause_ms=100, still_pause_ms=10_000, **buffer)
    return LiveSession(rec, FakeExtractor, StreamOptions(stride_frames=2, drop_frames=2, min_segment_frames=2),
                       opts, LiveOptions(idle_stop_s=5.0), model_error="" if rec else "model file not found: x",
                       clock=clock), clock


def test_live_session_recognises_and_auto_sends(fake_recognizer):
    live, clock = _session(fake_recognizer)
    try:
        feed(live, clock, [True] * 8 + [False] * 12)
        committed = outgoing(live, clock)
        assert committed == [Turn("hello", "signed", "hello", 0.9, False)]
        s = live.state()
        assert s.frames_processed == s.frames_received and s.frames_with_hands == 8
        assert s.model == "fake" and not s.model_error and s.said == ("hello",)
        assert s.phase == "sent" and s.box == "" and s.sent == "hello"
    finally:
        live.close()


def test_low_confidence_is_shown_not_sent_and_can_be_restored():
    live, clock = _session(FakeRecognizer("helo", 0.2))
    try:
        feed(live, clock, [True] * 8 + [False] * 6)
        wait(lambda: live.state().last_rejected != "")  # the segment's final reading (decoded on another thread)
        feed(live, clock, [False] * 4, gap_s=0.05)
        assert live.take_outgoing() == []
        s = live.state()
        assert "helo" in s.last_rejected and "below the threshold" in s.last_rejected
        assert live.restore_rejected() == "helo"
        s = live.state()
        assert (s.box, s.text, s.low_confidence, s.phase) == ("helo", "helo", True, "recognised")
        assert live.send("helo") == Turn("helo", "signed", "helo", 0.2, True)
        assert live.restore_rejected() is None
        live.push_hypothesis("leba", 0.1, final=True)  # rejected
        live.push_hypothesis("t", 0.9, final=True)  # accepted after it: not joined on restore
        assert live.state().box == "t" and "leba" in live.state().last_rejected
        assert live.restore_rejected() == "leba" and live.state().box == "leba"
        live.push_hypothesis("where is it", 0.8, final=True)
        assert live.delete_last_word(live.state().box) == "leba where is"  # recognised text stays recognised
        assert live.state().phase == "recognised" and live.state().confidence == pytest.approx(0.1)
    finally:
        live.close()


def test_pending_box_edit_delete_clear_send_without_a_model():
    live, clock = _session(None, auto_send=False)
    try:
        live.edit("what is  asl   now")
        assert live.state().phase == "editing"
        assert live.delete_last_word("what is  asl   now") == "what is asl"
        got = live.send("what is asl")
        assert got == Turn("what is asl", "typed") and got.confidence is None
        assert live.state().box == "" and live.state().phase == "sent"
        assert live.send("") .startswith("nothing to send")
        live.edit("x")
        live.clear()
        assert live.state().box == "" and live.state().phase == "listening"
        feed(live, clock, [True, False])  # no model: frames are still drawn and counted
        s = live.state()
        assert s.frames_processed == 2 and s.model_error
    finally:
        live.close()


def test_recognition_never_overwrites_or_sends_an_edit_in_progress():
    live, clock = _session(FakeRecognizer("wherecan", 0.9))
    try:
        feed(live, clock, [True] * 8)
        wait(lambda: live.state().box == "wherecan")
        rev = live.state().box_rev
        live.focus("wherecan")  # the user clicked into the box: auto-send holds off from now on
        live.edit("wherecan i")
        live.edit("where can i")
        feed(live, clock, [False] * 12, gap_s=0.03)  # hands down for longer than the pause: no auto-send
        clock.advance(0.2)
        feed(live, clock, [False] * 3, gap_s=0.05)
        s = live.state()
        assert live.take_outgoing() == [] and s.phase == "editing" and s.box_rev == rev
        assert s.box == "where can i" and s.text == "wherecan"  # the caption still shows recognition
        live.blur("where can i")
        assert live.state().phase == "editing"  # a changed box stays the user's
        assert live.send("where can i") == Turn("where can i", "edited", "wherecan", 0.9, False)
        assert live.state().text == ""  # what was recognised while the user typed was not sent
        feed(live, clock, [True] * 8 + [False] * 12)  # signing again after the send: auto-send is back
        got = outgoing(live, clock)
        assert got == [Turn("wherecan", "signed", "wherecan", 0.9, False)]
    finally:
        live.close()


def test_stop_then_start_camera_keeps_the_pending_text_unsent_until_the_user_acts(fake_recognizer):
    live, clock = _session(fake_recognizer)
    try:
        feed(live, clock, [True] * 8)  # spelling, hand still up: "hello" pending, not sent
        wait(lambda: live.state().box == "hello")
        live.camera_event(on=False)
        s = live.state()
        assert (s.phase, s.box, s.sends_in_s) == ("kept", "hello", None) and "before the camera stopped" in caption_html(s)
        live.camera_event(on=True)
        feed(live, clock, [True] * 8 + [False] * 12)  # a new word, then hands down well past the pause
        clock.advance(0.3)
        feed(live, clock, [False] * 3, gap_s=0.05)
        s = live.state()
        assert live.take_outgoing() == [] and (s.phase, s.box) == ("kept", "hello")  # never sent by itself
        assert s.text == "hello"  # the new word: in the caption, not joined to the kept text
        assert live.send("hello") == Turn("hello", "signed", "hello", 0.9, False)  # the kept reading, as read
        got = outgoing(live, clock)  # the new word is its own utterance, sent by the pause
        assert got == [Turn("hello", "signed", "hello", 0.9, False)]
    finally:
        live.close()


def test_hands_state_is_held_briefly_and_unknown_when_the_camera_stops():
    clock = FakeClock(100.0)
    live = LiveSession(None, FakeExtractor, StreamOptions(), BufferOptions(),
                       LiveOptions(hands_hold_s=0.5, stale_s=1.0), clock=clock)
    try:
        feed(live, clock, [True], gap_s=0)
        assert live.state().hands_visible and live.state().streaming
        clock.advance(0.2)
        feed(live, clock, [False], gap_s=0)
        assert live.state().hands_visible  # one frame without hands does not flip the story
        clock.advance(0.5)
        feed(live, clock, [False], gap_s=0)
        assert not live.state().hands_visible and "not in view" in hands_line(live.state())
        feed(live, clock, [True], gap_s=0)
        live.camera_event(on=False)
        s = live.state()
        assert not s.streaming and not s.hands_visible and hands_line(s).startswith("Hands: —")
    finally:
        live.close()


def test_lowering_the_hands_after_signing_says_what_happens_to_the_question():
    from asl_gpt.app.status import live_status

    down = dict(streaming=True, hands_visible=False, camera_on=True, last_frame_age_s=0.1, frames_received=9)
    assert "not in view" in hands_line(LiveState(**down))  # nothing signed: at rest
    pending = dict(down, text="what is asl", confidence=0.9, phase="recognised")
    assert hands_line(LiveState(**pending, sends_in_s=0.2)) == "Hands: lowered: sending your question…"
    assert hands_line(LiveState(**pending, sends_in_s=1.4)) == "Hands: lowered: sending your question in 1 s…"
    # Nothing will send it (the buffer says so): never "sending", and a next word's joining is said.
    assert "not sent yet" in hands_line(LiveState(**pending)) and "added to it" in hands_line(LiveState(**pending))
    assert "added to the pending question" in hands_line(LiveState(**dict(pending, hands_visible=True)))
    assert "before the camera stopped" in hands_line(LiveState(**dict(down, phase="kept", box="what is")))
    assert "press **Send**" in hands_line(LiveState(**pending, auto_send=False))
    assert "below the threshold" in hands_line(LiveState(**dict(pending, low_confidence=True)))
    assert "was sent" in hands_line(LiveState(**dict(down, phase="sent", sent="what is asl")))
    # The camera is said by the camera panel; the line under it only adds that frames stopped arriving.
    assert "Camera:" not in live_status(LiveState(**pending))
    assert "Camera: stopped" in live_status(LiveState(**dict(down, last_frame_age_s=5.0)))
    off = LiveState(text="what is asl", confidence=0.9, phase="recognised", frames_received=9)
    assert "camera off: Send asks this" in caption_html(off)
    assert "(camera off)" in caption_html(LiveState(frames_received=9))
    assert "(nothing signed yet)" in caption_html(LiveState())


def _slow(delay_s: float):
    class SlowExtractor(FakeExtractor):
        def __call__(self, rgb):
            time.sleep(delay_s)
            return super().__call__(rgb)

    return SlowExtractor


def test_stale_frames_are_dropped_not_queued_and_each_gets_one_reply():
    live = LiveSession(None, _slow(0.05), StreamOptions(), BufferOptions(), LiveOptions())
    replies: list[FrameReply] = []
    try:
        for _ in range(20):
            live.submit(frame(True), replies.append)  # far faster than the extractor
            time.sleep(0.005)
        wait(lambda: len(replies) == 20)
        s = live.state()
        assert s.frames_received == 20 and 1 <= s.frames_processed < 10
        done = [r for r in replies if not r.dropped]
        assert len(done) == s.frames_processed and all(r.landmarks is not None and r.landmarks.shape == (543, 3)
                                                      for r in done)
        assert all(r.landmarks is None for r in replies if r.dropped)
        assert not replies[-1].dropped and replies[-1].state.hands_visible  # the newest frame is never dropped
    finally:
        live.close()


def test_the_users_actions_never_wait_for_holistic():
    """While Holistic is busy on a frame (here: blocked until released), every action on the pending box
    and the state the UI polls go through: Holistic runs outside the session's lock."""
    import threading

    busy, release = threading.Event(), threading.Event()

    class Blocked(FakeExtractor):
        def __call__(self, rgb):
            busy.set()
            release.wait(10)
            return super().__call__(rgb)

    live = LiveSession(FakeRecognizer(), Blocked, StreamOptions(), BufferOptions(auto_send=False), LiveOptions())
    replies: list[FrameReply] = []
    try:
        live.submit(frame(True), replies.append)
        assert busy.wait(5)
        done = []

        def act():
            live.state()
            live.focus("")
            live.edit("what is asl")
            done.append(live.send("what is asl"))
            live.clear()
            done.append(live.state().phase)

        t = threading.Thread(target=act, daemon=True)
        t.start()
        t.join(5)
        assert done == [Turn("what is asl", "typed"), "listening"], "an action waited for Holistic"
        assert replies == [] and live.state().frames_processed == 0  # the frame is still in Holistic
        release.set()
        wait(lambda: len(replies) == 1)
        assert not replies[0].dropped and live.state().frames_processed == 1 and live.state().frames_with_hands == 1
    finally:
        release.set()
        live.close()


def test_jpeg_frames_are_decoded_by_the_worker_and_bad_bytes_answered_with_an_error():
    import cv2

    seen = []

    class Spy(FakeExtractor):
        def __call__(self, rgb):
            seen.append(rgb.copy())
            return super().__call__(rgb)

    live = LiveSession(None, Spy, StreamOptions(), BufferOptions(), LiveOptions(max_side=32))
    replies: list[FrameReply] = []
    try:
        img = np.zeros((48, 64, 3), np.uint8)
        img[:, :8] = (250, 10, 10)  # a red band on the left: the frame is neither mirrored nor channel-swapped
        ok, jpeg = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        live.submit(jpeg.tobytes(), replies.append)
        wait(lambda: len(replies) == 1)
        assert seen[0].shape == (24, 32, 3)  # shrunk to max_side
        assert seen[0][12, 1, 0] > 200 and seen[0][12, 1, 2] < 50 and seen[0][12, -1].max() < 30
        live.submit(b"not an image", replies.append)
        wait(lambda: len(replies) == 2)
        assert "unreadable camera frame" in replies[1].error and replies[1].landmarks is None
        assert "unreadable" in live.state().error and live.state().frames_processed == 1
    finally:
        live.close()


def test_camera_socket_answers_frames_for_its_own_session_only():
    pytest.importorskip("gradio")
    import cv2
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from asl_gpt.app.camera import PATH, websocket_route
    from asl_gpt.app.registry import LiveRegistry

    registry = LiveRegistry(FakeServices(None))
    app = FastAPI(routes=[websocket_route(registry)])
    token = registry.token("tab-1")
    assert registry.token("tab-1") == token and registry.token("tab-2") != token
    img = frame(True)
    img[0, :4] = 255  # bright enough to survive JPEG: FakeExtractor sees a hand
    jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    try:
        with TestClient(app) as client:
            with client.websocket_connect(f"{PATH}?key={token}") as ws:
                assert registry.get("tab-1").state().camera_on
                ws.send_bytes(jpeg)
                msg = ws.receive_json()
                assert not msg["dropped"] and msg["hands"] and len(msg["right_hand"]) == 21
                assert msg["left_hand"] is None and {"text", "confidence", "threshold", "fps", "said"} <= set(msg)
                ws.send_bytes(b"\xff\xd8 broken")
                assert "unreadable camera frame" in ws.receive_json()["error"]
            wait(lambda: not registry.get("tab-1").state().camera_on)
            assert registry.get("tab-2").state().frames_received == 0  # another tab's session saw nothing
            with client.websocket_connect(f"{PATH}?key={registry.token('tab-2')}") as ws:
                ws.send_text('{"camera_error": "permission denied"}')
            wait(lambda: registry.get("tab-2").state().camera_error == "permission denied")
            assert "permission denied" in camera_line(registry.get("tab-2").state())
            token1 = registry.token("tab-1")
            with client.websocket_connect(f"{PATH}?key={token1}") as ws:
                live1 = registry.get("tab-1")
                registry.drop("tab-1")  # the tab was unloaded while its camera socket stayed open
                ws.send_bytes(jpeg)
                replies = []
                with pytest.raises(WebSocketDisconnect) as e:
                    while True:
                        replies.append(ws.receive_json())
                assert e.value.code == 4410 and all(r["dropped"] for r in replies) and live1.closed
            with client.websocket_connect(f"{PATH}?key=guessed") as ws:
                with pytest.raises(WebSocketDisconnect) as e:
                    ws.receive_json()
                assert e.value.code == 4404
    finally:
        registry.close()


# -- chat -------------------------------------------------------------------------------------------
def test_typed_turn_streams_and_ends_with_sources():
    steps = list(answer_turn(FakeAssistant(), Turn("What is ASL?", "typed"), [], []))
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
    history = [{"role": "user", "content": "what is asl"}, {"role": "assistant", "content": "a language"}]
    chat, turns, _ = list(answer_turn(backend, Turn("whst is it", "signed", recognised="whst is it", confidence=0.7),
                                      [], history))[-1]
    assert backend.calls[0] == ("whst is it", history, "whst is it")  # a follow-up ("it") gets the history
    head = chat[0]["content"]
    assert head.startswith("**Signed**") and "`whst is it`" in head and "`what is asl`" in head and "0.70" in head
    assert turns[-2] == {"role": "user", "content": "what is asl"}


def test_llm_down_and_bad_input_are_messages_and_keep_the_question():
    chat, _, status = list(answer_turn(FakeAssistant(fail="cannot reach the LLM at x"), Turn("q", "typed"), [], []))[-1]
    assert chat[0]["content"].endswith("q")
    assert "did not answer: cannot reach the LLM" in chat[1]["content"] and chat[2]["metadata"]["title"] == "Sources (1)"
    assert status.startswith("LLM error")
    chat, _, status = list(answer_turn(FakeAssistant(), Turn("  ", "typed"), [], []))[-1]
    assert chat[0]["role"] == "user" and "the question is empty" in chat[1]["content"] and "empty" in status


def test_messages_and_status_text():
    assert user_message(Turn("hi", "typed"))["content"] == "**Typed**\n\nhi"
    edited = user_message(Turn("where can I learn", "edited", recognised="wherecan I", confidence=0.81))["content"]
    assert edited.startswith("**Signed and edited** · recognised: `wherecan I` · confidence 0.81")
    assert edited.endswith("where can I learn")
    low = user_message(Turn("leba", "signed", recognised="leba", confidence=0.31, low_confidence=True))["content"]
    assert "confidence 0.31 (below the threshold, restored)" in low and "1.00" not in low
    assert sources_messages(()) == []
    s = LiveState()
    assert "Start camera" in camera_line(s) and hands_line(s) == "Hands: —"
    assert "waiting for the first frame" in camera_line(LiveState(camera_on=True))
    assert "off (last frame 5 s ago)" in camera_line(LiveState(last_frame_age_s=5.0))
    s = LiveState(text="helo", confidence=0.2, low_confidence=True, threshold=0.5, hands_visible=True,
                  frames_received=10, frames_processed=8, received_fps=15.0, processed_fps=12.5,
                  last_frame_age_s=0.1, model_error="model file not found: m", camera_on=True, streaming=True)
    assert "15.0 frames/s reach the server" in camera_line(s) and "12.5" in camera_line(s)
    assert "detected" in hands_line(s)
    text = full_status(s, IndexStatus(False, message="the index is empty"), LLMInfo(False, "http://x", "down"))
    assert "model file not found" in text and "index is empty" in text and "down" in text
    html_ = caption_html(s)
    assert "caption low" in html_ and "will not be sent automatically" in html_ and "helo" in html_
    assert "&lt;b&gt;" in caption_html(LiveState(text="<b>"))
    editing = caption_html(LiveState(text="xyz", confidence=0.9, phase="editing"))
    assert "xyz" in editing and "auto-send is paused" in editing and "not added to your text" in editing
    assert "Sent:" in caption_html(LiveState(phase="sent", sent="what is asl"))
    assert "Hands: —" in hands_line(LiveState(frames_processed=5, hands_visible=False))


def test_messages_speak_of_the_knowledge_tab_and_never_show_server_paths():
    from asl_gpt.app.wording import WEB_FIXES, web_text
    from asl_gpt.errors import Fix, IndexStoreError, InputError, advised

    # The error names its fix; the CLI (str) and the page each word it.
    assert advised("I could not find anything.", Fix.ADD_DOCUMENTS, WEB_FIXES) == \
        "I could not find anything. Try other words, or add documents in the **Knowledge** tab."
    corrupt = IndexStoreError("the index is corrupt", Fix.REBUILD_INDEX)
    assert "`asl-gpt index --rebuild`" in str(corrupt) and "`" not in web_text(corrupt)
    up = "/tmp/gradio/0a1b2c/my clip.mp4"
    assert web_text(f"cannot read video {up}: OpenCV does not recognise its format", (up,)) == \
        "cannot read video my clip.mp4: OpenCV does not recognise its format"
    assert web_text("model file not found: /srv/app/models/default.tflite") == "model file not found: default.tflite"
    assert "http://127.0.0.1:8080/v1" in web_text("cannot reach the LLM at http://127.0.0.1:8080/v1")
    too_long = InputError("the limit is 2000", setting="rag.max_question_chars")
    assert str(too_long) == "the limit is 2000 (rag.max_question_chars)" and web_text(too_long) == "the limit is 2000"
    chat, _, _ = list(answer_turn(NotFoundAssistant(), Turn("q", "typed"), [], []))[-1]
    assert "Knowledge** tab" in chat[-1]["content"] and "asl-gpt" not in chat[-1]["content"]


class NotFoundAssistant:
    def ask_stream(self, question, history=None, raw=None):
        from asl_gpt.errors import Fix
        from asl_gpt.rag.chain import Answer, Retrieved

        yield Retrieved(question, (), None)
        yield Answer(question, "I could not find anything.", (), "not_found", fix=Fix.ADD_DOCUMENTS)


# -- the Blocks ------------------------------------------------------------------------------------
def test_build_demo_with_fake_services(tmp_path):
    pytest.importorskip("gradio")
    from asl_gpt.app import build_demo

    app = build_demo(FakeServices(tmp_path), initial_index=False)
    ids = {getattr(b, "elem_id", None) for b in app.demo.blocks.values()}
    for needed in ("camera", "live-key", "caption", "pending", "send-btn", "delete-word-btn", "clear-btn",
                   "auto-send", "chat", "question", "ask-btn", "documents", "kb-files", "upload-btn", "reindex-btn",
                   "status", "threshold", "end-pause", "high-contrast", "video-file", "live-status"):
        assert needed in ids, needed
    assert not hasattr(app.demo, "registry")  # shared objects live beside the Blocks, not on them
    live = app.registry.get("session-a")
    assert live is not app.registry.get("session-b")  # per-browser state
    app.registry.drop("session-a")
    assert len(app.registry) == 1 and app.registry.sessions() == [app.registry.get("session-b")]
    app.close()
    assert len(app.registry) == 0


def test_an_unreadable_video_is_a_one_line_error(tmp_path):
    from asl_gpt.app.video import recognize_upload

    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video")
    with pytest.raises(InputError, match="cannot read video"):
        recognize_upload(FakeServices(tmp_path), str(bad), 0.5)  # uploads of documents: tests/test_security.py


def test_knowledge_tab_reports_index_failures(tmp_path):
    from asl_gpt.app import knowledge as kn
    from asl_gpt.app.status import StatusProbe
    from asl_gpt.errors import IndexStoreError

    services = FakeServices(tmp_path)

    def broken_index(*a, **k):
        raise IndexStoreError("the index is locked by another process")

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
            return landmarks(True)

    services = FakeServices(tmp_path)
    services.new_extractor = AlwaysHands
    msg, offered = recognize_upload(services, str(signing_videos["SOUP"]), 0.5)
    assert offered == [("hello", pytest.approx(0.9))] and "41 frames" in msg
    services.assistant_ = None
    msg, offered = recognize_upload(services, str(signing_videos["SOUP"]), 0.95)  # above the fake's 0.9
    assert offered == [] and "Nothing reached the confidence threshold 0.95" in msg and "`hello`" in msg
    # read with the session's recognizer (a calibrated view of the model), not the shared one
    msg, offered = recognize_upload(services, str(signing_videos["SOUP"]), 0.5, recognizer=FakeRecognizer("mine"))
    assert offered == [("mine", pytest.approx(0.9))]


def test_a_missing_model_is_retried_later(monkeypatch):
    from asl_gpt.errors import ModelError
    from asl_gpt.app.services import _Lazy

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


def _resting_session(rec, rest_fps: float) -> tuple[LiveSession, FakeClock]:
    clock = FakeClock()
    return LiveSession(rec, FakeExtractor, StreamOptions(max_fps=0, stride_frames=2, drop_frames=2, min_segment_frames=2),
                       BufferOptions(min_confidence=0.5, end_pause_ms=60_000, still_pause_ms=60_000),
                       LiveOptions(idle_stop_s=5.0, rest_after_s=0.5, rest_fps=rest_fps, catch_up_fps=1000.0),
                       clock=clock), clock


def test_with_no_hand_raised_recognition_rests_and_a_rise_loses_no_frame():
    """Resting, a few frames a second are read and the others kept; the read that finds a raised hand reads the
    kept ones first, so the first letter (here: every hand frame counts) reads as without resting."""
    from fakes import LetterRecognizer, answer

    texts = []
    for rest_fps in (0.0, 4.0):  # 0: never rests (the reference reading)
        live, clock = _resting_session(LetterRecognizer(), rest_fps)
        try:
            feed(live, clock, [False] * 20, gap_s=0.05)  # 1 s with no hand raised
            s = live.state()
            assert s.resting == (rest_fps > 0) and s.frames_received == 20
            assert s.frames_processed == 20 if not rest_fps else s.frames_processed < 16
            replies = []
            for h in [True] * 12:  # the rise: kept until the next read (every 0.25 s) finds the hand
                replies.append(answer(live, frame(h)))
                clock.advance(0.05)
            feed(live, clock, [True] * 8, gap_s=0.05)
            s = live.state()
            assert not s.resting and s.frames_with_hands == 20  # every frame of the rise was read
            if rest_fps:
                assert replies[0].resting and replies[0].landmarks is None and not replies[-1].resting
            # Readings come back on the worker thread (state() collects them): a busy CI machine sent "ab" while
            # the third letter was still being decoded.
            live.send(wait(lambda: len(live.state().box) >= 3 and live.state().box))
            wait(lambda: live.state().said)
            texts.append(live.state().said[-1])
        finally:
            live.close()
    # one letter per 5 hand frames: the rise's letters all read (whether the last window's fourth letter is in by the
    # send depends on when the worker took it, with and without resting alike)
    assert texts[0][:3] == texts[1][:3] == "abc", texts
