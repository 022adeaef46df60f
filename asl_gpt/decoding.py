"""Decoding against a "logits" interface, and the confidence that goes with it. Pure numpy.

The decoder is any callable `step(tokens int32[1, L]) -> logits float32[1, L, V]` (the TFLite
`decode` signature with its memory bound, or a torch model in training). Tokens start as
[SOS, PAD, PAD, ...]; position i's logits choose token i + 1, until EOS or L - 1 characters.

Greedy decoding reads letter by letter. Word-aware decoding then rescores the reading's words
against English: each word's one-edit neighbours that are English words are scored by the model
itself (one teacher-forced decoder call gives a whole candidate's log-probability) plus a weighted
word-frequency prior; a word the model reads confidently but English lacks (a name) stays as read.
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


def greedy_decode(step: Step, length: int, sos_id: int, eos_id: int, pad_id: int,
                  n_symbols: int) -> Decoded:
    """Decode up to `length - 1` characters; special ids other than EOS are never emitted."""
    tokens = np.full((1, length), pad_id, dtype=np.int32)
    tokens[0, 0] = sos_id
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
    tokens = np.full((1, length), pad_id, dtype=np.int32)
    tokens[0, 0] = sos_id
    tokens[0, 1:1 + len(ids)] = ids
    logits = np.asarray(step(tokens))[0, :len(ids) + 1].astype(np.float64)
    logp = logits - logits.max(-1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
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


def word_aware(text: str, score: Callable[[str], float], prior: WordPrior, weight: float,
               neighbours: Callable[[str], set[str]], max_candidates: int = 16) -> str:
    """Rescore each word of two letters or more in `text` (left to right, the others fixed): the reading
    itself or an English neighbour, maximising score(whole text) + weight * log P(word). `score` is the model's
    log-probability of a text; `neighbours(word)` proposes spellings (one edit away)."""
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
        best, best_score = word, None
        for cand in [word] + [c for c in cands if c != word]:
            s = score(" ".join(words[:i] + [cand] + words[i + 1:])) + weight * prior(cand)
            if best_score is None or s > best_score:
                best, best_score = cand, s
        words[i] = best
    return " ".join(words)
