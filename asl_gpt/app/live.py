"""One browser's live recognition: frames in from the stream handler, annotated frames and buffer state out.

The stream handler must return at once, or Gradio's webcam sends fewer frames (the browser waits for
each reply before sending the next). So `LiveSession.submit` only drops the newest frame into a
one-slot mailbox (a frame that arrives while Holistic is busy replaces the waiting one: stale frames
are dropped, never queued) and returns the last annotated frame; a worker thread per session runs
`RecognitionSession.process` (Holistic, streaming recognition, the utterance buffer). The UI reads a
`LiveState` snapshot and drives the buffer (send, clear, delete word, edit) through this class,
under the same lock as the worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from asl_gpt.buffer import BufferOptions, Committed, Event, Rejected, UtteranceBuffer
from asl_gpt.errors import AslGptError
from asl_gpt.landmarks.video import Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveOptions:
    mirrored_input: bool = True  # the browser mirrors webcam frames (a selfie view); recognition wants them unmirrored
    max_side: int = 640  # larger frames are shrunk first (Holistic's cost grows with pixels)
    idle_stop_s: float = 60.0  # the worker stops after this long without frames (a closed tab)
    fps_window_s: float = 3.0  # frame rates are measured over this window
    # The stream handler waits (up to this long) until the worker has taken its frame: the browser
    # sends its next frame only after a reply, so this paces it to what recognition can use (no CPU
    # spent encoding, sending and decoding frames that would be dropped) while the next frame's
    # transfer still overlaps this one's Holistic. 0: return at once.
    backpressure_s: float = 0.15


@dataclass(frozen=True)
class LiveState:
    """What the UI shows, read in one piece."""

    text: str = ""  # pending utterance (raw recognised text, or the user's edit)
    confidence: float = 0.0
    low_confidence: bool = False
    threshold: float = 0.5
    hands_visible: bool = False
    frames_received: int = 0
    frames_processed: int = 0
    frames_with_hands: int = 0
    received_fps: float = 0.0  # frames reaching the server
    processed_fps: float = 0.0  # frames reaching recognition (Holistic + model + buffer)
    last_frame_age_s: float | None = None  # None: no frame ever arrived
    model: str = ""  # the model's name, or "" when it could not be loaded
    model_error: str = ""
    last_rejected: str = ""  # "text (reason)" of the last rejected segment
    error: str = ""  # the last frame error


class _Rate:
    def __init__(self, window_s: float):
        self.window_s = window_s
        self._t: deque[float] = deque()

    def tick(self, now: float) -> None:
        self._t.append(now)
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self._t and now - self._t[0] > self.window_s:
            self._t.popleft()

    def rate(self, now: float) -> float:
        self._trim(now)
        if len(self._t) < 2:
            return 0.0
        return (len(self._t) - 1) / max(1e-6, self._t[-1] - self._t[0])


class LiveSession:
    """One browser's stream. `recognizer` may be None (no model): landmarks are still drawn."""

    def __init__(self, recognizer, extractor_factory, stream_options, buffer_options: BufferOptions,
                 options: LiveOptions = LiveOptions(), model_error: str = "", clock=time.monotonic):
        self.options = options
        self._recognizer = recognizer
        self._extractor_factory = extractor_factory
        self._stream_options = stream_options
        self._buffer_options = buffer_options
        self._model_error = model_error
        self._clock = clock
        self._lock = threading.RLock()  # the session's buffer: worker and UI handlers
        self._slot_cond = threading.Condition()
        self._slot: tuple[float, np.ndarray] | None = None
        self._worker: threading.Thread | None = None
        self._closed = False
        self._session = None  # RecognitionSession, made on the worker's first frame
        # Without a model the buffer still holds what the user types in the pending box.
        self._standalone = UtteranceBuffer(buffer_options) if recognizer is None else None
        self._last_t_ms = 0.0
        self._extractor = None
        self._t0: float | None = None
        self._annotated: np.ndarray | None = None
        self._committed: list[Committed] = []
        self._rejected: Rejected | None = None
        self._hands = False
        self._received = self._processed = self._with_hands = 0
        self._rx = _Rate(options.fps_window_s)
        self._px = _Rate(options.fps_window_s)
        self._last_rx: float | None = None
        self._error = ""
        self._said: deque[str] = deque(maxlen=3)

    # -- frames ------------------------------------------------------------------------------------
    def submit(self, rgb: np.ndarray | None) -> np.ndarray | None:
        """Hand the newest frame to the worker; return the latest annotated frame (None before the first)."""
        if rgb is None or self._closed:
            return self._annotated
        now = self._clock()
        with self._slot_cond:
            self._received += 1
            self._rx.tick(now)
            self._last_rx = now
            if self._t0 is None:
                self._t0 = now
            item = self._slot = (now, rgb)  # replaces a frame the worker has not taken: it is stale now
            self._slot_cond.notify_all()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="live-session", daemon=True)
                self._worker.start()
            if self.options.backpressure_s > 0:
                self._slot_cond.wait_for(lambda: self._slot is not item or self._closed,
                                         timeout=self.options.backpressure_s)
        return self._annotated

    def _take(self) -> tuple[float, np.ndarray] | None:
        with self._slot_cond:
            deadline = self._clock() + self.options.idle_stop_s
            while self._slot is None and not self._closed:
                left = deadline - self._clock()
                if left <= 0:
                    return None
                self._slot_cond.wait(min(left, 1.0))
            item, self._slot = self._slot, None
            self._slot_cond.notify_all()  # a stream handler waiting for its frame to be taken
            return item

    def _run(self) -> None:
        while not self._closed:
            item = self._take()
            if item is None:
                break
            now, rgb = item
            try:
                self._process(now, rgb)
            except Exception as e:  # noqa: BLE001 - one bad frame must not end the stream
                log.exception("live frame failed")
                self._error = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        log.debug("live worker stopped")

    def _ensure_runtime(self):
        if self._extractor is None:
            self._extractor = self._extractor_factory()
        if self._session is None and self._recognizer is not None:
            from asl_gpt.pipeline import RecognitionSession

            self._session = RecognitionSession(self._recognizer, self._extractor, self._stream_options,
                                               self._buffer_options)

    def _process(self, now: float, rgb: np.ndarray) -> None:
        import cv2

        from asl_gpt import features
        from asl_gpt.overlay import draw_landmarks, draw_status

        if self.options.mirrored_input:
            rgb = cv2.flip(rgb, 1)
        if self.options.max_side and max(rgb.shape[:2]) > self.options.max_side:
            s = self.options.max_side / max(rgb.shape[:2])
            rgb = cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
        rgb = np.ascontiguousarray(rgb)
        t_ms = (now - (self._t0 or now)) * 1000.0
        self._last_t_ms = t_ms
        with self._lock:
            self._ensure_runtime()
            if self._session is not None:
                r = self._session.process(Frame(t_ms, rgb))
                events = r.events + self._session.poll()
                lm, hands, err = r.landmarks, r.hands_visible, r.error
            else:  # no model: still show what Holistic sees, so the camera path can be checked
                lm = self._extractor(rgb)
                hands, events, err = bool(features.hands_present(lm[None])[0]), [], None
            self._absorb(events)
            self._hands = hands
            self._processed += 1
            self._with_hands += hands
            self._px.tick(self._clock())
            if err:
                self._error = err
            state = self._state_locked()
        out = draw_landmarks(rgb.copy(), lm)
        if self.options.mirrored_input:  # show it as the user sees themselves; text drawn after the flip
            out = cv2.flip(out, 1)
        draw_status(out, state.text, state.confidence, state.threshold, hands, list(self._said))
        self._annotated = out

    def _absorb(self, events: list[Event]) -> None:
        for e in events:
            if isinstance(e, Committed):
                self._committed.append(e)
                self._said.append(e.text)
            elif isinstance(e, Rejected) and e.text:
                self._rejected = e

    # -- what the UI reads -------------------------------------------------------------------------
    def state(self) -> LiveState:
        with self._lock:
            if self._session is not None:
                self._absorb(self._session.poll())  # decodes that finished after the last frame
            return self._state_locked()

    def _state_locked(self) -> LiveState:
        now = self._clock()
        buf = self._buffer()
        p = buf.partial() if buf is not None else None
        rej = self._rejected
        return LiveState(
            text=p.text if p else "", confidence=p.confidence if p else 0.0, low_confidence=p.low_confidence if p else False,
            threshold=self._buffer_options.min_confidence, hands_visible=self._hands,
            frames_received=self._received, frames_processed=self._processed, frames_with_hands=self._with_hands,
            received_fps=self._rx.rate(now), processed_fps=self._px.rate(now),
            last_frame_age_s=None if self._last_rx is None else now - self._last_rx,
            model=getattr(getattr(self._recognizer, "contract", None), "name", "") if self._recognizer else "",
            model_error=self._model_error,
            last_rejected=f"{rej.text} ({rej.reason})" if rej else "", error=self._error)

    @property
    def annotated(self) -> np.ndarray | None:
        return self._annotated

    def take_committed(self) -> list[Committed]:
        """Utterances committed (auto-send) since the last call."""
        with self._lock:
            out, self._committed = self._committed, []
            return out

    # -- the user's hands on the buffer --------------------------------------------------------------
    def _buffer(self) -> UtteranceBuffer | None:
        if self._session is not None:
            return self._session.buffer
        return self._standalone

    def send(self) -> Committed | str:
        """Commit the pending text now: the Committed utterance, or why nothing was sent."""
        with self._lock:
            buf = self._buffer()
            if buf is None:
                return "nothing to send"
            events = buf.send(self._last_t_ms)
            committed = [e for e in events if isinstance(e, Committed)]
            self._absorb([e for e in events if not isinstance(e, Committed)])
            if committed:
                self._said.append(committed[-1].text)
                return committed[-1]
            rej = next((e for e in events if isinstance(e, Rejected)), None)
            return rej.reason if rej else "nothing to send"

    def clear(self) -> None:
        with self._lock:
            if (buf := self._buffer()) is not None:
                buf.clear()

    def delete_last_word(self) -> None:
        with self._lock:
            if (buf := self._buffer()) is not None:
                buf.delete_last_word()

    def edit(self, text: str) -> None:
        """The user's text replaces the pending utterance (works before any frame: the buffer is made then)."""
        with self._lock:
            if self._session is None and self._recognizer is not None:
                self._ensure_session_without_camera()
            if (buf := self._buffer()) is not None:
                buf.edit(text)

    def _ensure_session_without_camera(self) -> None:
        from asl_gpt.pipeline import RecognitionSession

        # Extraction is deferred until a frame arrives: the factory is called by the worker only.
        self._session = RecognitionSession(self._recognizer, self._extract_lazily, self._stream_options,
                                           self._buffer_options)

    def _extract_lazily(self, rgb: np.ndarray) -> np.ndarray:
        if self._extractor is None:
            self._extractor = self._extractor_factory()
        return self._extractor(rgb)

    def restore_rejected(self) -> None:
        with self._lock:
            if (buf := self._buffer()) is not None:
                buf.restore_rejected()
                self._rejected = None

    def set_options(self, min_confidence: float | None = None, end_pause_ms: float | None = None,
                    auto_send: bool | None = None) -> BufferOptions:
        changes = {k: v for k, v in (("min_confidence", min_confidence), ("end_pause_ms", end_pause_ms),
                                     ("auto_send", auto_send)) if v is not None}
        with self._lock:
            self._buffer_options = replace(self._buffer_options, **changes)
            if (buf := self._buffer()) is not None:
                buf.set_options(self._buffer_options)
            return self._buffer_options

    def close(self) -> None:
        self._closed = True
        with self._slot_cond:
            self._slot_cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=5.0)
        with self._lock:
            if self._session is not None:
                self._session.close()
            if self._extractor is not None and hasattr(self._extractor, "close"):
                self._extractor.close()
            self._session = self._extractor = None


@dataclass
class LiveRegistry:
    """Live sessions keyed by Gradio's session hash; each browser tab gets its own, dropped on unload."""

    services: object
    options: LiveOptions = LiveOptions()
    _sessions: dict[str, LiveSession] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str) -> LiveSession:
        with self._lock:
            s = self._sessions.get(key)
            if s is None:
                s = self._sessions[key] = self._new()
            return s

    def _new(self) -> LiveSession:
        from asl_gpt.pipeline import stream_options

        settings = self.services.settings
        try:
            rec, err = self.services.recognizer(), ""
        except AslGptError as e:
            rec, err = None, str(e)
        threshold = rec.contract.min_confidence if rec is not None else 0.5
        return LiveSession(rec, self.services.new_extractor, stream_options(settings),
                           BufferOptions(min_confidence=threshold), self.options, model_error=err)

    def drop(self, key: str) -> None:
        with self._lock:
            s = self._sessions.pop(key, None)
        if s is not None:
            s.close()

    def __len__(self) -> int:
        return len(self._sessions)

    def close(self) -> None:
        for key in list(self._sessions):
            self.drop(key)
