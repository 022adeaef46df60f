"""Practice: judge a word the learner was asked to spell, letter by letter. Pure numpy; the model runs behind
`WordReader`.

Reading a known word is easier than reading an unknown one, and two kinds of evidence say how well each
letter of it was signed:
- the decoder, teacher-forced: fed SOS and the asked word, each position gives the probability of the asked
  letter after the asked prefix (one decoder pass for the whole word);
- the per-frame letter head (the evidence calibration adapts), force-aligned: each letter of the word gets a
  monotonic span of frames (Viterbi over letter and between-letter states, each letter held at least
  `min_letter_s`), and its mean probability of the asked letter there. The span gives the letter's times.
A letter's score is the weighted geometric mean of the two; it is ok at or above the threshold
(`PracticeConfig`, chosen on synthetic held-out words: docs/practice.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from asl_gpt.config import PracticeConfig
from asl_gpt.errors import InputError
from asl_gpt.recognition import features
from asl_gpt.recognition.decoding import log_softmax
from asl_gpt.words import ALPHABET

HAND_GONE_MS = 500.0  # the hand out of view this long ends a camera take (tracking drops a frame or two, never 0.5 s)
MAX_TAKE_MS = 30000.0  # a camera take stops here whatever the hand does (a learner who forgot to lower it)
MISSING_LOGP = -12.0  # a letter state on a frame without the hand: only where nothing else fits


class WordReader(Protocol):
    """What judging needs of a model (asl_gpt.recognition.recognizer.TFLiteRecognizer)."""

    contract: object

    def letter_logits(self, invariants: np.ndarray) -> np.ndarray:
        """float32[N, 103] signing-hand invariants -> float32[N, 26]."""
        ...

    def teacher_forced(self, frames: np.ndarray, ids: list[int], aspect: float = 1.0, adapter=None) -> np.ndarray:
        """float32[len(ids) + 1, vocab] decoder logits fed SOS + ids."""
        ...


@dataclass(frozen=True)
class LetterVerdict:
    letter: str
    ok: bool
    score: float  # 0..1, the weighted geometric mean of the decoder's and the aligned frames' probability
    read_as: str  # the letter the evidence favours there (the asked one when ok)
    start_s: float  # the letter's aligned span in the recording
    end_s: float

    def as_dict(self) -> dict:
        return {"letter": self.letter, "ok": self.ok, "score": round(self.score, 3), "read_as": self.read_as,
                "start_s": round(self.start_s, 2), "end_s": round(self.end_s, 2)}


@dataclass(frozen=True)
class Tip:
    letter: str
    read_as: str
    text: str  # one sentence from the knowledge base
    source: str  # the page's file name
    heading: str  # the section it comes from

    def as_dict(self) -> dict:
        return {"letter": self.letter, "read_as": self.read_as, "text": self.text, "source": self.source,
                "heading": self.heading}


@dataclass(frozen=True)
class Judgement:
    word: str
    letters: tuple[LetterVerdict, ...]
    tips: tuple[Tip, ...] = field(default=())

    @property
    def share_ok(self) -> float:
        return sum(v.ok for v in self.letters) / max(len(self.letters), 1)

    def as_dict(self) -> dict:
        return {"word": self.word, "letters": [v.as_dict() for v in self.letters],
                "tips": [t.as_dict() for t in self.tips]}


def practice_word(word: str, max_letters: int = PracticeConfig.max_letters) -> str:
    """The asked word as the model spells it (lowercase a-z); InputError for anything else."""
    w = word.strip().lower()
    if not w or not re.fullmatch(r"[a-z]+", w):
        raise InputError(f"practice words are letters a-z only (got {word!r})")
    if len(w) > max_letters:
        raise InputError(f"practice words have at most {max_letters} letters (got {len(w)})")
    return w


# --- the letters' spans: forced alignment over the per-frame letter evidence -----------------------------

def _states(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The alignment graph: (kind[S]: -1 gap, k letter k; predecessors int[S, 3] (-1: none); start bool[S]).
    Order: gap 0, letter 0 (m chained states, the last one loops), gap 1, letter 1, ..., gap n."""
    kind, preds = [], []
    for k in range(n + 1):
        g = len(kind)
        kind.append(-1)
        preds.append([g, g - 1 if k else -1, -1])  # stay, or leave the previous letter
        if k == n:
            break
        for j in range(m):
            s = len(kind)
            kind.append(k)
            if j == 0:  # from the gap, or straight from the previous letter (and itself when it is the last)
                preds.append([g, g - 1 if k else -1, s if m == 1 else -1])
            else:
                preds.append([s - 1, s if j == m - 1 else -1, -1])
    kind_a = np.array(kind)
    start = np.zeros(len(kind), bool)
    start[0] = start[1] = True
    return kind_a, np.array(preds), start


