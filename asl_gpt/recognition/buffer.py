"""The confidence-gated utterance buffer: a pure state machine. Time is passed in; events come out.

Recognition arrives per *segment* (hands up ... hands down): partial hypotheses replace each
other, the final one closes the segment. A closed segment whose confidence reaches the threshold
joins the pending utterance; one below it is rejected (with the reason) and kept aside so the user
can restore it. The pending utterance is committed when the signer is done (hands out of view for
`end_pause_ms`, or the text unchanged for `still_pause_ms` with hands up) if auto-send is on, or
on an explicit send. Empty or rejected text is never committed. While the buffer is `held` (the
user is editing the text elsewhere) recognition goes on but nothing is committed automatically, and
text below the threshold (a restored rejected reading) is only ever committed by an explicit send.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from asl_gpt.config import RecognizerConfig as _Cfg


@dataclass(frozen=True)
class BufferOptions:
    """Built from the settings (asl_gpt.recognition.pipeline.buffer_options); the defaults are the settings' (RecognizerConfig)."""
    min_confidence: float = 0.5  # below this a segment is rejected and never sent automatically (a model's contract names its own)
    end_pause_ms: float = _Cfg.end_pause_ms  # hands out of view this long ends the utterance
    still_pause_ms: float = _Cfg.still_pause_ms  # pending text unchanged this long (hand up) ends it too
    auto_send: bool = _Cfg.auto_send  # commit on the pauses above; off: only an explicit send commits
    max_chars: int = _Cfg.max_chars  # longer pending text is cut at a word boundary (a runaway recogniser)


@dataclass(frozen=True)
class Partial:
    """What to show now: the pending text and its confidence (low: below the threshold)."""
    text: str
    confidence: float
    low_confidence: bool


@dataclass(frozen=True)
class Committed:
    """A finished utterance, ready to send as a question."""
    text: str
    confidence: float
    t_start: float
    t_end: float
    low_confidence: bool = False  # below the threshold: a restored rejected reading the user sent anyway


@dataclass(frozen=True)
class Rejected:
    text: str
    confidence: float
    reason: str
    t_start: float = 0.0
    t_end: float = 0.0


BufferEvent = Partial | Committed | Rejected


@dataclass(frozen=True)
class _Part:
    text: str
    confidence: float
    t_start: float
    t_end: float


