"""Hybrid ranking: dense (cosine) candidates from the embeddings held in memory fused with BM25 keyword candidates.

Reciprocal rank fusion orders the candidates; the relevance gate uses the dense cosine similarity only,
because BM25 scores are not comparable across queries. Pure code over arrays; no Chroma here (it stores the
chunks and their embeddings; `index.py` loads them into a `SearchIndex`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from asl_gpt.rag.correction import tokenize
from asl_gpt.rag.lexicon import STOPWORDS
from asl_gpt.rag.questions import SIGN_ENTRY, asked_letter, asked_sign, defined_term, definition_position

RRF_K = 60  # the usual reciprocal-rank-fusion constant: dampens the weight of the very first ranks


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with where it comes from and how relevant it is."""

    id: str
    text: str
    source: str  # absolute path of the document
    title: str
    section: str
    position: int  # chunk number within the document
    score: float  # cosine similarity to the query in [−1, 1]: the relevance gate compares this


def bm25_tokens(text: str) -> list[str]:
    return [w for w in tokenize(text) if w not in STOPWORDS]


class SearchIndex:
    """The whole corpus in memory, searched two ways: BM25 over the chunk texts (title and section included) and
    the nearest chunks by cosine over their embeddings (Chroma stores them; the search runs here)."""

    def __init__(self, ids: list[str], texts: list[str], embeddings: np.ndarray | None):
        from rank_bm25 import BM25Okapi

        self.ids = ids
        self.pos = {cid: i for i, cid in enumerate(ids)}
        tokens = [bm25_tokens(t) for t in texts]
        self.bm25 = BM25Okapi(tokens) if any(tokens) else None
        self.embeddings = embeddings  # [N, D] normalised, or None

    def top(self, query: str, n: int) -> list[str]:
        if self.bm25 is None:
            return []
        q = bm25_tokens(query)
        if not q:
            return []
        scores = self.bm25.get_scores(q)
        order = np.argsort(-scores)[:n]
        return [self.ids[i] for i in order if scores[i] > 0]

    def nearest(self, query_vec: np.ndarray, n: int) -> list[tuple[str, float]] | None:
        """The `n` chunks most similar to `query_vec` with their cosine, best first, over every chunk (exact: a few
        thousand dot products); None without embeddings."""
        if self.embeddings is None or not len(self.ids):
            return None
        scores = self.embeddings @ query_vec
        order = np.argsort(-scores, kind="stable")[:n]
        return [(self.ids[i], float(scores[i])) for i in order]

    def cosine(self, cid: str, query_vec: np.ndarray) -> float | None:
        if self.embeddings is None or cid not in self.pos:
            return None
        return float(self.embeddings[self.pos[cid]] @ query_vec)


def fuse(dense: list[str], keyword: list[str]) -> list[str]:
    """Ids ordered by reciprocal rank fusion of the two rankings (ties keep the dense order)."""
    score: dict[str, float] = {}
    for ranking in (dense, keyword):
        for rank, cid in enumerate(ranking):
            score[cid] = score.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    order = {cid: i for i, cid in enumerate(dense + [c for c in keyword if c not in dense])}
    return sorted(score, key=lambda c: (-score[c], order[c]))


_ENTRY = re.compile(r"^\s*[-*+]\s+" + SIGN_ENTRY.pattern, re.M)  # "- **THANK-YOU**: ..." (a sign's entry)


def names_letter(heading: str, letter: str) -> bool:
    """Is the heading about that letter? ("How to sign the letter I in ASL", "How to sign the letters S and T")"""
    return bool(re.search(rf"\bletters?\s+(?:[A-Z](?:,\s*|\s+and\s+|\s+to\s+))*{letter}\b", heading, re.I))


def preferred(question: str, texts: dict[str, tuple[str, str]]) -> list[str]:
    """Chunks that answer the question by their form, whatever their similarity, best first: for "what is X", the
    chunks that define X (the earliest definition first: the passage that says what fingerspelling is, not one
    of the twenty that use the word most); for "the letter I", the chunks whose section heading names that
    letter; for "sign for please", the chunks with a dictionary entry **PLEASE**. `texts`: chunk id -> (section
    heading, text)."""
    term = defined_term(question)
    if term:
        found = sorted((pos, cid) for cid, (_, t) in texts.items()
                       if (pos := definition_position(t, term)) is not None)
        if found:
            return [cid for _, cid in found]
    letter = asked_letter(question)
    if letter:
        return [cid for cid, (section, _) in texts.items() if names_letter(section, letter)]
    topic = asked_sign(question)  # "sign for please": the chunk with the dictionary entry **PLEASE**, all it asks
    return [cid for cid, (_, t) in texts.items() if any(
        topic and set(tokenize(e)) - STOPWORDS == topic for e in _ENTRY.findall(t))]
