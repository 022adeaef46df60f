"""The competition's metric and friends. Pure Python: used by training, eval and tests.

Normalized total Levenshtein = (N - D) / N with N the total characters of the references and D the
total edit distance over all pairs (the Google ASL Fingerspelling competition's score; 1 is perfect,
it can be negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def normalized_total_levenshtein(references: Iterable[str], predictions: Iterable[str]) -> float:
    """The competition metric (N - D) / N; see `score` for the other figures of the same pass."""
    return score(references, predictions).score


@dataclass(frozen=True)
class Scores:
    n: int  # sequences
    chars: int  # N, reference characters
    distance: int  # D, total edit distance
    score: float  # (N - D) / N
    exact: float  # share of sequences decoded exactly

    def as_dict(self) -> dict:
        return {"sequences": self.n, "chars": self.chars, "distance": self.distance,
                "normalized_levenshtein": round(self.score, 4), "exact": round(self.exact, 4)}


def score(references: Iterable[str], predictions: Iterable[str]) -> Scores:
    refs, preds = list(references), list(predictions)
    if len(refs) != len(preds):
        raise ValueError(f"{len(refs)} references but {len(preds)} predictions")
    n = sum(len(r) for r in refs)
    d = sum(levenshtein(r, p) for r, p in zip(refs, preds))
    exact = sum(r == p for r, p in zip(refs, preds)) / len(refs) if refs else 0.0
    return Scores(len(refs), n, d, (n - d) / n if n else float(d == 0), exact)