@dataclass
class UtteranceBuffer:
    options: BufferOptions = field(default_factory=BufferOptions)
    _parts: list[_Part] = field(default_factory=list)  # accepted segments (or user edits) of this utterance
    _current: _Part | None = None  # the open segment's latest hypothesis
    _last_change_ms: float | None = None
    _hands_gone_since: float | None = None
    last_rejected: Rejected | None = None
    held: bool = False  # the user is editing: pauses never commit (an explicit send still does)

    # --- what the UI shows -------------------------------------------------------------------
    @property
    def text(self) -> str:
        parts = [p.text for p in self._parts]
        if self._current and self._current.text:
            parts.append(self._current.text)
        return " ".join(t for t in parts if t)

    @property
    def confidence(self) -> float:
        confs = [p.confidence for p in self._parts if p.text]
        if self._current and self._current.text:
            confs.append(self._current.confidence)
        return min(confs) if confs else 0.0

    def partial(self) -> Partial:
        return Partial(self.text, self.confidence, bool(self.text) and self.confidence < self.options.min_confidence)

    def sends_in(self, now_ms: float) -> float | None:
        """Milliseconds until a pause commits the pending text by itself (0: on the next frame), or None when no
        pause will: nothing pending, auto-send off, held, below the threshold, or a signing hand still up with
        the still-pause not counting (the status says which, never "sending" while nothing is)."""
        if not self.options.auto_send or self.held or not self.text or self.confidence < self.options.min_confidence:
            return None
        if self._hands_gone_since is not None:
            return max(0.0, self.options.end_pause_ms - (now_ms - self._hands_gone_since))
        return None

    # --- recognition in -----------------------------------------------------------------------
    def push(self, text: str, confidence: float, t_start: float, t_end: float, now_ms: float,
             final: bool = False) -> list[BufferEvent]:
        """A hypothesis for the open segment; `final` closes the segment."""
        text = " ".join(text.split())
        part = _Part(text, float(confidence), t_start, t_end)
        events: list[BufferEvent] = []
        if not final:
            if self._current is None or part.text != self._current.text:
                self._last_change_ms = now_ms
            self._current = part
            return [self.partial()]
        self._current = None
        if not part.text:
            return [self.partial()]
        if part.confidence < self.options.min_confidence:
            self.last_rejected = Rejected(
                part.text, part.confidence,
                f"confidence {part.confidence:.2f} is below the threshold {self.options.min_confidence:.2f}",
                part.t_start, part.t_end)
            events.append(self.last_rejected)
        else:
            self._parts.append(part)
            self._trim()
        self._last_change_ms = now_ms
        events.append(self.partial())
        return events

    def tick(self, now_ms: float, hands_visible: bool) -> list[BufferEvent]:
        """Advance time; commits on the end-of-utterance pauses when auto-send is on."""
        if hands_visible:
            self._hands_gone_since = None
        elif self._hands_gone_since is None:
            self._hands_gone_since = now_ms
        if not self.options.auto_send or self.held or not self.text:
            return []
        if self.confidence < self.options.min_confidence:  # a restored rejected reading: the user sends it
            return []
        if self._hands_gone_since is not None and now_ms - self._hands_gone_since >= self.options.end_pause_ms:
            return self._close_current() + self._commit()  # a segment whose final decode never came is closed too
        if hands_visible and self._last_change_ms is not None \
                and now_ms - self._last_change_ms >= self.options.still_pause_ms:
            return self._close_current() + self._commit()
        return []

    # --- the user's hands ---------------------------------------------------------------------
    def send(self, now_ms: float) -> list[BufferEvent]:
        """Explicit send: close the open segment (gated like any other) and commit what is pending."""
        events = self._close_current()
        if not self._parts:
            return events or [Rejected("", 0.0, "nothing to send")]
        return events + self._commit()

    def clear(self) -> list[BufferEvent]:
        self._parts.clear()
        self._current = None
        self._last_change_ms = None
        return [self.partial()]

    def delete_last_word(self) -> list[BufferEvent]:
        """Drop the last word; what remains keeps its own confidence (it is still recognised text).
        A word of the still-open segment may come back with that segment's next hypothesis."""
        if self._current is not None and self._current.text:
            self._current = replace(self._current, text=" ".join(self._current.text.split()[:-1]))
        elif self._parts:
            last = self._parts[-1]
            words = last.text.split()[:-1]
            if words:
                self._parts[-1] = replace(last, text=" ".join(words))
            else:
                self._parts.pop()
        return [self.partial()]

    def edit(self, text: str) -> list[BufferEvent]:
        """The user's own text replaces the pending utterance; it counts as certain (confidence 1)."""
        text = " ".join(text.split())[: self.options.max_chars]
        t0 = self._parts[0].t_start if self._parts else 0.0
        t1 = self._parts[-1].t_end if self._parts else 0.0
        self._parts = [_Part(text, 1.0, t0, t1)] if text else []
        self._current = None
        return [self.partial()]

    def restore_rejected(self) -> list[BufferEvent]:
        """Replace the pending text with exactly the last rejected reading, at its own (low) confidence.

        Nothing is joined to it (what was pending is dropped): the user asked for that reading back,
        and it stays marked low confidence, so only an explicit send commits it."""
        rej = self.last_rejected
        if rej is None:
            return []
        self.last_rejected = None
        self._parts = [_Part(rej.text, rej.confidence, rej.t_start, rej.t_end)]
        self._current = None
        self._last_change_ms = None
        return [self.partial()]

    def set_options(self, options: BufferOptions) -> None:
        self.options = options

    # --- internals ----------------------------------------------------------------------------
    def _close_current(self) -> list[BufferEvent]:
        if self._current is None:
            return []
        cur = self._current
        events = self.push(cur.text, cur.confidence, cur.t_start, cur.t_end, self._last_change_ms or 0.0, final=True)
        return [e for e in events if isinstance(e, Rejected)]

    def _commit(self) -> list[BufferEvent]:
        text, conf = self.text, self.confidence
        if not text:
            return []
        c = Committed(text, conf, self._parts[0].t_start, self._parts[-1].t_end, conf < self.options.min_confidence)
        self._parts = []
        self._current = None
        self._last_change_ms = None
        return [c, self.partial()]

    def _trim(self) -> None:
        while len(self.text) > self.options.max_chars and self._parts:
            last = self._parts[-1]
            cut = last.text[: max(0, len(last.text) - (len(self.text) - self.options.max_chars))]
            cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
            self._parts[-1] = replace(last, text=cut)
            if not cut:
                self._parts.pop()
