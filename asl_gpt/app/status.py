"""Status lines for the app: camera, hands, model, index, LLM. Pure text from state; cached probes.

Probing the index or the LLM is not free (a Chroma read, an HTTP request), so `StatusProbe` keeps
each answer for a few seconds and is shared by all sessions; the live parts are per session. The
caption, the line under the video and the overlay drawn on each frame (camera.js) all read one
`LiveState`, so they tell the same story: hands are "in view" for a short hold after the last frame
that had them, and unknown (—) when no frames are arriving (the camera was stopped).
"""

from __future__ import annotations

import html
import logging
import threading
import time
from dataclasses import dataclass

from asl_gpt.app.live import LiveState
from asl_gpt.app.services import Services
from asl_gpt.app.wording import web_text
from asl_gpt.errors import AslGptError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexStatus:
    ok: bool
    documents: int = 0
    chunks: int = 0
    message: str = ""  # why not ok, or what is happening (indexing progress)


@dataclass(frozen=True)
class LLMInfo:
    ok: bool
    endpoint: str
    message: str


class StatusProbe:
    """Index and LLM status for everyone, each cached for `ttl_s` seconds."""

    def __init__(self, services: Services, ttl_s: float = 5.0, clock=time.monotonic):
        self.services = services
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._index: tuple[float, IndexStatus] | None = None
        self._llm: tuple[float, LLMInfo] | None = None
        self.indexing: str = ""  # set while an index run is going (its progress)

    def invalidate(self) -> None:
        with self._lock:
            self._index = None

    def index(self) -> IndexStatus:
        if self.indexing:
            return IndexStatus(False, message=self.indexing)
        with self._lock:
            if self._index and self._clock() - self._index[0] < self.ttl_s:
                return self._index[1]
        try:
            st = self.services.knowledge().stats()
            s = IndexStatus(st.documents > 0, st.documents, st.chunks,
                            "" if st.documents else "the index is empty: add documents in the Knowledge tab")
        except AslGptError as e:
            s = IndexStatus(False, message=web_text(e))  # the page's words for its fix
        except Exception as e:  # noqa: BLE001 - a broken store is shown, not raised
            log.exception("index status failed")
            s = IndexStatus(False, message=f"index unavailable ({type(e).__name__}: {str(e)[:120]})")
        with self._lock:
            self._index = (self._clock(), s)
        return s

    def llm(self, start: bool = False) -> LLMInfo:
        with self._lock:
            if not start and self._llm and self._clock() - self._llm[0] < self.ttl_s * 2:
                return self._llm[1]
        try:
            st = self.services.assistant().check_llm(start=start)
            info = LLMInfo(bool(st.ok), str(st.endpoint), str(st.message))
        except AslGptError as e:
            info = LLMInfo(False, "?", str(e))
        except Exception as e:  # noqa: BLE001
            log.exception("LLM status failed")
            info = LLMInfo(False, "?", f"{type(e).__name__}: {str(e)[:120]}")
        with self._lock:
            self._llm = (self._clock(), info)
        return info


def camera_line(s: LiveState) -> str:
    if s.camera_error and not s.camera_on:
        return (f"Camera: ⚠ {s.camera_error}. Allow the camera in the browser's address bar and press "
                "**Start camera** again, or use **Upload a video**.")
    if s.last_frame_age_s is None:
        if s.camera_on:
            return "Camera: on, waiting for the first frame."
        return ("Camera: off. Press **Start camera** (Alt+V) above; the browser asks for permission the first "
                "time. No camera? Use **Upload a video**.")
    if not s.camera_on and s.last_frame_age_s > 1.0:
        return f"Camera: off (last frame {s.last_frame_age_s:.0f} s ago)."
    if s.last_frame_age_s > 3.0:
        return f"Camera: stopped (last frame {s.last_frame_age_s:.0f} s ago)."
    return (f"Camera: {s.received_fps:.1f} frames/s reach the server, "
            f"{s.processed_fps:.1f} frames/s reach recognition.")


# The pending box holds text read before the camera stopped (asl_gpt.app.pending, Phase.KEPT).
KEPT = ("The pending box keeps what you spelled before the camera stopped: Send asks it, Clear drops it. "
        "Nothing is sent by itself, and new signing waits until you do one of them.")


