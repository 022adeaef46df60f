"""Select, the passages numbered: a passage as the prompt gives it and the answer cites it (passage n is [n])."""

from __future__ import annotations

from dataclasses import dataclass

from asl_gpt.rag.index import display_path
from asl_gpt.rag.retrieval import Passage


@dataclass(frozen=True)
class Source:
    """A passage as the answer cites it."""

    n: int  # the citation number: [n] in the answer
    path: str  # shown to people (relative to the project when inside it)
    title: str
    section: str
    passage: str
    score: float  # cosine similarity to the question
    cited: bool = False  # the answer cites [n]


def source_of(n: int, p: Passage) -> Source:
    """Passage `p` as source [n], its path as the user reads it."""
    return Source(n, display_path(p.source), p.title, p.section, p.text, round(p.score, 4))


def to_sources(passages: list[Passage]) -> tuple[Source, ...]:
    """The passages numbered for citing, from 1."""
    return tuple(source_of(n, p) for n, p in enumerate(passages, 1))
