"""What the LLM reads and what stands in for it: sentence windows, support checks and quoted answers.

Pure code over strings. A chunk is about 1,200 characters; a small model on two cores spends most of
its first-token time reading the prompt, and reads a short focused passage better than a long one. So
each retrieved chunk is cut down to the sentences around its best match with the question (a window of
a few hundred characters), and the same scoring picks the sentences quoted to the user when the model's
text is unusable (only citation marks, or words and numbers the passages do not contain).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from asl_gpt.rag.correction import STOPWORDS, tokenize

# Sentence ends: after . ! ? unless the dot ends an initial ("I. King Jordan") or a title ("Stokoe Jr.
# was"), and at every line break (list items and headings are sentences of their own).
_SENTENCE = re.compile(r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\b(?:Dr|Mr|Ms|St|Jr|Sr)\.)(?<!\bMrs\.)\s+|\n+")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_CITATION = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class ContextOptions:
    window_chars: int = 480  # per passage: the best-matching sentences and their neighbours, up to this many characters
    neighbours: int = 1  # sentences kept on each side of the best match (context for pronouns)
    min_support: float = 0.6  # share of the answer's content words that must occur in the passages or the question
    quote_sentences: int = 2  # sentences quoted when the model's answer is unusable
    answer_tokens: int = 160  # the LLM's answer cap: two to four sentences; more is wasted time on two cores


def sentences(text: str) -> list[str]:
    """Sentences and list items of a passage, Markdown bullets and heading marks removed."""
    out = []
    for s in _SENTENCE.split(text or ""):
        s = re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)\s+", "", s).strip()
        if s:
            out.append(s)
    return out


def _stem(word: str) -> str:
    """A crude shared form: "founded", "founder", "founding" -> "found"; short words stay whole."""
    return word[:5] if len(word) > 5 else word


def query_terms(question: str) -> set[str]:
    """The words of the question that can match a sentence (stopwords dropped, single letters kept:
    "the letter J")."""
    return {_stem(w) for w in tokenize(question) if w not in STOPWORDS}


def _weights(terms: set[str], vocabulary: dict[str, int] | None) -> dict[str, float]:
    """Rare words count more (an inverse frequency over the indexed vocabulary, when given)."""
    if not vocabulary:
        return {t: 1.0 for t in terms}
    counts: dict[str, int] = {}
    for w, c in vocabulary.items():
        s = _stem(w)
        if s in terms:
            counts[s] = counts.get(s, 0) + c
    return {t: 1.0 / math.log(2.0 + counts.get(t, 0)) for t in terms}


def score_sentence(sentence: str, weights: dict[str, float]) -> float:
    words = {_stem(w) for w in tokenize(sentence)}
    return sum(wt for t, wt in weights.items() if t in words)


def window(text: str, question: str, opts: ContextOptions = ContextOptions(),
           vocabulary: dict[str, int] | None = None) -> str:
    """The sentences of `text` around its best match with `question`, within `opts.window_chars`.

    The best sentence and its neighbours come first in priority, then the next best ones; the kept
    sentences are joined in their original order, with " … " where sentences were skipped.
    """
    sents = sentences(text)
    if len(text) <= opts.window_chars or len(sents) <= 1:
        return text.strip()
    w = _weights(query_terms(question), vocabulary)
    scores = [score_sentence(s, w) for s in sents]
    if max(scores) == 0:  # nothing matches: the passage's opening, whole sentences
        order = list(range(len(sents)))
    else:
        order = sorted(range(len(sents)), key=lambda i: (-scores[i], i))
    keep: set[int] = set()
    used = 0
    for best in order:
        group = [best] + [j for d in range(1, opts.neighbours + 1) for j in (best + d, best - d)]
        for j in group:
            if 0 <= j < len(sents) and j not in keep and (j == best or scores[best] > 0):
                if used + len(sents[j]) + 1 > opts.window_chars and keep:
                    continue
                keep.add(j)
                used += len(sents[j]) + 1
        if used >= opts.window_chars or (scores[best] == 0 and max(scores) > 0):
            break
    parts, last = [], -1
    for j in sorted(keep):
        if last >= 0 and j != last + 1:
            parts.append("…")
        parts.append(sents[j])
        last = j
    return " ".join(parts)


def _content_words(text: str) -> set[str]:
    return {_stem(w) for w in tokenize(_CITATION.sub(" ", text)) if w not in STOPWORDS and len(w) > 2 and w.isalpha()}


def support(answer: str, passages: list[str], question: str = "") -> float:
    """Share of the answer's content words found in the passages or the question (1.0 for no words)."""
    words = _content_words(answer)
    if not words:
        return 1.0
    known = _content_words(" ".join(passages) + " " + question)
    return len(words & known) / len(words)


def unsupported_numbers(answer: str, passages: list[str], question: str = "") -> list[str]:
    """Numbers in the answer that neither the passages nor the question contain (invented dates, counts)."""
    seen = set(_NUMBER.findall(" ".join(passages) + " " + question))
    return [n for n in _NUMBER.findall(_CITATION.sub(" ", answer)) if n.rstrip(".,") not in
            {s.rstrip(".,") for s in seen}]


def supported(answer: str, passages: list[str], question: str = "", opts: ContextOptions = ContextOptions()) -> bool:
    return support(answer, passages, question) >= opts.min_support and not unsupported_numbers(answer, passages, question)


def best_sentences(question: str, passages: list[str], n: int = 2,
                   vocabulary: dict[str, int] | None = None) -> list[tuple[int, str]]:
    """The `n` sentences of the passages that match the question best, as (passage index, sentence),
    best first; passage order breaks ties (the first passage is the most relevant)."""
    w = _weights(query_terms(question), vocabulary)
    scored = []
    for pi, text in enumerate(passages):
        for si, s in enumerate(sentences(text)):
            if len(tokenize(s)) < 3:  # headings and fragments say nothing on their own
                continue
            scored.append((-score_sentence(s, w), pi, si, s))
    scored.sort()
    picked = [(pi, s) for neg, pi, si, s in scored[:n] if neg < 0]
    return picked or [(pi, s) for _, pi, _, s in scored[:1]]


def quoted_answer(picks: list[tuple[int, str]]) -> str:
    """The quotes shown instead of an unusable model answer, each cited [n] (n = passage index + 1)."""
    lines = [f'> "{s}" [{pi + 1}]' for pi, s in picks]
    return "Quoted from the knowledge base (the model's own answer was not usable):\n" + "\n".join(lines)