def hands_line(s: LiveState) -> str:
    """Whether hands are in view, and what lowering them does now: lowering the hands is how a signer sends,
    so hands out of view after signing are not a problem to report."""
    if not s.streaming:
        return "Hands: — (no frames arriving)" if s.frames_processed else "Hands: —"
    if s.hands_visible:
        if s.phase == "kept":
            return f"Hands: **detected**. {KEPT}"
        if s.text and s.phase == "recognised":  # said, so a word after a pause never joins the question silently
            return "Hands: **detected**: what you spell now is added to the pending question; lower your hands to send it."
        return "Hands: **detected**"
    if s.phase == "sent" and s.sent:
        return "Hands: lowered: your question was sent."
    if s.phase == "kept":
        return f"Hands: not in view. {KEPT}"
    if s.text and s.phase == "recognised":
        if s.low_confidence:
            return "Hands: lowered: the reading is below the threshold, so it is not sent by itself (press **Send**)."
        if not s.auto_send:
            return "Hands: lowered: press **Send** to ask it (auto-send is off)."
        if s.sends_in_s is not None:  # the buffer itself says a pause will send it: never claimed otherwise
            return "Hands: lowered: sending your question…" if s.sends_in_s < 0.5 else \
                f"Hands: lowered: sending your question in {s.sends_in_s:.0f} s…"
        return ("Hands: lowered: your question is not sent yet: press **Send** to ask it; "
                "a word you spell now is added to it.")
    return "Hands: not in view (raise a hand to spell, with your shoulders in view)"


def model_line(s: LiveState) -> str:
    if s.model_error:
        return f"Model: ⚠ {web_text(s.model_error)}. Typed questions still work; reload the page once a model is installed."
    return f"Model: {s.model or 'loaded'} (confidence threshold {s.threshold:.2f})"


def index_line(i: IndexStatus) -> str:
    if i.ok:
        return f"Index: {i.documents} documents, {i.chunks} chunks"
    return f"Index: ⚠ {web_text(i.message)}"


def llm_line(l: LLMInfo) -> str:
    return f"LLM: {'✓' if l.ok else '⚠'} {l.endpoint}: {web_text(l.message)}"


def live_status(s: LiveState) -> str:
    """The short line under the video. The camera's own state is said once, by the camera panel (camera.js):
    here only what it cannot know (frames stopped reaching the app while its camera runs)."""
    stalled = s.camera_on and s.last_frame_age_s is not None and s.last_frame_age_s > 3.0
    parts = [camera_line(s)] if stalled else []
    parts.append(hands_line(s))
    if s.model_error:
        parts.append(model_line(s))
    if s.error:
        parts.append(f"Last frame error: {web_text(s.error)}")
    return "  \n".join(parts)


def full_status(s: LiveState, index: IndexStatus, llm: LLMInfo) -> str:
    return "  \n".join([camera_line(s), hands_line(s), model_line(s), index_line(index), llm_line(llm),
                        f"Frames: {s.frames_received} received, {s.frames_processed} recognised, "
                        f"{s.frames_with_hands} with hands"])


def caption_html(s: LiveState) -> str:
    """Large caption of what is recognised, with a confidence meter; low confidence is marked as such.

    It follows the pending box's phase: while the user edits the box, what recognition reads
    meanwhile is shown here (and only here), marked as not going into their text."""
    editing, sent, kept = s.phase == "editing", s.phase == "sent" and s.sent, s.phase == "kept"
    stopped = not s.streaming and s.frames_received > 0  # the camera stopped: nothing here is live any more
    if sent and not s.text:
        body = f"<span class='caption-note'>Sent:</span> {html.escape(s.sent)}"
    elif s.text:
        body = html.escape(s.text)
    else:
        body = f"<span class='caption-empty'>({'camera off' if stopped else 'nothing signed yet'})</span>"
    pct = max(0.0, min(1.0, s.confidence)) * 100 if s.text else 0.0
    low = s.low_confidence and bool(s.text)
    if kept:
        label = KEPT + (" What you sign meanwhile is shown above." if s.text else "")
    elif editing:
        label = ("You are editing the pending box: auto-send is paused, and what is recognised meanwhile "
                 "(above) is not added to your text. Send or Clear the box to go back to signing.")
    elif low:
        label = f"confidence {s.confidence:.2f} — below the threshold {s.threshold:.2f}, will not be sent automatically"
    else:
        label = f"confidence {s.confidence:.2f}" if s.text else ""
    if stopped and s.text and not editing and not kept:
        label += " · camera off: Send asks this, Clear drops it"
    cls = "caption" + (" low" if low else "") + (" editing" if editing else "")
    return (f"<div class='{cls}' data-phase='{s.phase}' role='status' aria-live='polite'>"
            f"<div class='caption-text'>{body}</div>"
            f"<div class='meter' role='meter' aria-valuemin='0' aria-valuemax='1' aria-valuenow='{s.confidence:.2f}' "
            f"aria-label='recognition confidence'><div class='meter-fill' style='width:{pct:.0f}%'></div>"
            f"<div class='meter-threshold' style='left:{s.threshold * 100:.0f}%'></div></div>"
            f"<div class='caption-label'>{label}</div></div>")
