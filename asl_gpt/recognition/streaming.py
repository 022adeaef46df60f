"""Streaming recognition: landmark frames in, hypotheses out on a schedule, never stalling the loop.

Frames with a *raised* hand open a *segment*; it closes after `drop_frames` frames without one. What is
decoded of a segment runs from the hand's first hold in signing space to its last one there
(features.signing_span): the rise from rest and the drop back, with the shapes they pass, are not read. A
hand resting low (the other hand in the lap, a hand dropped after a word) neither opens nor holds a
segment: real signers keep the other hand in view, so "no hand in view" would never close one. While a
segment is open its frames are re-decoded every `stride_frames` frames, and once more (final) when
it closes. Decoding runs on one worker thread: `push()` only appends and hands work over, so the
frame loop never waits for the model (a partial decode is skipped while the worker is busy; the
final decode of a segment is always queued).
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.config import RecognizerConfig as _Cfg
from asl_gpt.recognition.recognizer import Hypothesis, Recognizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamOptions:
    """Built from the settings (asl_gpt.recognition.pipeline.stream_options); the defaults are the settings' (RecognizerConfig)."""
    stride_frames: int = _Cfg.stride_frames  # re-decode the open segment every this many frames
    drop_frames: int = _Cfg.drop_frames  # this many frames without hands close the segment (tracking flickers)
    min_segment_frames: int = _Cfg.min_segment_frames  # segments with fewer hand frames are noise: not decoded
    max_segment_frames: int = 900  # a segment longer than this (30 s at 30 fps) keeps only its tail
    trim_rise_drop: bool = _Cfg.trim_rise_drop  # decode only from the hand's first hold in signing space to its last
    #                              (features.signing_span): a rise from rest and a drop to rest are not letters
    max_fps: float = _Cfg.max_fps  # frames reach the model at most this often (0: all): the rate the training spans
    #                        (15-30 fps); a letter held 3 s at 30 fps read as 90 identical frames made the
    #                        model unsure, at 15 fps it reads it surely, and fluent spelling still has 2 frames a letter


WHY = {"too short": "too few frames with a raised hand", "span": "the hand never held in signing space",
       "one-handed rule": "both hands sign"}  # why a closed segment is not read (Gated.removed_by)


@dataclass(frozen=True)
class Gated:
    """What the gates did with one closed segment (kept when `StreamingRecognizer.gated` is a list: --explain)."""
    segment: int
    frames: np.ndarray  # float32[N, 543, 3] the segment's frames after the rate limit, in true proportions
    times_ms: np.ndarray  # float64[N]
    span: tuple[int, int]  # [start, end) of those that the signing span keeps (all of them when not trimmed)
    removed_by: str  # "" (read), "too short", "span" (the hand never held in signing space), "one-handed rule"


@dataclass(frozen=True)
class Update:
    hypothesis: Hypothesis
    segment: int  # segment number, from 0
    final: bool  # the segment has closed; this is its last word


def rate_limited(times_ms: list[float], max_fps: float) -> list[int]:
    """Indices of the frames to keep so that kept frames are at least 1/max_fps apart (the first kept)."""
    if max_fps <= 0 or not times_ms:
        return list(range(len(times_ms)))
    gap = 1000.0 / max_fps - 1.0  # 1 ms of slack: camera clocks jitter
    keep, last = [0], times_ms[0]
    for i in range(1, len(times_ms)):
        if times_ms[i] - last >= gap:
            keep.append(i)
            last = times_ms[i]
    return keep


