"""Wires the recognition runtime: frames -> Holistic -> streaming recognizer -> utterance buffer.

Collaborators are passed in; nothing here is global. The CLI (`recognize`, `live`) and the Gradio
app drive the same `RecognitionSession`.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.recognition.buffer import BufferOptions, Committed, BufferEvent, Partial, Rejected, UtteranceBuffer
from asl_gpt.config import RecognizerConfig
from asl_gpt.landmarks.video import Frame
from asl_gpt.recognition.recognizer import AdaptedRecognizer, Hypothesis, Recognizer
from asl_gpt.recognition.streaming import Gated, StreamingRecognizer, StreamOptions, Update

log = logging.getLogger(__name__)

Extractor = Callable[[np.ndarray], np.ndarray]  # uint8 RGB -> float32[543, 3]


@dataclass
class FrameResult:
    t_ms: float
    landmarks: np.ndarray  # float32[543, 3], NaN where missing
    hands_visible: bool
    events: list[BufferEvent] = field(default_factory=list)
    hypothesis: Hypothesis | None = None  # the latest decode of the open segment, if any arrived
    signing: bool = False  # a hand is raised in signing space (features.raised_hands): what opens segments
    error: str | None = None  # a frame that failed (the loop goes on)


class RecognitionSession:
    """One signer's stream. Not shared between users or threads (the app makes one per browser and
    guards it with a lock). `recognizer` None: no model, so landmarks, hands and the buffer only."""

    def __init__(self, recognizer: Recognizer | None, extractor: Extractor,
                 stream_options: StreamOptions = StreamOptions(),
                 buffer_options: BufferOptions | None = None,
                 on_update: Callable[[Update], None] | None = None):
        self.recognizer = recognizer
        self.on_update = on_update  # sees every decode reaching the buffer, rejected ones too (evaluation)
        self.extractor = extractor
        self.stream = StreamingRecognizer(recognizer, stream_options) if recognizer is not None else None
        self._buffer = UtteranceBuffer(buffer_options or BufferOptions(min_confidence=recognizer.contract.min_confidence))
        self.latest: Hypothesis | None = None
        self.aspect = 1.0  # the frames' width / height (landmark x and y are fractions of each)
        self.frames_seen = 0
        self.frames_with_hands = 0
        self.last_t_ms = 0.0

    def use_recognizer(self, recognizer: Recognizer) -> None:
        """Read with another view of the same model from now on (a user's calibration profile, or none).
        Decodes still in flight with the old one are dropped; the buffer and counters carry on."""
        self.recognizer = recognizer
        if self.stream is not None:
            self.stream.recognizer = recognizer
            self.stream.wait()
            self.stream.poll()
            self.latest = None

    def count(self, t_ms: float, landmarks: np.ndarray) -> None:
        """A frame seen but not read (the user is calibrating): the counters move, recognition does not."""
        self.frames_seen += 1
        self.frames_with_hands += bool(features.hands_present(landmarks[None])[0])
        self.last_t_ms = t_ms

    def process(self, frame: Frame) -> FrameResult:
        """One frame through landmarks, recognition scheduling and the buffer. Never raises for a bad frame."""
        return self.apply(frame, *self.extract(frame))

    def extract(self, frame: Frame) -> tuple[np.ndarray | None, str | None]:
        """The frame's landmarks, or None and why: the slow half of `process`, which changes no state (the
        app runs it outside the lock that guards the rest, so the user's actions never wait for Holistic)."""
        try:
            return self.extractor(frame.rgb), None
        except Exception as e:  # a corrupt frame must not stop the stream
            log.warning("frame at %.0f ms failed: %s", frame.t_ms, e)
            return None, str(e)

    def apply(self, frame: Frame, landmarks: np.ndarray | None, error: str | None = None) -> FrameResult:
        """`process` after `extract`: the frame's landmarks (None: not found) through recognition and the buffer."""
        if landmarks is None:
            from asl_gpt.landmarks import layout

            self.frames_seen += 1
            self.last_t_ms = frame.t_ms
            return FrameResult(frame.t_ms, layout.empty_frames(1)[0], False, self._buffer.tick(frame.t_ms, False),
                               error=error)
        h, w = frame.rgb.shape[:2]
        return self.process_landmarks(frame.t_ms, landmarks, w / h if h else None)

    def process_landmarks(self, t_ms: float, landmarks: np.ndarray, aspect: float | None = None) -> FrameResult:
        """One frame's float32[543, 3] landmarks through recognition scheduling and the buffer: what
        `process` does after extraction (landmark files and cached landmarks take this same path).
        `aspect`: the frame's width / height where known (landmark x and y are fractions of each)."""
        self.frames_seen += 1
        self.last_t_ms = t_ms
        if aspect:
            self.aspect = aspect
            if self.stream is not None:
                self.stream.aspect = aspect  # decodes scale landmarks to true proportions
        hands = bool(features.hands_present(landmarks[None])[0])
        self.frames_with_hands += hands
        # Segments and utterances follow the *signing* hand: one resting low in view is not signing.
        signing = hands and bool(features.raised_hands(landmarks[None], self.aspect)[0])
        result = FrameResult(t_ms, landmarks, hands, signing=signing)
        if self.stream is not None:
            result.events += self._to_buffer(self.stream.push(t_ms, landmarks, signing), t_ms)
        result.events += self._buffer.tick(t_ms, signing)
        self._consumed(result.events)
        result.hypothesis = self.latest
        return result

    def send(self, now_ms: float) -> list[BufferEvent]:
        """Explicit send of what is pending (the open segment is gated like any other)."""
        events = self._buffer.send(now_ms)
        self._consumed(events)
        return events

    # -- the utterance buffer: this session is its one owner; callers read and change it through these --
    @property
    def options(self) -> BufferOptions:
        return self._buffer.options

    @property
    def last_rejected(self) -> Rejected | None:
        """The last segment below the threshold (what `restore_rejected` brings back), if any."""
        return self._buffer.last_rejected

    def partial(self) -> Partial:
        """The pending text, its confidence and whether it is below the threshold (decided here, once)."""
        return self._buffer.partial()

    def signing(self, landmarks: np.ndarray, aspect: float | None = None) -> bool:
        """Whether these landmarks hold a raised hand (what opens a segment), without reading them."""
        return bool(features.hands_present(landmarks[None])[0]) and \
            bool(features.raised_hands(landmarks[None], aspect or self.aspect)[0])

    def restart_reading(self) -> None:
        """Drop the open segment and the decodes in flight (the camera stopped): what is signed next is read
        from its own first frame, not joined to the segment that was open."""
        if self.stream is not None:
            self.stream.cut()
            self.latest = None

    def sends_in(self) -> float | None:
        """Milliseconds (from the last frame) until a pause sends the pending text by itself; None: it will not."""
        return self._buffer.sends_in(self.last_t_ms)

    def hold(self, on: bool) -> None:
        """Hold auto-send (the user edits the text elsewhere) or release it."""
        self._buffer.held = on

    def clear(self) -> list[BufferEvent]:
        return self._buffer.clear()

    def edit(self, text: str) -> list[BufferEvent]:
        """The user's own text replaces what is pending (confidence 1)."""
        return self._buffer.edit(text)

    def delete_last_word(self) -> list[BufferEvent]:
        return self._buffer.delete_last_word()

    def restore_rejected(self) -> list[BufferEvent]:
        """The last rejected reading replaces what is pending, still low confidence ([]: none)."""
        return self._buffer.restore_rejected()

    def push(self, text: str, confidence: float, final: bool = False) -> list[BufferEvent]:
        """One hypothesis into the buffer as the streaming recogniser gives it, at the last frame's time
        (a video's utterance offered for the pending box; tests that make readings arrive on cue)."""
        t = self.last_t_ms
        events = self._buffer.push(text, confidence, t, t, t, final=final)
        self._consumed(events)
        return events

    def set_options(self, **changes) -> BufferOptions:
        """Change some of the buffer's options (the threshold, the end pause, auto-send); returns them all."""
        self._buffer.set_options(replace(self._buffer.options, **changes))
        return self._buffer.options

    def _consumed(self, events: list[BufferEvent]) -> None:
        if self.stream is not None and any(isinstance(e, Committed) for e in events):
            self.stream.cut()  # committed signing is not read again
            self.latest = None

    def _to_buffer(self, updates: list[Update], now_ms: float) -> list[BufferEvent]:
        """Decodes into the buffer (partial ones replace each other, a final one closes its segment)."""
        events: list[BufferEvent] = []
        for u in updates:
            if self.on_update is not None:
                self.on_update(u)
            h = u.hypothesis
            self.latest = None if u.final else h
            events += self._buffer.push(h.text, h.confidence, h.t_start, h.t_end, now_ms, final=u.final)
        return events

    def poll(self) -> list[BufferEvent]:
        """Updates that finished after the last frame (the app polls between frames)."""
        return self._to_buffer(self.stream.poll(), self.last_t_ms) if self.stream is not None else []

    def finish(self) -> list[BufferEvent]:
        """End of stream: decode the open segment, then send whatever is pending."""
        events = self._to_buffer(self.stream.flush(), self.last_t_ms) if self.stream is not None else []
        if self._buffer.text:
            events += self._buffer.send(self.last_t_ms)
        return events

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


def _prefetch(frames: Iterator[Frame], depth: int = 4) -> Iterator[Frame]:
    """Decode video frames on another thread so decoding overlaps landmark extraction."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    errors: list[BaseException] = []

    def run():
        try:
            for f in frames:
                q.put(f)
        except BaseException as e:  # re-raised in the consumer: an unreadable file is the user's error
            errors.append(e)
        finally:
            q.put(done)

    threading.Thread(target=run, name="video-reader", daemon=True).start()
    while (item := q.get()) is not done:
        yield item
    if errors:
        raise errors[0]


@dataclass(frozen=True)
class VideoRecognition:
    utterances: list[Committed]
    rejected: list[Rejected]
    frames: int
    frames_with_hands: int
    seconds: float  # wall time of the whole loop
    gated: tuple[Gated, ...] = ()  # what the gates did with each closed segment (only when explaining)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @classmethod
    def of(cls, events: list[BufferEvent], session: RecognitionSession, seconds: float) -> "VideoRecognition":
        gated = tuple(session.stream.gated or ()) if session.stream is not None else ()
        return cls(utterances=[e for e in events if isinstance(e, Committed)],
                   rejected=[e for e in events if isinstance(e, Rejected) and e.text],
                   frames=session.frames_seen, frames_with_hands=session.frames_with_hands, seconds=seconds,
                   gated=gated)


def no_pixels(rgb: np.ndarray) -> np.ndarray:
    """The extractor of a session fed landmarks (files, caches): it never sees pixels."""
    raise RuntimeError("this session is fed landmarks, not frames")


def recognize_video(path: str | Path, recognizer: Recognizer, extractor: Extractor,
                    stream_options: StreamOptions = StreamOptions(), buffer_options: BufferOptions | None = None,
                    on_result: Callable[[Frame, FrameResult], None] | None = None,
                    max_side: int | None = RecognizerConfig.max_side, progress: bool = False,
                    on_update: Callable[[Update], None] | None = None, explain: bool = False) -> VideoRecognition:
    """Recognise every utterance in a video file. InputError for a missing/unreadable/empty file.
    `explain`: keep each closed segment's gate decisions (VideoRecognition.gated)."""
    from asl_gpt.landmarks.video import probe, read_video

    info = probe(path)
    session = RecognitionSession(recognizer, extractor, stream_options, buffer_options, on_update)
    if explain:
        session.stream.gated = []

    def step(frame: Frame) -> list[BufferEvent]:
        r = session.process(frame)
        if on_result:
            on_result(frame, r)
        return r.events

    return drive(session, _prefetch(read_video(path, max_side=max_side)), step, info.frames or None, progress)


def drive(session: RecognitionSession, items, step: Callable[..., list[BufferEvent]], total: int | None = None,
          progress: bool = False, on_events: Callable[[list[BufferEvent]], None] | None = None) -> VideoRecognition:
    """The one frame loop (files, landmark files, the OpenCV window, the benchmark): each item through `step`,
    then the end of the stream; the session is closed always. `on_events` sees each step's events as they come,
    and the end's (a window prints them live); the loop ends early when `items` does (the window's ESC)."""
    import time

    if progress:
        from tqdm import tqdm

        items = tqdm(items, total=total, unit="frame", desc="recognize", leave=False)
    events: list[BufferEvent] = []
    t0 = time.perf_counter()
    try:
        for item in items:
            new = step(item)
            events += new
            if on_events is not None and new:
                on_events(new)
        new = session.finish()
        events += new
        if on_events is not None and new:
            on_events(new)
    finally:
        session.close()
    return VideoRecognition.of(events, session, time.perf_counter() - t0)


def recognize_landmarks(frames: np.ndarray, times_ms: np.ndarray, recognizer: Recognizer,
                        stream_options: StreamOptions = StreamOptions(), buffer_options: BufferOptions | None = None,
                        aspect: float | None = None, progress: bool = False,
                        on_update: Callable[[Update], None] | None = None, explain: bool = False) -> VideoRecognition:
    """Landmarks already extracted, through the same RecognitionSession as a video (process_landmarks).

    Every scheduled decode runs before the next frame, as when frames arrive at camera speed, so the
    result does not depend on the machine's speed. `on_update` sees every decode (RecognitionSession)."""
    session = RecognitionSession(recognizer, no_pixels, stream_options, buffer_options, on_update)
    if explain:
        session.stream.gated = []

    def step(item) -> list[BufferEvent]:
        f, t = item
        events = session.process_landmarks(float(t), f, aspect).events  # as `process` gives it for a video frame
        session.stream.wait()
        return events + session.poll()

    return drive(session, zip(frames, times_ms), step, len(frames), progress)


def committed_reading(recognizer, stream_options: StreamOptions, buffer_options: BufferOptions | None = None):
    """How a recording reads for the user, with or without a calibration adapter (calibration.WordReading):
    streamed through `recognize_landmarks` like `asl-gpt recognize` and the app, its committed text joined.
    `recognizer`: a TFLiteRecognizer (it takes the adapter)."""
    def read(frames: np.ndarray, times_ms: np.ndarray, aspect: float, adapter) -> str:
        rec = recognizer if adapter is None else AdaptedRecognizer(recognizer, adapter)
        result = recognize_landmarks(frames, times_ms, rec, stream_options, buffer_options, aspect=aspect)
        return " ".join(u.text for u in result.utterances if u.text)

    return read


def committed_reading_for(settings, recognizer):
    """`committed_reading` with the settings' streaming schedule and the model's own gate: how a calibration's
    check words read in the app and in `asl-gpt calibrate` alike."""
    return committed_reading(recognizer, stream_options(settings), buffer_options(settings, recognizer))


def options_from(cls, section, **given):
    """An option object (`StreamOptions`, `BufferOptions`, ...) from a settings section: each field the section
    also has takes the section's value, so an option is declared once (its config field) and mapped by name
    here, never by hand; `given` sets the rest (a threshold that is the model's, not a setting)."""
    names = {f.name for f in fields(cls)} - set(given)
    return cls(**{n: getattr(section, n) for n in names if hasattr(section, n)}, **given)


def stream_options(settings) -> StreamOptions:
    """Streaming schedule from the recognizer settings."""
    return options_from(StreamOptions, settings.recognizer)


def buffer_options(settings, recognizer: Recognizer | None = None, min_confidence: float | None = None) -> BufferOptions:
    """The utterance buffer's options from the recognizer settings. Its threshold: `min_confidence` where the
    user gave one, else the model's own (its contract), else the default (no model)."""
    if min_confidence is None:
        min_confidence = recognizer.contract.min_confidence if recognizer is not None else BufferOptions.min_confidence
    return options_from(BufferOptions, settings.recognizer, min_confidence=min_confidence)


def build_runtime(settings, model: str | None = None):
    """The recognizer and a Holistic extractor per settings (for `recognize`, `live` and the benchmark).

    ModelError when the model is missing or does not match its contract."""
    from asl_gpt.landmarks.holistic import HolisticExtractor, needs_face
    from asl_gpt.recognition.recognizer import build_recognizer

    rec = build_recognizer(settings, model)
    return rec, HolisticExtractor(face=needs_face(rec.contract.columns))
