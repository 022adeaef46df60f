"""Measuring retrieval: simulated fingerspelling noise and hit rate over questions whose document is known.

Used by `asl-gpt bench rag` and by the integration tests. A "hit" means a passage of the expected
document is among the top k. The noise imitates a fingerspelling recogniser: lowercase, no punctuation,
letters replaced by look-alike handshapes, dropped or doubled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from asl_gpt.rag.correction import CONFUSABLE_GROUPS, tokenize

# Questions a signer would ask, a word naming the file that answers them (a substring of its
# name under knowledge/), and facts a right answer contains (any one). Written for the default knowledge base.
QUESTIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("When was the American School for the Deaf founded?", "15-history", ("1817",)),
    ("How do you fingerspell the letter J?", "03-letters-g-to-l", ("pinky", "little finger", "hook", " i ")),
    ("What did William Stokoe publish in 1960?", "16-gallaudet", ("sign language structure",)),
    ("Who became president of Gallaudet after the Deaf President Now protest?", "17-deaf-president",
     ("jordan",)),
    ("How do I sign the number seven?", "11-numbers", ("ring finger",)),
    ("What is topic comment structure in ASL grammar?", "12-asl-grammar", ("topic",)),
    ("What are classifiers in ASL?", "14-classifiers", ("classifier",)),
    ("Who pays for a sign language interpreter at a hospital?", "21-access-rights", ("hospital", "pays", "cost")),
    ("Where should I hold my hand when I fingerspell?", "07-fingerspelling-technique", ("shoulder", "chin")),
    ("What is lexicalized fingerspelling?", "09-lexicalized", ("loan", "sign")),
    ("Is sign language the same all over the world?", "22-other-sign-languages", ("not universal", "no")),
    ("Does ASL GPT send my webcam video anywhere?", "30-asl-gpt-privacy", ("device", "computer")),
    ("What does the confidence number in ASL GPT mean?", "29-asl-gpt-confidence", ("threshold", "sure")),
    ("How should I light the room for the camera?", "28-asl-gpt-camera", ("light",)),
    ("How do I tell the letters M and N apart?", "confusable", ("thumb",)),
    ("How can I practice reading fingerspelling faster?", "08-fingerspelling-speed", ("practice", "read")),
]


@dataclass(frozen=True)
class HitRate:
    hits: int
    total: int

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.hits}/{self.total} ({100 * self.rate:.0f}%)"


def fingerspelling_noise(text: str, rate: float, rng: random.Random) -> str:
    """Lowercase words without punctuation; each letter is, with probability `rate`, swapped for a
    confusable letter (70%), a random letter (10%), dropped (10%) or doubled (10%)."""
    confusable: dict[str, list[str]] = {}
    for g in CONFUSABLE_GROUPS:
        for a in g:
            confusable.setdefault(a, []).extend(b for b in g if b != a)
    words = []
    for w in tokenize(text):
        out = []
        for ch in w:
            if not ch.isalpha() or rng.random() >= rate:
                out.append(ch)
                continue
            r = rng.random()
            if r < 0.7 and ch in confusable:
                out.append(rng.choice(confusable[ch]))
            elif r < 0.8:
                out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
            elif r < 0.9:
                pass
            else:
                out.append(ch + ch)
        words.append("".join(out) or w)
    return " ".join(words)


def is_hit(passages, expected: str) -> bool:
    return any(expected.lower() in Path(p.source).name.lower() for p in passages)


def hit_rate(search, cases: list[tuple[str, str]], k: int) -> HitRate:
    """`search(query, k) -> passages`; counts the cases whose expected document is in the top k."""
    hits = sum(is_hit(search(q, k), expected) for q, expected in cases)
    return HitRate(hits, len(cases))


def noisy_cases(cases: list[tuple[str, str]], rate: float, seed: int = 0, copies: int = 3) -> list[tuple[str, str]]:
    """`copies` noisy versions of each question (seeded: the same figures on every run)."""
    rng = random.Random(seed)
    return [(fingerspelling_noise(q, rate, rng), exp) for q, exp in cases for _ in range(copies)]
