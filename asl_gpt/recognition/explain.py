"""Why a video read as it did: which gate kept or removed which frames, and what the model reads in
what was removed (`asl-gpt recognize VIDEO --explain`).

The gates, in the order a frame meets them:
- raised test (features.raised_hands): a frame opens or holds a segment only with a raised hand; hands in
  view but resting (at the frame's bottom edge, or well below the shoulders) are not read;
- too short: a segment with fewer raised frames than `min_segment_frames` is noise;
- span (features.signing_span): only from the hand's first hold in signing space to its last one; the rise
  and the drop around it are cut (a segment where the hand never holds there is not read at all);
- one-handed rule (features.two_handed): a stretch where the other hand signs beside the signing hand is a
  sign, not a spelled word;
- confidence: a reading below the threshold is rejected (the utterance buffer).
A gate that removes frames the model reads letters in is shown with that reading, so a defect is visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from asl_gpt.recognition import features
from asl_gpt.recognition.streaming import WHY, Gated

MIN_READ_FRAMES = 3  # fewer removed frames than this are not read (no letter fits in them)


@dataclass(frozen=True)
class Removal:
    gate: str  # "raised test" | "too short" | "span" | "one-handed rule"
    t_start: float  # ms
    t_end: float
    frames: int
    reads: str = ""  # what the model reads in the removed frames ('' when nothing or too few frames)
    confidence: float = 0.0


@dataclass
class Stretch:
    """One segment the streaming recognizer closed (or a stretch of resting hands between segments)."""
    t_start: float
    t_end: float
    frames: int
    kept: tuple[float, float] | None = None  # times the model read (None: nothing read)
    removals: list[Removal] = field(default_factory=list)
    reading: str = ""  # the final reading of what was kept
    confidence: float = 0.0
    accepted: bool | None = None  # the confidence gate: None when nothing was read


def _read(recognizer, frames: np.ndarray, times: np.ndarray) -> tuple[str, float]:
    if recognizer is None or len(frames) < MIN_READ_FRAMES:
        return "", 0.0
    h = recognizer.recognize(frames, float(times[0]), float(times[-1]))
    return h.text, float(h.confidence)


def _removal(gate: str, recognizer, frames: np.ndarray, times: np.ndarray) -> Removal:
    text, conf = _read(recognizer, frames, times)
    return Removal(gate, float(times[0]), float(times[-1]), len(frames), text, conf)


def segment_stretch(g: Gated, recognizer, final, min_confidence: float) -> Stretch:
    """The gates' story of one closed segment; `final`: its final Hypothesis (None when not read)."""
    n = len(g.times_ms)
    s = Stretch(float(g.times_ms[0]) if n else 0.0, float(g.times_ms[-1]) if n else 0.0, n)
    if g.removed_by in ("too short", "span") or not n:
        if n:
            s.removals.append(_removal(g.removed_by, recognizer, g.frames, g.times_ms))
        return s
    a, b = g.span
    if a > 0:
        s.removals.append(_removal("span", recognizer, g.frames[:a], g.times_ms[:a]))
    if b < n:
        s.removals.append(_removal("span", recognizer, g.frames[b:], g.times_ms[b:]))
    if g.removed_by:
        s.removals.append(_removal(g.removed_by, recognizer, g.frames[a:b], g.times_ms[a:b]))
        return s
    s.kept = (float(g.times_ms[a]), float(g.times_ms[b - 1]))
    if final is not None:
        s.reading, s.confidence = final.text, float(final.confidence)
        s.accepted = final.confidence >= min_confidence if final.text else None
    return s


def resting_stretches(frames: np.ndarray, times_ms: np.ndarray, aspect: float, segments: list[Stretch],
                      recognizer, max_fps: float = 0.0) -> list[Stretch]:
    """Runs of frames with hands in view but none raised, outside every segment: what the raised test kept
    from being read (read here at the stream's rate, in true proportions)."""
    from asl_gpt.recognition.streaming import rate_limited

    seen = features.hands_present(frames) & ~features.raised_hands(frames, aspect)
    for s in segments:
        seen &= ~((times_ms >= s.t_start) & (times_ms <= s.t_end))
    out = []
    idx = np.flatnonzero(seen)
    for run in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1) if len(idx) else []:
        keep = run[rate_limited(list(times_ms[run]), max_fps)]
        f = features.true_proportions(frames[keep], aspect)
        st = Stretch(float(times_ms[run[0]]), float(times_ms[run[-1]]), len(run))
        st.removals.append(_removal("raised test", recognizer, f, times_ms[keep]))
        out.append(st)
    return out


def explain(frames: np.ndarray, times_ms: np.ndarray, aspect: float, gated, finals: dict, recognizer,
            min_confidence: float, max_fps: float = 0.0) -> list[Stretch]:
    """Every stretch of a stream in time order: its segments (`gated`, with `finals` {segment: Hypothesis})
    and the resting stretches between them."""
    segs = [segment_stretch(g, recognizer, finals.get(g.segment), min_confidence) for g in gated]
    rest = resting_stretches(np.asarray(frames), np.asarray(times_ms, np.float64), aspect, segs, recognizer, max_fps)
    return sorted(segs + rest, key=lambda s: s.t_start)


def gate_totals(stretches: list[Stretch]) -> dict[str, dict[str, int]]:
    """Per gate: the frames it removed and the letters the model reads in them (the confidence gate: the
    letters of readings it rejected)."""
    out = {g: {"frames": 0, "letters": 0} for g in ("raised test", "too short", "span", "one-handed rule", "confidence")}
    for s in stretches:
        for r in s.removals:
            out[r.gate]["frames"] += r.frames
            out[r.gate]["letters"] += len(r.reads.replace(" ", ""))
        if s.accepted is False:
            out["confidence"]["frames"] += s.frames
            out["confidence"]["letters"] += len(s.reading.replace(" ", ""))
    return out


def lines(stretches: list[Stretch], min_confidence: float) -> list[str]:
    """The explanation as text, one stretch after another."""
    def sec(ms: float) -> str:
        return f"{ms / 1000:.2f}s"

    out = []
    for k, s in enumerate(stretches, 1):
        out.append(f"stretch {k}: {sec(s.t_start)} - {sec(s.t_end)} ({s.frames} frames)")
        for r in s.removals:
            why = {"raised test": "hands in view, none raised (resting)", **WHY}.get(r.gate, r.gate)
            what = f"reads {r.reads!r} (confidence {r.confidence:.2f})" if r.reads else "reads nothing"
            if r.gate == "span" and s.kept is not None:
                why = "the rise or the drop around the letters held in signing space"
            out.append(f"  {r.gate:<15} removed {sec(r.t_start)} - {sec(r.t_end)} ({r.frames} frames: {why}); {what}")
        if s.kept is not None:
            out.append(f"  {'kept':<15} {sec(s.kept[0])} - {sec(s.kept[1])}: raised test, span and one-handed rule")
            verdict = ("nothing read" if s.accepted is None and not s.reading else
                       f"{'accepted' if s.accepted else 'rejected'}: {s.confidence:.2f} "
                       f"{'>=' if s.accepted else '<'} {min_confidence:.2f}")
            out.append(f"  {'confidence':<15} reads {s.reading!r}, {verdict}")
    return out or ["no stretch with a hand in view"]
