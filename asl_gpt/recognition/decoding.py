"""Decoding against a "logits" interface, and the confidence that goes with it. Pure numpy.

The decoder is any callable `step(tokens int32[1, L]) -> logits float32[1, L, V]` (the TFLite
`decode` signature with its memory bound, or a torch model in training). Tokens start as
[SOS, PAD, PAD, ...]; position i's logits choose token i + 1, until EOS or L - 1 characters.

Greedy decoding reads letter by letter. Word-aware decoding then rescores the reading's words
against English: each word's one-edit neighbours that are English words are scored by the model
itself (one teacher-forced decoder call gives a whole candidate's log-probability) plus a weighted
word-frequency prior; a word the model reads confidently but English lacks (a name) stays as read.
A word the lexicon lacks also gets the best words of a beam search over the decoder's own scores
constrained to the lexicon's prefixes (`lexicon_beam`), so a reading two or more edits away from
the word the evidence supports ("karsgarbe") can still reach it; the same scoring then decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

Step = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Decoded:
    ids: tuple[int, ...]  # character ids, without SOS/EOS
    token_probs: tuple[float, ...]  # softmax probability of each chosen id (EOS included when reached)

    @property
    def token_confidence(self) -> float:
        """Geometric mean of the chosen tokens' probabilities (EOS included); 0.0 when nothing was decoded."""
        if not self.token_probs:
            return 0.0
        return float(np.exp(np.mean(np.log(np.clip(self.token_probs, 1e-9, 1.0)))))


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def prompt(ids: list[int], length: int, sos_id: int, pad_id: int) -> np.ndarray:
    """int32[1, length] decoder input: SOS, then `ids`, then PAD."""
    tokens = np.full((1, length), pad_id, dtype=np.int32)
    tokens[0, 0] = sos_id
    tokens[0, 1:1 + len(ids)] = ids
    return tokens


def greedy_decode(step: Step, length: int, sos_id: int, eos_id: int, pad_id: int,
                  n_symbols: int) -> Decoded:
    """Decode up to `length - 1` characters; special ids other than EOS are never emitted."""
    tokens = prompt([], length, sos_id, pad_id)
    ids: list[int] = []
    probs: list[float] = []
    for i in range(length - 1):
        logits = np.asarray(step(tokens))[0, i]
        p = softmax(logits.astype(np.float64))
        allowed = p.copy()
        allowed[n_symbols:] = 0.0  # PAD / SOS are never outputs ...
        allowed[eos_id] = p[eos_id]  # ... EOS is
        nxt = int(np.argmax(allowed))
        probs.append(float(p[nxt]))
        if nxt == eos_id:
            break
        ids.append(nxt)
        tokens[0, i + 1] = nxt
    return Decoded(tuple(ids), tuple(probs))


def sequence_logprob(step: Step, ids: list[int], length: int, sos_id: int, eos_id: int, pad_id: int) -> float:
    """log P(ids, then EOS) under the decoder: one teacher-forced call. -inf if it does not fit."""
    if len(ids) > length - 1:
        return float("-inf")
    logp = log_softmax(np.asarray(step(prompt(ids, length, sos_id, pad_id)))[0, :len(ids) + 1].astype(np.float64))
    targets = list(ids) + [eos_id]
    return float(sum(logp[i, t] for i, t in enumerate(targets)))


@dataclass(frozen=True)
class WordPrior:
    """log P(word) over a vocabulary; `unknown` for any other word (a name, a rare word)."""
    logp: dict[str, float]
    unknown: float

    @classmethod
    def from_counts(cls, counts: dict[str, int], size: int = 30000, unknown_margin: float = 3.0) -> "WordPrior":
        """The `size` most frequent alphabetic words; unknown words are e^margin times rarer than the rarest kept."""
        top = sorted(((c, w) for w, c in counts.items() if w.isalpha() and w.isascii()), reverse=True)[:size]
        total = float(sum(c for c, _ in top)) or 1.0
        logp = {w: float(np.log(c / total)) for c, w in top}
        floor = min(logp.values(), default=0.0)
        return cls(logp, floor - unknown_margin)

    def __call__(self, word: str) -> float:
        return self.logp.get(word, self.unknown)


@dataclass(frozen=True)
class Lexicon:
    """Words the beam may end on, and every prefix of them."""
    words: frozenset[str]
    prefixes: frozenset[str]

    @classmethod
    def of(cls, words) -> "Lexicon":
        ws = frozenset(w for w in words if len(w) >= 2 and w.isalpha() and w.isascii())
        return cls(ws, frozenset(w[:i] for w in ws for i in range(1, len(w) + 1)))