def align(logp: np.ndarray, letters: list[int], min_frames: int, gap_logp: float) -> list[tuple[int, int]]:
    """Each letter's [start, end) frames: the best monotonic path through the word's letters over
    logp float[T, 26] (NaN rows: no hand), each letter for at least `min_frames`, frames between letters
    (transitions, the rise and the drop) scored `gap_logp` each. A recording too short for the word gets
    one frame a letter where it can."""
    t_len, n = len(logp), len(letters)
    m = max(1, min(min_frames, t_len // max(n, 1)))
    if t_len < n:
        return [(min(i, t_len - 1), min(i, t_len - 1) + 1) for i in range(n)]
    kind, preds, start = _states(n, m)
    hand = np.isfinite(logp).all(axis=1)
    lp = np.where(hand[:, None], np.nan_to_num(logp, nan=MISSING_LOGP), MISSING_LOGP)
    gaps = kind < 0
    emit = np.empty((t_len, len(kind)))
    emit[:, gaps] = np.where(hand, gap_logp, 0.0)[:, None]  # no hand between letters costs nothing
    emit[:, ~gaps] = lp[:, np.asarray(letters)[kind[~gaps]]]
    score = np.where(start, emit[0], -np.inf)
    back = np.zeros((t_len, len(kind)), np.int64)
    valid = preds >= 0
    for t in range(1, t_len):
        cand = np.where(valid, score[np.maximum(preds, 0)], -np.inf)
        best = cand.argmax(axis=1)
        back[t] = preds[np.arange(len(kind)), best]
        score = cand[np.arange(len(kind)), best] + emit[t]
    ends = [len(kind) - 1, len(kind) - 2]  # the last gap or the last letter's looping state
    s = max(ends, key=lambda e: score[e])
    path = np.empty(t_len, np.int64)
    for t in range(t_len - 1, -1, -1):
        path[t] = s
        s = back[t, s]
    owner = kind[path]
    return [(int(np.flatnonzero(owner == k)[0]), int(np.flatnonzero(owner == k)[-1]) + 1) for k in range(n)]


# --- judging -------------------------------------------------------------------------------------------

def frame_letter_logp(frames: np.ndarray, reader: WordReader, aspect: float = 1.0, adapter=None) -> np.ndarray:
    """float32[T, 26] log-probabilities of each letter per frame from the letter head (NaN: no signing hand)."""
    pts = features.signing_hand_points(frames, aspect)[0]
    present = np.isfinite(pts).all(axis=(1, 2))
    out = np.full((len(frames), len(ALPHABET)), np.nan, np.float32)
    if present.any():
        inv = features.hand_invariants(pts[present])
        logits = reader.letter_logits(inv)
        if adapter is not None:
            logits = adapter.apply(inv, logits)
        out[present] = log_softmax(np.asarray(logits, np.float64))
    return out


def decoder_letter_logp(frames: np.ndarray, word: str, reader: WordReader, aspect: float = 1.0,
                        adapter=None) -> np.ndarray:
    """float64[len(word), 26]: log P(each letter | the asked prefix, the frames) from the teacher-forced decoder
    (renormalised over the letters: a space or EOS there is not a letter signed)."""
    tok = reader.contract.tokenizer
    ids = tok.encode(word)
    logits = np.asarray(reader.teacher_forced(frames, ids, aspect, adapter), np.float64)[:len(word)]
    letter_ids = tok.encode(ALPHABET)
    return log_softmax(logits[:, letter_ids])


def judge(word: str, frames: np.ndarray, times_ms: np.ndarray, reader: WordReader, aspect: float = 1.0,
          adapter=None, options: PracticeConfig = PracticeConfig()) -> Judgement:
    """Each letter of `word` as signed in frames float32[T, 543, 3] (times_ms float[T]); InputError when no
    hand is in view at all (nothing was signed to judge)."""
    w = practice_word(word, options.max_letters)
    if not len(frames) or not features.hands_present(frames).any():
        raise InputError("no hands in view in the recording: is the signing hand in the frame?")
    times = np.asarray(times_ms, np.float64)
    frame_lp = frame_letter_logp(frames, reader, aspect, adapter)
    dec_lp = decoder_letter_logp(frames, w, reader, aspect, adapter)
    fps = (len(times) - 1) / max((times[-1] - times[0]) / 1000.0, 1e-3) if len(times) > 1 else 30.0
    idx = [ALPHABET.index(c) for c in w]
    spans = align(frame_lp, idx, int(round(options.min_letter_s * fps)), options.gap_logp)
    verdicts = []
    wd = options.decoder_weight
    for i, (c, (a, b)) in enumerate(zip(w, spans)):
        seen = frame_lp[a:b][np.isfinite(frame_lp[a:b]).all(axis=1)]
        frame_p = np.exp(seen).mean(axis=0) if len(seen) else np.full(len(ALPHABET), 1e-6)
        both = wd * dec_lp[i] + (1.0 - wd) * np.log(np.clip(frame_p, 1e-9, 1.0))
        score = float(np.exp(both[idx[i]]))
        ok = score >= options.ok_score
        verdicts.append(LetterVerdict(c, ok, score, ALPHABET[int(both.argmax())],
                                      times[a] / 1000.0, times[min(b, len(times)) - 1] / 1000.0))
    return Judgement(w, tuple(verdicts))


# --- a camera take --------------------------------------------------------------------------------------

class Take:
    """A camera take: frames from the first hand in view until the hand has been gone HAND_GONE_MS. The app's
    live session feeds it (LiveSession.practise) and its tab polls `done`; `asl-gpt practice --camera` too."""

    def __init__(self, word: str):
        self.word = word
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []
        self.aspect = 1.0
        self._first = self._last_hand = None

    def feed(self, t_ms: float, landmarks: np.ndarray, aspect: float = 1.0) -> None:
        if self.done:
            return
        if features.hands_present(landmarks[None])[0]:
            self._last_hand = t_ms
            self._first = t_ms if self._first is None else self._first
        if self._first is not None:
            self.frames.append(landmarks)
            self.times.append(t_ms)
            self.aspect = aspect

    @property
    def started(self) -> bool:
        return self._first is not None

    @property
    def done(self) -> bool:
        if self._first is None or not self.times:
            return False
        return self.times[-1] - self._last_hand > HAND_GONE_MS or self.times[-1] - self._first > MAX_TAKE_MS

    def landmarks(self) -> tuple[np.ndarray, np.ndarray, float]:
        return np.stack(self.frames), np.asarray(self.times, np.float64), self.aspect


# --- tips: one sentence from the knowledge base's letter pages ----------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _sections(knowledge_dir: Path) -> list[tuple[str, str, str]]:
    """(file name, heading, text) of every section of the letter pages and the confusable-letters page."""
    out = []
    for f in sorted(Path(knowledge_dir).glob("*letters*.md")):
        for block in re.split(r"^## ", f.read_text(errors="ignore"), flags=re.M)[1:]:
            heading, _, body = block.partition("\n")
            out.append((f.name, heading.strip(), body.strip()))
    return out


def _names(sentence: str, letter: str) -> bool:
    """The sentence names this letter (a capital standing alone, as the pages write letters)."""
    return re.search(rf"(?<![A-Za-z'\"]){letter.upper()}(?![A-Za-z'])", sentence) is not None


def tip_for(letter: str, read_as: str, knowledge_dir: Path) -> Tip | None:
    """A one-sentence tip for `letter` signed so that it reads as `read_as`, best first: the letter's own page's
    common mistake that names `read_as`, the confusable-letters page's sentence naming both, another letter
    section's sentence naming both, any sentence of the letter's page naming `read_as`; else the letter's description (its section's first sentence)."""
    sections = _sections(knowledge_dir)
    own = [s for s in sections if re.search(rf"\bletters? (?:\w and )?{letter.upper()}\b", s[1])]
    best, rank = None, 0
    for name, heading, body in sections if read_as and read_as != letter else []:
        mine = (name, heading, body) in own
        for sentence in _SENTENCE.split(" ".join(line.lstrip("- ") for line in body.splitlines())):
            if not _names(sentence, read_as) or len(sentence) > 400:
                continue
            both = _names(sentence, letter)
            r = (4 if mine and "mistake" in sentence.lower() else 3 if both and "confus" in name
                 else 2 if both else 1 if mine else 0)
            if r > rank:
                best, rank = Tip(letter, read_as, sentence.strip(), name, heading), r
    if best is not None:
        return best
    for name, heading, body in own:
        return Tip(letter, read_as, _SENTENCE.split(body.replace("\n", " "))[0].strip(), name, heading)
    return None


def with_tips(judgement: Judgement, knowledge_dir: Path | None) -> Judgement:
    """The judgement with one tip per missed letter (each letter and confusion once)."""
    if knowledge_dir is None or not Path(knowledge_dir).is_dir():
        return judgement
    tips, seen = [], set()
    for v in judgement.letters:
        if v.ok or (v.letter, v.read_as) in seen:
            continue
        seen.add((v.letter, v.read_as))
        tip = tip_for(v.letter, v.read_as, Path(knowledge_dir))
        if tip is not None:
            tips.append(tip)
    return replace(judgement, tips=tuple(tips))