class StreamingRecognizer:
    """Feed `push(t_ms, landmarks)` per frame; collect `Update`s from its return value or `flush()`."""

    def __init__(self, recognizer: Recognizer, options: StreamOptions = StreamOptions(), aspect: float = 1.0):
        self.recognizer = recognizer
        self.options = options
        self.aspect = aspect  # the frames' width / height: landmarks are scaled to true proportions before decoding
        self._frames: list[np.ndarray] = []
        self._times: list[float] = []
        self._hand_frames = 0
        self._gap = 0
        self._since_decode = 0
        self._segment = -1
        self._cut_through = -1  # updates of segments up to this one are discarded (see cut)
        self._jobs: queue.Queue = queue.Queue()
        self._results: queue.Queue = queue.Queue()
        self._busy = threading.Event()
        self._worker = threading.Thread(target=self._run, name="recognizer", daemon=True)
        self._worker.start()
        self.errors = 0
        self.gated: list[Gated] | None = None  # a list: every closed segment's gate decisions are kept (explain)

    @property
    def in_segment(self) -> bool:
        return bool(self._frames)

    def push(self, t_ms: float, landmarks: np.ndarray, hands: bool | None = None) -> list[Update]:
        """One frame's float32[543, 3] landmarks (`hands`: whether a raised hand is in them, if the caller
        knows: features.raised_hands). Returns the updates finished since the last call."""
        if hands is None:
            hands = bool(features.raised_hands(landmarks[None], self.aspect)[0])
        o = self.options
        if hands:
            if not self._frames:
                self._segment += 1
                self._hand_frames = 0
            self._gap = 0
            self._hand_frames += 1
        elif self._frames:
            self._gap += 1
        if self._frames or hands:
            self._frames.append(landmarks)
            self._times.append(t_ms)
            if len(self._frames) > o.max_segment_frames:
                del self._frames[0], self._times[0]
            self._since_decode += 1
        if self._frames and self._gap >= o.drop_frames:
            self._submit(final=True)
            self._frames, self._times, self._gap = [], [], 0
        elif self._frames and self._since_decode >= o.stride_frames and not self._busy.is_set():
            self._submit(final=False)
        return self.poll()

    def end(self) -> None:
        """The stream ended: close the open segment."""
        if self._frames:
            self._submit(final=True)
            self._frames, self._times, self._gap = [], [], 0

    def cut(self) -> None:
        """The utterance so far was committed (a pause with the hand still up, or Send): its frames are
        consumed. The open segment is dropped and its decodes still in flight are discarded, so the
        next readings hold only what is signed from now on (else a learner's long-held letter, sent
        on the pause, would come back inside every later reading of the same segment). A segment that
        had already closed is consumed too: its final decode, still in flight when the pause committed
        the last partial reading, would otherwise come back as a new utterance and join the next word."""
        self._cut_through = self._segment
        if self._frames:
            self._frames, self._times, self._gap, self._hand_frames = [], [], 0, 0

    def poll(self) -> list[Update]:
        out = []
        while True:
            try:
                u = self._results.get_nowait()
            except queue.Empty:
                return out
            if u.segment > self._cut_through:
                out.append(u)

    def wait(self) -> None:
        """Block until every scheduled decode has run (offline evaluation: none skipped while busy)."""
        self._jobs.join()

    def flush(self) -> list[Update]:
        """End the stream, wait for queued decodes, and return every remaining update."""
        self.end()
        self.wait()
        return self.poll()

    def close(self) -> None:
        self._jobs.put(None)

    def _submit(self, final: bool) -> None:
        self._since_decode = 0
        if self._hand_frames < self.options.min_segment_frames:
            if final:
                log.debug("segment %d ignored: %d hand frames", self._segment, self._hand_frames)
                self._record(self._gap, None, "too short")
            return
        n = len(self._frames) - (self._gap if final else 0)  # trailing no-hand frames carry nothing
        keep = rate_limited(self._times[:n], self.options.max_fps)
        frames = features.true_proportions(np.stack([self._frames[i] for i in keep]), self.aspect)
        times = [self._times[i] for i in keep]
        a, b = 0, len(frames)
        if self.options.trim_rise_drop:  # only what is spelled in signing space: not the rise, not the drop
            a, b = features.signing_span(frames, np.asarray(times))
            why = ("span" if b - a < self.options.min_segment_frames * len(keep) / max(n, 1)
                   else "one-handed rule" if features.two_handed(frames[a:b]) else "")  # fingerspelling is one-handed
            if why:
                if final:  # an empty last word closes the segment: a partial read earlier is not left pending
                    log.debug("segment %d not read: %s", self._segment, WHY[why])
                    self._record(self._gap, (frames, times, a, b), why)
                    self._jobs.put((None, times[0], times[-1], self._segment, True))
                return
            frames, times = frames[a:b], times[a:b]
        if final:
            self._record(self._gap, None, "", (a, b))
        self._busy.set()
        self._jobs.put((frames, times[0], times[-1], self._segment, final))

    def _record(self, gap: int, made, why: str, span: tuple[int, int] | None = None) -> None:
        """Keep the gate decisions of a closing segment (only when explaining: `gated` is a list)."""
        if self.gated is None:
            return
        if made is None:
            n = len(self._frames) - gap
            keep = rate_limited(self._times[:n], self.options.max_fps) if n > 0 else []
            frames = features.true_proportions(np.stack([self._frames[i] for i in keep]), self.aspect) if keep \
                else np.zeros((0, *self._frames[0].shape), np.float32)
            times = [self._times[i] for i in keep]
            a, b = span or (0, len(keep))
        else:
            frames, times, a, b = made
        self.gated.append(Gated(self._segment, frames, np.asarray(times, np.float64), (a, b), why))

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                frames, t0, t1, seg, final = job
                try:
                    hyp = self.recognizer.recognize(frames, t0, t1) if frames is not None else Hypothesis("", 0.0, t0, t1)
                except Exception:  # a failed decode must not kill the live loop
                    self.errors += 1
                    log.exception("recognition failed for segment %d", seg)
                    continue
                self._results.put(Update(hyp, seg, final))
            finally:
                if self._jobs.unfinished_tasks <= 1:
                    self._busy.clear()
                self._jobs.task_done()
