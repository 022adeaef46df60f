"""Hybrid ranking: dense (cosine) candidates from Chroma fused with BM25 keyword candidates.

Reciprocal rank fusion orders the candidates; the relevance gate uses the dense cosine similarity only,
because BM25 scores are not comparable across queries. Pure code over arrays; no Chroma here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asl_gpt.rag.correction import STOPWORDS, tokenize

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


class KeywordIndex:
    """BM25 over the chunk texts (title and section included), plus their embeddings for cosine scores."""

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
