"""Cite, the last stage: the answer's citation markers checked and completed, its sources marked, quotes formatted.

Citations are numbered by the code (passage n is [n]): markers that name no passage are removed, and a sentence the
model left uncited is attributed from its own words, never assumed. Pure code over strings.
"""

from __future__ import annotations

from asl_gpt.rag.sources import Source, attribute_sentences
from asl_gpt.rag.verification import Checked
from asl_gpt.rag.text import CITATION, tidy_markers


def finalize_citations(text: str, sources: tuple[Source, ...]) -> tuple[str, tuple[Source, ...]]:
    """Remove markers that name no passage, attribute uncited sentences, mark the cited sources."""
    cleaned = attribute_sentences(tidy_markers(text, {s.n for s in sources}), sources)
    return cleaned, mark_cited(cleaned, sources)


def mark_cited(text: str, sources: tuple[Source, ...]) -> tuple[Source, ...]:
    """The sources with `cited` set for those the text cites."""
    cited = {int(n) for n in CITATION.findall(text)}
    return tuple(Source(**{**s.__dict__, "cited": s.n in cited}) for s in sources)


def shown_sources(turn: tuple[Source, ...], final: tuple[Source, ...]) -> tuple[Source, ...]:
    """The answer's sources: this turn's passages (cited or not), then the earlier turns' passages it cites."""
    by_n = {s.n: s for s in final}
    ns = [s.n for s in turn]
    return tuple(by_n[n] for n in ns) + tuple(s for s in final if s.cited and s.n not in ns)


def quoted_answer(picks: list[tuple[int, str]]) -> str:
    """The quotes shown instead of an unusable model answer, each cited [n] (n = passage index + 1)."""
    lines = [f'> "{s}" [{pi + 1}]' for pi, s in picks]
    return "Quoted from the knowledge base (the model's own answer was not usable):\n" + "\n".join(lines)


# Said in the final answer when the check changed it (the page replaces the streamed text with it).
CORRECTED = ("(Corrected against the source: {} the passages do not support {} replaced by the passage's own words "
             "or removed.)")


def says_corrected(text: str) -> bool:
    """Whether an answer's text carries the check stage's own note (CORRECTED): surfaces add no second one."""
    return CORRECTED.split("{}")[0] in text


def cite(checked: Checked, given: tuple[Source, ...], turn: tuple[Source, ...],
         quotes: list[tuple[str, str]]) -> tuple[str, tuple[Source, ...], bool]:
    """(final text, sources, quoted): the checked answer with its citations completed and its sources (this
    turn's passages, then the earlier ones it cites), saying so when the check corrected it; with no usable
    answer, the selected quotes, each cited as its passage is numbered in this turn."""
    if checked.text:
        final, final_sources = finalize_citations(checked.text, given)
        n = checked.verification.repaired
        if n:
            final += "\n\n" + CORRECTED.format("a sentence" if n == 1 else f"{n} sentences", "was" if n == 1 else "were")
        return final, shown_sources(turn, final_sources), False
    number = {s.passage: s.n for s in turn}
    picks = [(number[text] - 1, q) for text, q in quotes if text in number]
    cited = {pi + 1 for pi, _ in picks}
    return quoted_answer(picks), tuple(Source(**{**s.__dict__, "cited": s.n in cited}) for s in turn), True
