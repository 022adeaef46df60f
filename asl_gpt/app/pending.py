"""Who owns the pending box: a small pure state machine. Time is passed in; decisions come out.

    LISTENING ──recognition──▶ RECOGNISED ──focus / typing / delete word──▶ EDITING
        ▲                          │ (auto-)send                          │ send
        └──── after `sent_ms` ──── SENT ◀─────────────────────────────────┘

- RECOGNISED: the box shows the utterance buffer's text, untouched. Only here may a pause send it
  (the buffer's auto-send), and the turn is labelled *signed* with the recognised confidence.
- Delete word on untouched recognised text deletes it in the buffer: the rest stays signed and the
  signer can spell the word again; on the user's own text it is an edit like any keystroke.
- EDITING: the user focused or changed the box; its text is theirs. Recognition goes on in the
  buffer (the caption and the overlay show it) but never enters the box and never sends: the caller
  holds the buffer (`Decision.hold`). Leaving the box unchanged hands it back to recognition.
  Sending labels the turn *edited* (it started from recognised text: that reading and its confidence
  are kept) or *typed* (it started empty: no confidence). Sending or clearing an edit clears the
  buffer: what was recognised while the user typed is not sent behind their back.
- SENT: a turn just left; the box is empty. Recognition, focus or `sent_ms` end it.
- KEPT: the camera stopped while recognised text was pending. The box keeps it, unsent, until the user
  acts: Send asks it (labelled signed, with its confidence), Clear drops it, an edit makes it theirs.
  Until then nothing is sent by itself and new signing stays in the caption (the buffer is held and
  started afresh), so the old text is never put silently in front of the next utterance.

The browser's box is the truth for what the user typed: every user action passes its current text,
so an edit the server has not seen yet (events cross on the wire) is still an edit, never
overwritten and never labelled signed.
"""

from __future__ import annotations

import os.path
from dataclasses import dataclass, field
from enum import Enum


class Phase(str, Enum):
    LISTENING = "listening"
    RECOGNISED = "recognised"
    EDITING = "editing"
    SENT = "sent"
    KEPT = "kept"


@dataclass(frozen=True)
class PendingOptions:
    sent_ms: float = 2500.0  # how long "sent" is shown before the box listens again


@dataclass(frozen=True)
class Turn:
    """A question for the chat, labelled with where its text came from: what the pending box sends and what
    the chat shows and asks (asl_gpt.app.chat); a typed question is one too."""

    text: str
    source: str  # "signed" | "edited" (signed, then edited by the user) | "typed"
    recognised: str = ""  # the recognised reading it started from ("" for typed)
    confidence: float | None = None  # that reading's confidence; None when nothing was recognised
    low_confidence: bool = False  # the reading was below the threshold (restored after a rejection)


@dataclass(frozen=True)
class Decision:
    """What the caller does after an input. None fields mean "unchanged"."""

    turn: Turn | None = None  # send this turn now
    hold: bool | None = None  # True: hold the buffer (no auto-send); False: release it
    clear_buffer: bool = False  # drop what the buffer holds (the user's text replaced it)
    commit_buffer: bool = False  # commit the buffer now and report the result with committed()
    drop_last_word: bool = False  # delete the buffer's last word (untouched recognised text stays recognised)
    reason: str = ""  # why nothing was sent


@dataclass(frozen=True)
class View:
    """What the page shows, read in one piece."""

    phase: Phase
    box: str  # the text the server wants in the box (the browser keeps it while the user edits)
    box_rev: int  # bumped whenever `box` should replace what the browser shows
    recognised: str  # the buffer's text now (shown in the caption even while the user edits)
    confidence: float
    low_confidence: bool
    sent: str  # the last turn's text (shown while SENT)


def _norm(text: str) -> str:
    return " ".join((text or "").split())


