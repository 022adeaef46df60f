"""One browser's live recognition: frames in from the camera socket, landmarks and buffer state out.

One `RecognitionSession` (asl_gpt.recognition.pipeline) owns frames -> landmarks -> text -> buffer and the
frame counters; `LiveSession` puts a mailbox and a worker thread around it and the pending box
beside it. The browser sends JPEG frames over a WebSocket (asl_gpt.app.camera) with at most two in
flight. `submit` only drops the newest frame into a one-slot `Mailbox` (asl_gpt.app.mailbox: a frame
that arrives while Holistic is busy replaces the waiting one, which is answered as dropped: stale frames
are never queued; the mailbox counts what arrives) and returns at once, never taking the session's one lock. The worker decodes the frame it takes and runs Holistic on it
*outside* the session's lock (`RecognitionSession.extract` changes no state), then takes the lock
only to apply the landmarks (streaming recognition, the buffer) and answers that frame with its
landmarks and the buffer state, which the browser draws over its own video. With no hand raised for a
while the session *rests* (LiveOptions.rest_*): it reads a few frames a second and keeps the others until
the next read; a read that finds a raised hand first reads the kept ones, in order. So the UI's
actions (state, focus, edit, send, clear, delete word, restore), which take the same lock, wait
for at most that short apply, never for a frame. Who owns the box's text is decided by
`asl_gpt.app.pending.PendingText`; this class applies its decisions through the session, which owns
the buffer (hold auto-send while the user edits, clear it when their text replaces it). Every view of
the session (the overlay drawn on each frame, the caption, the status lines) reads the same `LiveState`. While the
user calibrates (the Calibrate panel, asl_gpt.app.calibrate), the worker hands each frame's landmarks
to their `GuidedCapture` instead of recognition; the profile they choose is this session's view of
the shared model (`use_recognizer`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

from asl_gpt.app.mailbox import Mailbox, Rate
from asl_gpt.app.pending import Decision, PendingText, Phase, Turn
from asl_gpt.recognition.buffer import BufferOptions, Committed, BufferEvent, Rejected
from asl_gpt.config import RecognizerConfig
from asl_gpt.errors import AslGptError, InputError
from asl_gpt.landmarks.video import Frame
from asl_gpt.recognition.pipeline import RecognitionSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveOptions:
    max_side: int = RecognizerConfig.max_side  # larger frames are shrunk first (Holistic's cost grows with pixels)
    idle_stop_s: float = 60.0  # the worker stops after this long without frames (a closed tab)
    fps_window_s: float = 3.0  # frame rates are measured over this window
    hands_hold_s: float = 0.6  # hands count as in view this long after the last frame that had them (no flicker)
    stale_s: float = 1.5  # no frame for this long: the camera is not streaming (hands unknown)
    # Resting: with no hand raised for `rest_after_s` (the question is sent; the user reads the answer or types),
    # Holistic reads `rest_fps` frames a second and leaves the cores to the LLM. The frames between two reads are
    # kept, and read in order when a read finds a raised hand, so the rise and the first letter are not lost.
    rest_after_s: float = 2.0  # past the end pause (RecognizerConfig.end_pause_ms): an utterance is sent first
    rest_fps: float = 3.0  # frames read a second while resting (0: never rest); a rise is seen within 1/rest_fps s
    catch_up_fps: float = RecognizerConfig.max_fps  # kept frames read on a rise at most this often (the model's rate)


@dataclass(frozen=True)
class LiveState:
    """What the UI shows, read in one piece."""

    text: str = ""  # the recognised text pending in the buffer (caption and overlay; goes on while the user edits)
    confidence: float = 0.0
    low_confidence: bool = False
    threshold: float = BufferOptions.min_confidence
    phase: str = Phase.LISTENING.value  # the pending box: listening | recognised | editing | sent
    box: str = ""  # what the pending box should show (the browser keeps its own text while the user edits)
    box_rev: int = 0  # bumped when `box` should replace the browser's text
    sent: str = ""  # the last turn sent (shown while phase is "sent")
    streaming: bool = False  # frames are arriving now (else hands are unknown)
    hands_visible: bool = False  # hands in view over the last `hands_hold_s` while streaming
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
    camera_on: bool = False  # a camera socket is open
    camera_error: str = ""  # why the browser could not open the camera (permission denied, none found)
    said: tuple[str, ...] = ()  # the last few committed utterances (shown over the video)
    auto_send: bool = BufferOptions.auto_send  # a pause (lowering the hands) sends the pending text
    resting: bool = False  # no hand raised for a while: recognition reads `LiveOptions.rest_fps` frames a second
    sends_in_s: float | None = None  # a pause sends the pending text in this many seconds; None: nothing will send it


@dataclass(frozen=True)
class FrameReply:
    """The answer to one submitted frame."""

    state: LiveState
    landmarks: np.ndarray | None = None  # float32[543, 3], NaN where not found; None: not processed
    dropped: bool = False  # replaced by a newer frame before the worker took it
    resting: bool = False  # kept, not read yet: recognition rests (read if a hand rises next)
    error: str = ""  # this frame could not be processed (unreadable JPEG, ...)


Reply = Callable[[FrameReply], None]


def decode_image(data: bytes) -> np.ndarray:
    """JPEG/PNG bytes -> uint8[H, W, 3] RGB; InputError when they are not an image."""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if len(data) else None
    if bgr is None:
        raise InputError(f"unreadable camera frame ({len(data)} bytes, not a JPEG or PNG image)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class LiveSession:
    """One browser's stream. `recognizer` may be None (no model): landmarks are still found and sent back,
    and the pending box still holds what the user types."""

    def __init__(self, recognizer, extractor_factory, stream_options, buffer_options: BufferOptions,
                 options: LiveOptions = LiveOptions(), model_error: str = "", clock=time.monotonic):
        self.options = options
        self._extractor_factory = extractor_factory
        self._extractor = None  # made by the worker on the first frame (a tab that never streams costs none)
        self._model_error = model_error
        self._clock = clock
        # The one lock over this session's state (recognition, the pending box, calibration and practice takes,
        # counters): the worker holds it only to read a frame's landmarks in, the UI's handlers for their action.
        self._lock = threading.RLock()
        self._session = RecognitionSession(recognizer, self._extract, stream_options, buffer_options)
        self._pending = PendingText()
        # Arrivals are counted by the mailbox under its own handoff lock: the camera socket never waits for ours.
        self._mailbox = Mailbox(clock, options.fps_window_s)
        self._worker: threading.Thread | None = None
        # Guards only the check-and-start of the worker thread (two sockets' frames must not start two workers);
        # it holds no state the UI reads, so it is no second state lock.
        self._starting = threading.Lock()
        self._closed = False
        self._outgoing: list[Turn] = []  # turns auto-sent by the worker, until the UI takes them
        self._hands_at: float | None = None  # clock time of the last frame with hands
        self._stopped_after: int | None = None  # arrivals when the page said its camera stopped (None: it did not)
        self._px = Rate(options.fps_window_s)
        self._error = ""
        self._said: deque[str] = deque(maxlen=3)
        self._camera_on = False
        self._camera_error = ""
        self._last_state = LiveState()
        self._raised_at: float | None = None  # clock time of the last frame read with a raised hand
        self._read_at: float | None = None  # clock time of the last frame read
        # frames since the last read, while resting (the worker's alone: no lock); the oldest go first
        self._kept: deque[tuple[float, np.ndarray | bytes]] = deque(maxlen=self._max_kept())
        self._capture = None  # a GuidedCapture while the user calibrates (asl_gpt.recognition.calibration)
        self._capture_name = ""  # the profile name it is kept under
        self._capture_saved = ""  # the letters of it already kept on disk (asl_gpt.app.calibrate.autosave)
        self._capture_letters = ""  # the letters it asks for (the panel counts its progress over these)
        self._profile: str | None = None  # the name of the calibration profile this session reads with (None: none)
        self._practice = None  # a Practice tab camera take (asl_gpt.recognition.practice.Take): frames go to it, not read

    # -- frames ------------------------------------------------------------------------------------
    def submit(self, frame: np.ndarray | bytes | None, reply: Reply | None = None) -> None:
        """Hand the newest frame (uint8 RGB, or JPEG/PNG bytes) to the worker; `reply` gets its FrameReply
        from the worker thread (or at once, as dropped, when a newer frame replaces it). Never waits for
        the worker (the camera socket calls this on the server's event loop)."""
        if frame is None or self._closed:
            if reply is not None:
                reply(FrameReply(self.last_state, dropped=True))
            return
        now = self._clock()
        stale = self._mailbox.put((now, frame, reply), now)
        with self._starting:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="live-session", daemon=True)
                self._worker.start()
        _drop(stale, self.last_state)

    def _run(self) -> None:
        while not self._closed:
            item = self._mailbox.take(self.options.idle_stop_s)
            if item is None:
                break
            now, frame, reply = item
            if self._rests(now):
                self._kept.append((now, frame))  # the oldest kept frame goes when the deque is full
                _answer(reply, FrameReply(self.last_state, resting=True))
                continue
            lm, error = None, ""
            try:
                lm, error = self._process(now, frame)
            except Exception as e:  # noqa: BLE001 - one bad frame must not end the stream
                if not isinstance(e, AslGptError):
                    log.exception("live frame failed")
                error = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
                with self._lock:
                    self._error = error
            self._last_state = state = self.state()
            _answer(reply, FrameReply(state, landmarks=lm, error=error))
        log.debug("live worker stopped")

    def _rests(self, now: float) -> bool:
        """Whether this frame is kept unread: resting (no hand raised for `rest_after_s`, not calibrating) and
        read less than 1/rest_fps s ago."""
        if self._read_at is None or now - self._read_at >= 1.0 / max(self.options.rest_fps, 1e-9):
            return False
        with self._lock:
            return self._rests_now(now)

    def _rests_now(self, now: float) -> bool:
        """No hand raised for `rest_after_s` (since the first frame, when none ever was), and no take running (a
        calibration or a practice take needs every frame of the rise, not a catch-up at catch_up_fps)."""
        if self.options.rest_fps <= 0 or self._capture is not None or self._practice is not None:
            return False
        quiet_since = self._raised_at if self._raised_at is not None else self._mailbox.arrivals(now).first_at
        return quiet_since is not None and now - quiet_since >= self.options.rest_after_s

    def _max_kept(self) -> int:
        """Frames kept between two resting reads (a 30 frames/s camera's, with room, and the one that arrives as
        the limit is reached)."""
        return max(1, int(30 / max(self.options.rest_fps, 0.1))) + 1

    def _extract(self, rgb: np.ndarray) -> np.ndarray:
        """The session's extractor: Holistic, made on first use (only the worker calls it)."""
        if self._extractor is None:
            self._extractor = self._extractor_factory()
        return self._extractor(rgb)

    def _process(self, now: float, frame: np.ndarray | bytes) -> tuple[np.ndarray, str]:
        """One frame: decode and Holistic without the lock, then the session's state under it. A raised hand
        after resting first reads the frames kept since the last read, in order (the rise, the first letter)."""
        kept = list(self._kept)
        self._kept.clear()
        self._read_at = now
        f, (lm, err) = self._frame(now, frame)
        if kept and lm is not None and self._session.signing(lm, _aspect(f)):
            gap, last = 1.0 / max(self.options.catch_up_fps, 0.1), None
            for t, older in kept:
                if last is None or t - last >= gap:
                    last = t
                    self._read(*self._frame(t, older))
        return self._read(f, (lm, err))

    def _frame(self, now: float, frame: np.ndarray | bytes) -> tuple[Frame, tuple[np.ndarray | None, str | None]]:
        """A frame at its arrival time, and its landmarks (Holistic: the slow part, outside the lock)."""
        t0 = self._mailbox.arrivals(now).first_at
        f = Frame((now - (now if t0 is None else t0)) * 1000.0, self._prepare(frame))
        return f, self._session.extract(f)

    def _read(self, f: Frame, found: tuple[np.ndarray | None, str | None]) -> tuple[np.ndarray, str]:
        """A frame's landmarks into calibration or recognition, under the lock (UI handlers wait only this long)."""
        lm, err = found
        with self._lock:
            sink = self._capture if self._capture is not None else self._practice
            if sink is not None and lm is not None:  # calibrating or practising: the frames are not read
                h, w = f.rgb.shape[:2]
                sink.feed(f.t_ms, lm, w / h if h else 1.0)
                self._session.count(f.t_ms, lm)
                self._px.tick(self._clock())
                return lm, ""
            r = self._session.apply(f, lm, err)
            self._outgoing += self._absorb(r.events + self._session.poll())
            self._sync()
            if r.hands_visible:
                self._hands_at = self._clock()
            if r.signing:
                self._raised_at = self._clock()
            self._px.tick(self._clock())
            if r.error:
                self._error = r.error.splitlines()[0][:200]
        return r.landmarks, self._error if r.error else ""

    def _prepare(self, frame: np.ndarray | bytes) -> np.ndarray:
        """uint8 RGB no larger than `max_side`; InputError for bytes that are not an image."""
        import cv2

        rgb = decode_image(frame) if isinstance(frame, (bytes, bytearray, memoryview)) else frame
        if self.options.max_side and max(rgb.shape[:2]) > self.options.max_side:
            s = self.options.max_side / max(rgb.shape[:2])
            rgb = cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(rgb)

    def camera_event(self, on: bool | None = None, error: str | None = None) -> None:
        """What the browser says about its camera: opened/closed, or why it could not open it."""
        with self._lock:
            if on is not None:
                self._camera_on = on
                # a frame that arrives after a stop streams again (counted, so no clock tie can hide it)
                self._stopped_after = None if on else self._mailbox.arrivals(self._clock()).count
            if on is False:
                d = self._pending.camera_stopped(self._now_ms())
                if d.clear_buffer:
                    self._session.restart_reading()  # signing after a restart is read afresh, not joined to this
                self._carry_out(d)
            if error is not None:
                self._camera_error = error[:200]

    def _now_ms(self) -> float:
        return self._clock() * 1000.0

    def _absorb(self, events: list[BufferEvent]) -> list[Turn]:
        """Buffer events into the pending box; returns the turns they send."""
        turns = []
        for e in events:
            if isinstance(e, Committed):
                turns += self._carry_out(self._pending.committed(e.text, e.confidence, e.low_confidence, self._now_ms()))
        return turns

    def _sync(self) -> None:
        """Show the buffer's text in the pending box (the machine keeps it out while the user edits)."""
        p = self._session.partial()
        self._pending.recognised(p.text, p.confidence, p.low_confidence, self._now_ms())

    def _carry_out(self, d: Decision) -> list[Turn]:
        """Do what the pending box decided to the buffer; returns the turn it sends, if any."""
        if d.hold is not None:
            self._session.hold(d.hold)
        if d.clear_buffer:
            self._session.clear()
        if d.turn is not None:
            self._said.append(d.turn.text)
            return [d.turn]
        return []

    @property
    def closed(self) -> bool:
        return self._closed

    # -- what the UI reads -------------------------------------------------------------------------
    @property
    def last_state(self) -> LiveState:
        """The state after the last processed frame, without taking the lock."""
        return self._last_state

    def state(self) -> LiveState:
        with self._lock:
            self._outgoing += self._absorb(self._session.poll())  # decodes that finished after the last frame
            self._sync()
            self._pending.tick(self._now_ms())
            return self._state_locked()

    def _state_locked(self) -> LiveState:
        now = self._clock()
        v = self._pending.view()
        rej = self._session.last_rejected
        a = self._mailbox.arrivals(now)
        stopped = self._stopped_after is not None and a.count <= self._stopped_after
        streaming = a.last_at is not None and not stopped and now - a.last_at <= self.options.stale_s
        hands = streaming and self._hands_at is not None and now - self._hands_at <= self.options.hands_hold_s
        rec = self._session.recognizer
        return LiveState(
            text=v.recognised, confidence=v.confidence, low_confidence=v.low_confidence,
            threshold=self._session.options.min_confidence, phase=v.phase.value, box=v.box, box_rev=v.box_rev,
            sent=v.sent if v.phase is Phase.SENT else "", streaming=streaming, hands_visible=hands,
            frames_received=a.count, frames_processed=self._session.frames_seen,
            frames_with_hands=self._session.frames_with_hands,
            received_fps=a.fps, processed_fps=self._px.rate(now),
            last_frame_age_s=None if a.last_at is None else now - a.last_at,
            model=getattr(getattr(rec, "contract", None), "name", "") if rec is not None else "",
            model_error=self._model_error,
            last_rejected=f"{rej.text} ({rej.reason})" if rej else "", error=self._error,
            camera_on=self._camera_on, camera_error=self._camera_error, said=tuple(self._said),
            resting=streaming and self._rests_now(now),
            auto_send=self._session.options.auto_send,
            sends_in_s=None if (ms := self._session.sends_in()) is None or v.phase is not Phase.RECOGNISED else ms / 1000)

    def take_outgoing(self) -> list[Turn]:
        """Turns auto-sent (the signer paused) since the last call."""
        with self._lock:
            out, self._outgoing = self._outgoing, []
            return out

    # -- the user's hands on the pending box (each passes the box's text as the browser has it) ----
    def focus(self, text: str) -> None:
        with self._lock:
            self._carry_out(self._pending.focus(text or "", self._now_ms()))

    def blur(self, text: str) -> None:
        with self._lock:
            self._carry_out(self._pending.blur(text or "", self._now_ms()))

    def edit(self, text: str) -> None:
        """The user typed: the box's text is theirs until they send or clear it."""
        with self._lock:
            self._carry_out(self._pending.edit(text or "", self._now_ms()))

    def send(self, text: str) -> Turn | str:
        """Send what the box holds now: the turn, or why nothing was sent."""
        with self._lock:
            d = self._pending.send(text or "", self._now_ms())
            turns = self._carry_out(d)
            if not d.commit_buffer:
                return turns[0] if turns else d.reason
            events = self._session.send(self._session.last_t_ms)
            turns = self._absorb(events)  # the buffer gates a still-open segment like any other
            self._sync()
            if turns:
                return turns[-1]
            rej = next((e for e in events if isinstance(e, Rejected)), None)
            return rej.reason if rej else "nothing to send"

    def clear(self) -> None:
        with self._lock:
            self._carry_out(self._pending.clear(self._now_ms()))

    def delete_last_word(self, text: str) -> str:
        """The box's text without its last word; returns the new text."""
        with self._lock:
            new, d = self._pending.delete_last_word(text or "", self._now_ms())
            self._carry_out(d)
            if d.drop_last_word:
                self._session.delete_last_word()
                self._sync()
                return self._pending.view().box
            return new

    def push_hypothesis(self, text: str, confidence: float, final: bool = False) -> None:
        """Feed one decoded hypothesis to this session's buffer, as the streaming recogniser does (the
        browser tests use it to make recognition updates and rejections arrive on cue)."""
        with self._lock:
            self._outgoing += self._absorb(self._session.push(text, confidence, final=final))
            self._sync()

    def use_text(self, text: str, confidence: float) -> str:
        """An utterance recognised in an uploaded video replaces what is pending, as recognised text
        (gated like any segment; Send labels it signed, with its confidence). Returns the box's text."""
        with self._lock:
            self._carry_out(self._pending.clear(self._now_ms()))
            self._session.push(text, confidence, final=True)
            self._sync()
            return self._pending.view().box

    def restore_rejected(self) -> str | None:
        """Put exactly the last rejected reading back in the box (low confidence); None: nothing to restore."""
        with self._lock:
            if not self._session.restore_rejected():
                return None
            p = self._session.partial()
            self._carry_out(self._pending.restored(p.text, p.confidence, self._now_ms()))
            return p.text

    # -- calibration (the Calibrate panel) ------------------------------------------------------
    def start_calibration(self, capture, name: str = "", letters: str | None = None) -> None:
        """Frames go to `capture` (asl_gpt.recognition.calibration.GuidedCapture) instead of recognition until stopped;
        `name`: the profile it will be saved as; `letters`: those asked (default: the capture's queue now)."""
        with self._lock:
            self._capture, self._capture_name, self._capture_saved = capture, name, capture.profile.letters
            self._capture_letters = "".join(capture.queue) if letters is None else letters

    @property
    def capture(self):
        return self._capture

    @property
    def capture_name(self) -> str:
        """The profile name the running (or last) capture is kept under."""
        return self._capture_name

    @property
    def capture_letters(self) -> str:
        """The letters the capture asks for (the panel counts its progress over these)."""
        return self._capture_letters

    def unsaved_letters(self) -> str:
        """The capture's letters not yet kept on disk ('' when none, or not calibrating)."""
        with self._lock:
            cap = self._capture
            if cap is None or not cap.profile.samples or cap.profile.letters == self._capture_saved:
                return ""
            return cap.profile.letters

    def capture_kept(self, letters: str) -> None:
        """These letters of the capture are now on disk (asl_gpt.app.calibrate.autosave)."""
        with self._lock:
            self._capture_saved = letters

    def with_capture(self, fn):
        """fn(capture) under the session's lock (the worker feeds the same capture); None when not calibrating."""
        with self._lock:
            return fn(self._capture) if self._capture is not None else None

    def stop_calibration(self):
        """Back to reading; returns the capture that was running (None if none)."""
        with self._lock:
            capture, self._capture = self._capture, None
            return capture

    # -- practice (the Practice tab) -------------------------------------------------------------
    def practise(self, take) -> None:
        """Frames go to `take` (asl_gpt.recognition.practice.Take) instead of recognition; None: back to reading."""
        with self._lock:
            self._practice = take

    @property
    def practice_take(self):
        return self._practice

    @property
    def recognizer(self):
        """What this session reads with: the shared model, or one user's calibrated view of it (None: no model)."""
        return self._session.recognizer

    def use_recognizer(self, recognizer, profile: str | None = None) -> None:
        """Read with `recognizer` from now on: the shipped model, or the calibrated view of it that the profile
        named `profile` gives."""
        with self._lock:
            self._session.use_recognizer(recognizer)
            self._profile = profile

    @property
    def profile(self) -> str | None:
        """The name of the calibration profile this session reads with (None: the shipped model)."""
        return self._profile

    def set_options(self, min_confidence: float | None = None, end_pause_ms: float | None = None,
                    auto_send: bool | None = None) -> BufferOptions:
        changes = {k: v for k, v in (("min_confidence", min_confidence), ("end_pause_ms", end_pause_ms),
                                     ("auto_send", auto_send)) if v is not None}
        with self._lock:
            return self._session.set_options(**changes)

    def close(self) -> None:
        self._closed = True
        _drop(self._mailbox.close(), self.last_state)
        if self._worker is not None:
            self._worker.join(timeout=5.0)
        with self._lock:
            self._session.close()
            if self._extractor is not None and hasattr(self._extractor, "close"):
                self._extractor.close()
            self._extractor = None


def _aspect(f: Frame) -> float:
    h, w = f.rgb.shape[:2]
    return w / h if h else 1.0


def _answer(reply: Reply | None, r: FrameReply) -> None:
    if reply is not None:
        try:
            reply(r)
        except Exception:  # noqa: BLE001 - a closed socket must not end the worker
            log.debug("frame reply failed", exc_info=True)


def _drop(item, state: LiveState) -> None:
    """Answer a mailbox item that will not be processed."""
    if item is not None and item[2] is not None:
        item[2](FrameReply(state, dropped=True))