def lexicon_beam(step: Step, prefix: list[int], encode: Callable[[str], list[int]], end_id: int, length: int,
                 pad_id: int, sos_id: int, lexicon: Lexicon, alphabet: str, max_len: int, beam: int = 3) -> list[str]:
    """The `beam` best lexicon words after the token ids `prefix`, by the decoder's log-probability of the word
    followed by `end_id` (the space before the next word, or EOS): a beam search over the decoder's own
    scores in which every hypothesis stays a prefix of a lexicon word. `beam` decoder calls a letter."""
    char_ids = {c: encode(c)[0] for c in alphabet}
    beams: list[tuple[str, float]] = [("", 0.0)]
    done: list[tuple[float, str]] = []
    for _ in range(max_len + 1):
        grown: list[tuple[float, str]] = []
        for word, lp in beams:
            ids = prefix + encode(word)
            if len(ids) >= length - 1:
                continue
            logp = log_softmax(np.asarray(step(prompt(ids, length, sos_id, pad_id)))[0, len(ids)].astype(np.float64))
            if word in lexicon.words:
                done.append((lp + logp[end_id], word))
            grown += [(lp + logp[i], word + c) for c, i in char_ids.items() if word + c in lexicon.prefixes]
        # a longer word only loses probability: a hypothesis already below the `beam`-th finished word is dropped
        floor = sorted((lp for lp, _ in done), reverse=True)[beam - 1] if len(done) >= beam else float("-inf")
        beams = [(w, lp) for lp, w in sorted(grown, reverse=True)[:beam] if lp > floor]
        if not beams:
            break
    return [w for _, w in sorted(done, reverse=True)[:beam]]  # each one costs word_aware a scoring call


def word_aware(text: str, score: Callable[[str], float], prior: WordPrior, weight: float,
               neighbours: Callable[[str], set[str]], max_candidates: int = 16,
               beam: Callable[[list[str], int], list[str]] | None = None) -> str:
    """Rescore each word of two letters or more in `text` (left to right, the others fixed): the reading
    itself or an English neighbour, maximising score(whole text) + weight * log P(word). `score` is the model's
    log-probability of a text; `neighbours(word)` proposes spellings (one edit away); `beam(words, i)`, for a
    word the prior does not know, proposes words further away (lexicon_beam)."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if not word.isalpha() or len(word) < 2 or weight <= 0:  # a single letter is spelled on purpose (I, a, initials)
            continue
        # A held letter read as a run ("appppp"): English never triples a letter, so the reading itself
        # keeps at most two, and the run spelled once is a candidate too.
        word = words[i] = re.sub(r"(.)\1{2,}", r"\1\1", word)
        once = re.sub(r"(.)\1+", r"\1", word)
        near = neighbours(word) | ({once} | neighbours(once) if once != word else set())
        cands = sorted((c for c in near if len(c) >= 2 and c in prior.logp), key=prior, reverse=True)[:max_candidates]
        if beam is not None and word not in prior.logp:  # far readings: the decoder's own best lexicon words
            cands += [c for c in beam(words, i) if c not in cands]
        best, best_score = word, None
        for cand in [word] + [c for c in cands if c != word]:
            s = score(" ".join(words[:i] + [cand] + words[i + 1:])) + weight * prior(cand)
            if best_score is None or s > best_score:
                best, best_score = cand, s
        words[i] = best
    return " ".join(words)


@dataclass(frozen=True)
class Reading:
    """One reading of a window with the decoder's evidence for each of its letters."""
    ids: tuple[int, ...]  # character ids, without SOS/EOS
    logprob: float  # log P(ids, then EOS) under the decoder
    posteriors: np.ndarray  # float64[len(ids), V]: log-probabilities of every id at each position, given the prefix read


def reading(step: Step, ids, length: int, sos_id: int, eos_id: int, pad_id: int) -> Reading:
    """A Reading of `ids`: one teacher-forced decoder call gives every position's posterior."""
    ids = tuple(int(i) for i in ids)
    rows = log_softmax(np.asarray(step(prompt(list(ids), length, sos_id, pad_id)))[0, :len(ids) + 1].astype(np.float64))
    lp = float(sum(rows[i, t] for i, t in enumerate(ids + (eos_id,))))
    return Reading(ids, lp, rows[:len(ids)])


def nbest_decode(step: Step, length: int, sos_id: int, eos_id: int, pad_id: int, allowed: list[int],
                 n: int) -> list[Reading]:
    """The `n` most probable readings (ended by EOS) of a beam search `n` wide over the `allowed` ids, best
    first; `n` decoder calls a character."""
    allowed = np.asarray(allowed)
    beams: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    done: list[tuple[float, tuple[int, ...]]] = []
    for i in range(length - 1):
        grown: list[tuple[float, tuple[int, ...]]] = []
        for ids, lp in beams:
            row = log_softmax(np.asarray(step(prompt(list(ids), length, sos_id, pad_id)))[0, i].astype(np.float64))
            done.append((lp + row[eos_id], ids))
            grown += [(lp + row[c], ids + (int(c),)) for c in allowed[np.argsort(-row[allowed])[:n]]]
        floor = sorted((lp for lp, _ in done), reverse=True)[n - 1] if len(done) >= n else float("-inf")
        beams = [(ids, lp) for lp, ids in sorted(grown, reverse=True)[:n] if lp > floor]  # a longer reading only loses
        if not beams:
            break
    best = sorted(done, reverse=True)[:n]
    return [reading(step, ids, length, sos_id, eos_id, pad_id) for _, ids in best]
