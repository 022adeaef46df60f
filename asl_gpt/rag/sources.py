"""The passages numbered, shared by every stage after retrieve: a passage as the prompt gives it and the answer cites
it (passage n is [n]), its path as people read it, and an uncited sentence attributed to the passage whose words it
uses (the check stage before verifying, the cite stage after). Pure code over strings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from asl_gpt import resources
from asl_gpt.config import PROJECT_ROOT
from asl_gpt.rag.retrieval import Passage
from asl_gpt.rag.text import CITATION, SENTENCE_BREAK, content_words


def display_path(source: str) -> str:
    """A source as the user reads it: a shipped document as `knowledge/NAME.md` whether it comes from the
    checkout or from an installed wheel (where it sits in site-packages), other checkout files relative to
    it, anything else as given."""
    for base in (resources.knowledge_dir().parent, PROJECT_ROOT):
        try:
            return Path(source).relative_to(base).as_posix()
        except ValueError:
            continue
    return source


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


def attribute_sentences(text: str, sources: tuple[Source, ...], min_overlap: float = 0.5) -> str:
    """Append [n] to each uncited sentence whose content words come mostly from passage n.

    Small models often cite nothing; the attribution is computed from the text itself, never assumed.
    """
    words = {s.n: content_words(f"{s.title} {s.section} {s.passage}", stem_words=False, letters_only=False)
             for s in sources}
    out = []
    for sentence in SENTENCE_BREAK.split(text):
        body = sentence.rstrip()
        cw = content_words(body, stem_words=False, letters_only=False)
        if body and cw and not CITATION.search(body):
            n, best = max(((n, len(cw & w) / len(cw)) for n, w in words.items()), key=lambda x: x[1],
                          default=(0, 0.0))
            if best >= min_overlap:
                m = re.search(r"[.!?]+$", body)
                body = f"{body[:m.start()]} [{n}]{m.group(0)}" if m else f"{body} [{n}]"
        out.append(body + sentence[len(sentence.rstrip()):])
    return "".join(out)