@dataclass
class PendingText:
    options: PendingOptions = field(default_factory=PendingOptions)
    phase: Phase = Phase.LISTENING
    _box: str = ""
    _rev: int = 0
    _recognised: str = ""  # the buffer's latest text, confidence and low flag
    _conf: float = 0.0
    _low: bool = False
    _base: str = ""  # the recognised text an edit started from ("" = typed from empty)
    _base_conf: float | None = None
    _base_low: bool = False
    _dirty: bool = False  # the edit differs from its base
    _sent: str = ""
    _sent_at: float | None = None
    _sent_turn: Turn | None = None
    _kept: Turn | None = None  # the signed turn the box keeps since the camera stopped (KEPT, or an edit of it)

    # --- what the page shows ----------------------------------------------------------------
    def view(self) -> View:
        return View(self.phase, self._box, self._rev, self._recognised, self._conf, self._low, self._sent)

    # --- recognition in ---------------------------------------------------------------------
    def recognised(self, text: str, confidence: float, low: bool, now_ms: float) -> Decision:
        """The buffer's current text (after every frame and poll)."""
        text = _norm(text)
        self._recognised, self._conf, self._low = text, float(confidence), bool(low)
        self._expire(now_ms)
        if self.phase in (Phase.EDITING, Phase.KEPT):
            return Decision()  # shown in the caption only: the box is the user's (or kept for them)
        if self.phase is Phase.SENT and not text:
            return Decision()
        self._show(text)
        self.phase = Phase.RECOGNISED if text else Phase.LISTENING
        return Decision()

    def committed(self, text: str, confidence: float, low: bool, now_ms: float) -> Decision:
        """The buffer committed an utterance (a pause, or an explicit send this machine asked for)."""
        turn = Turn(_norm(text), "signed", _norm(text), float(confidence), bool(low))
        self._recognised, self._conf, self._low = "", 0.0, False
        if self.phase in (Phase.EDITING, Phase.KEPT):
            # Committed before the user's first keystroke reached us: it was untouched signed text, and
            # the box (now the user's) keeps their edit, which still started from that reading.
            return Decision(turn=turn)
        self._sent_out(turn, now_ms)
        return Decision(turn=turn, hold=False)

    def tick(self, now_ms: float) -> Decision:
        self._expire(now_ms)
        return Decision()

    def camera_stopped(self, now_ms: float) -> Decision:
        """The camera stopped. Recognised text in the box is kept there, unsent, until the user acts; the
        buffer is held and emptied, so what is signed after a restart starts its own utterance."""
        if self.phase is not Phase.RECOGNISED or not _norm(self._box):
            return Decision()
        self._kept = Turn(_norm(self._box), "signed", _norm(self._box), self._conf, self._low)
        self.phase = Phase.KEPT
        self._recognised, self._conf, self._low = "", 0.0, False
        return Decision(hold=True, clear_buffer=True)

    # --- the user's hands (each passes the box's text as the browser has it) -------------------
    def focus(self, text: str, now_ms: float) -> Decision:
        """The user entered the box, which shows `text`: from now on it is theirs (auto-send holds off).
        An edit starts from what the box showed, which may be older than the latest recognition; the
        confidence kept with it is recognition's now (the buffer's minimum over its parts: never higher)."""
        if self.phase is not Phase.EDITING:
            self._begin_edit(text, now_ms, shown=text)
        return Decision(hold=True)

    def edit(self, text: str, now_ms: float) -> Decision:
        if self._late(text):
            return Decision()
        if self.phase is not Phase.EDITING:
            self._begin_edit(text, now_ms)
        self._box = text
        self._dirty = _norm(text) != self._base
        return Decision(hold=True)

    def blur(self, text: str, now_ms: float) -> Decision:
        """The user left the box: unchanged text goes back to recognition; an edit stays theirs."""
        if self._late(text):
            return Decision()
        self.edit(text, now_ms)
        if self._dirty:
            return Decision(hold=True)
        if self._kept is not None:  # the kept text, unchanged: kept as before, still waiting for Send or Clear
            self.phase = Phase.KEPT
            self._base = ""
            self._show(self._kept.text)
            return Decision(hold=True)
        self.phase = Phase.LISTENING
        self.recognised(self._recognised, self._conf, self._low, now_ms)
        return Decision(hold=False)

    def delete_last_word(self, text: str, now_ms: float) -> tuple[str, Decision]:
        """Untouched recognised text loses its last word in the buffer (the signer can spell it again
        and recognition goes on filling the box); the user's own text is edited like any keystroke."""
        new = " ".join(_norm(text).split()[:-1])
        if self._untouched(_norm(text)):
            return new, Decision(drop_last_word=True)
        d = self.edit(new, now_ms)
        self._rev += 1  # the page shows the shorter text
        return new, d

    def send(self, text: str, now_ms: float) -> Decision:
        """Send what the box holds. Untouched recognised text is committed through the buffer (which
        gates a still-open segment); anything else is the user's text, sent as it is."""
        norm = _norm(text)
        if not norm:
            return Decision(reason="nothing to send: sign or type something in the pending box first")
        kept = self._kept
        if kept is not None and norm == kept.text and (self.phase is Phase.KEPT or not self._dirty):
            self._sent_out(kept, now_ms)  # the kept reading as it was read; what was signed since stays pending
            return Decision(turn=kept, hold=False)
        if self._untouched(norm):
            return Decision(commit_buffer=True, hold=False)
        if self.phase is not Phase.EDITING:  # an edit we had not heard of yet
            self._begin_edit(text, now_ms)
        base = self._base
        turn = (Turn(norm, "edited", base, self._base_conf, self._base_low) if base
                else Turn(norm, "typed"))
        self._recognised, self._conf, self._low = "", 0.0, False
        self._sent_out(turn, now_ms)
        return Decision(turn=turn, hold=False, clear_buffer=True)

    def clear(self, now_ms: float) -> Decision:
        self._kept = None
        self._recognised, self._conf, self._low = "", 0.0, False
        self.phase = Phase.LISTENING
        self._base, self._dirty = "", False
        self._show("", force=True)
        return Decision(hold=False, clear_buffer=True)

    def restored(self, text: str, confidence: float, now_ms: float) -> Decision:
        """The buffer now holds exactly a rejected reading again: show it, marked low confidence."""
        self._recognised, self._conf, self._low = _norm(text), float(confidence), True
        self.phase = Phase.RECOGNISED
        self._base, self._dirty = "", False
        self._show(self._recognised, force=True)
        return Decision(hold=False)

    # --- internals ----------------------------------------------------------------------------
    def _show(self, text: str, force: bool = False) -> None:
        if force or text != self._box:
            self._box = text
            self._rev += 1

    def _begin_edit(self, text: str, now_ms: float, shown: str | None = None) -> None:
        base = _norm(self._box if shown is None else shown)
        if self.phase is Phase.KEPT and self._kept is not None:
            self._base, self._base_conf, self._base_low = self._kept.text, self._kept.confidence, self._kept.low_confidence
        elif self.phase is Phase.RECOGNISED and base:
            self._base, self._base_conf, self._base_low = base, self._conf, self._low
        elif self.phase is Phase.SENT and self._sent_turn is not None and self._sent_turn.source != "typed" \
                and len(os.path.commonprefix([_norm(text), self._sent])) * 2 >= len(self._sent) > 0:
            # The user started typing into the signed text that had just left, before their box was emptied.
            t = self._sent_turn
            self._base, self._base_conf, self._base_low = t.recognised, t.confidence, t.low_confidence
        else:
            self._base, self._base_conf, self._base_low = "", None, False
        self.phase = Phase.EDITING
        self._dirty = False

    def _untouched(self, norm: str) -> bool:
        """The box holds recognised text as it was shown, unchanged by the user."""
        return (self.phase is Phase.RECOGNISED and norm == _norm(self._box)) or \
            (self.phase is Phase.EDITING and not self._dirty and bool(self._base) and norm == self._base)

    def _late(self, text: str) -> bool:
        """An edit or blur of the text that was just sent, arriving after the send (events cross)."""
        return self.phase is Phase.SENT and bool(self._sent) and _norm(text) == self._sent

    def _sent_out(self, turn: Turn, now_ms: float) -> None:
        self._kept = None
        self.phase = Phase.SENT
        self._sent, self._sent_at, self._sent_turn = turn.text, now_ms, turn
        self._base, self._dirty = "", False
        self._show("", force=True)

    def _expire(self, now_ms: float) -> None:
        if self.phase is Phase.SENT and self._sent_at is not None and now_ms - self._sent_at >= self.options.sent_ms:
            self.phase = Phase.LISTENING
            if self._recognised:
                self._show(self._recognised)
                self.phase = Phase.RECOGNISED
