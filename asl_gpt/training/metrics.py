"""The competition's metric and friends. Pure Python: used by training, eval and tests.

Normalized total Levenshtein = (N - D) / N with N the total characters of the references and D the
total edit distance over all pairs (the Google ASL Fingerspelling competition's score; 1 is perfect,
it can be negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from asl_gpt.words import edit_totals, levenshtein  # noqa: F401  (one definition; the runtime uses them too)


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
    n, d, normalized = edit_totals(refs, preds)
    exact = sum(r == p for r, p in zip(refs, preds)) / len(refs) if refs else 0.0
    return Scores(len(refs), n, d, normalized, exact)


OPS = ("insert", "delete", "substitute")
PLACES = ("start", "inside", "end")


def edit_operations(reference: str, prediction: str) -> dict[str, dict[str, int]]:
    """The edits of one minimal alignment of `prediction` to `reference`, by kind (insert: a character
    read that was not spelled; delete: a spelled character not read; substitute) and place (start:
    before the first character read right, end: after the last one, inside: between). With no
    character right every edit is 'inside'."""
    n, m = len(reference), len(prediction)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (reference[i - 1] != prediction[j - 1]))
    ops, i, j = [], n, m  # backtrace, preferring matches
    while i or j:
        if i and j and reference[i - 1] == prediction[j - 1] and d[i][j] == d[i - 1][j - 1]:
            ops.append("match")
            i, j = i - 1, j - 1
        elif i and j and d[i][j] == d[i - 1][j - 1] + 1:
            ops.append("substitute")
            i, j = i - 1, j - 1
        elif j and d[i][j] == d[i][j - 1] + 1:
            ops.append("insert")
            j -= 1
        else:
            ops.append("delete")
            i -= 1
    ops.reverse()
    matched = [k for k, o in enumerate(ops) if o == "match"]
    out = {op: dict.fromkeys(PLACES, 0) for op in OPS}
    for k, o in enumerate(ops):
        if o == "match":
            continue
        place = "inside" if not matched or matched[0] < k < matched[-1] else ("start" if k < matched[0] else "end")
        out[o][place] += 1
    return out


def add_operations(total: dict[str, dict[str, int]], one: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {op: {p: total.get(op, {}).get(p, 0) + one[op][p] for p in PLACES} for op in OPS}
