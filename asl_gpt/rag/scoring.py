"""The sentences of a passage scored against a question, and the window of the best ones within a length: what
the select stage gives the LLM and quotes (windows.py), and what the generate stage cuts a follow-up's passage to
when the conversation's budget is short (generation.py). `ContextOptions`, the chain's reading and answer options,
live here because every stage after retrieve reads them. Pure code over strings.

A chunk is about 1,200 characters; a small model on two cores spends most of its first-token time reading the
prompt, and reads a short focused passage better than a long one. So each retrieved chunk is cut down to the
sentences around its best match with the question (a window of a few hundred characters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from asl_gpt.config import LLMConfig as _LLM
from asl_gpt.rag.correction import tokenize
from asl_gpt.rag.questions import answers_kind, defined_term, question_kind, states_meaning
from asl_gpt.rag.text import Unit, content_words, stem, units


@dataclass(frozen=True)
class ContextOptions:
    """Built from the settings (`context_options`); the answer cap is the settings' (llm.max_tokens), the rest are
    this class's own, tuned on knowledge/ with `asl-gpt bench answers`."""
    window_chars: int = 480  # per passage: the best-matching sentences and their neighbours, up to this many characters
    neighbours: int = 1  # sentences kept on each side of the best match (context for pronouns)
    min_support: float = 0.6  # share of the answer's content words that must occur in the passages or the question
    quote_sentences: int = 2  # sentences quoted when the model's answer is unusable
    answer_tokens: int = _LLM.max_tokens  # the LLM's answer cap (llm.max_tokens)
    first_chars: int = 800  # the best passage: a whole short section when it fits, else a window this long
    kind_bonus: float = 1.0  # a matching sentence holding the fact asked (who: a name, when: a year) counts 1 + this


def context_options(settings) -> ContextOptions:
    """What the chain reads and caps, from the settings."""
    return ContextOptions(answer_tokens=settings.llm.max_tokens)


def query_terms(question: str) -> set[str]:
    """The words of the question that can match a sentence (stopwords dropped, single letters kept:
    "the letter J")."""
    return content_words(question, shortest=1, letters_only=False)


def _weights(terms: set[str], vocabulary: dict[str, int] | None) -> dict[str, float]:
    """Rare words count more (an inverse frequency over the indexed vocabulary, when given)."""
    if not vocabulary:
        return {t: 1.0 for t in terms}
    counts: dict[str, int] = {}
    for w, c in vocabulary.items():
        s = stem(w)
        if s in terms:
            counts[s] = counts.get(s, 0) + c
    return {t: 1.0 / math.log(2.0 + counts.get(t, 0)) for t in terms}


def score_sentence(sentence: str, weights: dict[str, float]) -> float:
    words = {stem(w) for w in tokenize(sentence)}
    return sum(wt for t, wt in weights.items() if t in words)


def score_units(us: list[Unit], question: str, vocabulary: dict[str, int] | None = None,
                kind_bonus: float = 0.6) -> list[float]:
    """Each unit's match with the question; a unit that matches and holds the kind of fact asked for (a name
    for "who", a year for "when", ...) counts `1 + kind_bonus` times, so the sentence that answers outranks one
    that only repeats the question's words as well."""
    w = _weights(query_terms(question), vocabulary)
    kind = question_kind(question)
    term = defined_term(question) if kind == "what" else []
    scores = []
    for u in us:
        s = score_sentence(u.text, w)
        if s > 0 and kind and answers_kind(u.text, kind, u.item, question):
            s *= 1.0 + kind_bonus
            if kind == "what" and states_meaning(u.text, term):
                s *= 1.0 + kind_bonus  # "which means ..." over "Fingerspelling is a regular part of ASL"
        scores.append(s)
    return scores


def _join(us: list[Unit], keep: set[int]) -> str:
    parts, last = [], -1
    for j in sorted(keep):
        if last >= 0 and j != last + 1:
            parts.append("…")
        elif last >= 0 and us[j].block != us[last].block:
            parts.append("\n")
        parts.append(us[j].text)
        last = j
    return " ".join(parts).replace(" \n ", "\n")


def window(text: str, question: str, opts: ContextOptions = ContextOptions(),
           vocabulary: dict[str, int] | None = None, chars: int | None = None) -> str:
    """The sentences of `text` that answer `question` best, with their context, within `chars` characters
    (default `opts.window_chars`); the whole text when it fits.

    The best sentence comes first in priority, then the next best ones. A list item is taken whole (a
    dictionary entry, a step) and never with its neighbours; a sentence of a paragraph brings its
    neighbours (`opts.neighbours`, for pronouns) unless they belong to a list item. Kept sentences are
    joined in their original order, with " … " where sentences were skipped.
    """
    limit = opts.window_chars if chars is None else chars
    us = units(text)
    if len(us) <= 1:
        return text.strip()
    scores = score_units(us, question, vocabulary, opts.kind_bonus)
    top = best = max(range(len(us)), key=lambda i: (scores[i], -i))
    # A short text is kept whole, unless the question picks one entry of a list ("how do i sign thank you"): a
    # small model given HELLO, THANK-YOU, PLEASE and SORRY together describes the wrong one.
    picks_entry = us[best].item and scores[best] > 0 and not any(
        u.item and u.block != us[best].block and sc >= scores[best] / 2 for u, sc in zip(us, scores))
    # A definition question reads the defining sentence and its neighbours, not the whole section around it.
    defines = question_kind(question) == "what" and scores[best] > 0
    if defines:
        limit = min(limit, opts.window_chars)
    if len(text) <= limit and not picks_entry:
        return text.strip()
    if max(scores) == 0:  # nothing matches: the passage's opening, whole sentences
        order = list(range(len(us)))
    else:
        order = sorted(range(len(us)), key=lambda i: (-scores[i], i))
    keep: set[int] = set()
    used = 0
    for best in order:
        if scores[best] == 0 and max(scores) > 0:
            break
        if keep and us[best].item and scores[best] < max(scores) / 2:
            continue  # another entry that only shares a common word ("sign") is not context
        if us[best].item:
            group = [j for j in range(len(us)) if us[j].block == us[best].block]
        else:
            group = [best] + [j for d in range(1, opts.neighbours + 1) for j in (best + d, best - d)
                              if 0 <= j < len(us) and not us[j].item]
        size = sum(len(us[j].text) + 1 for j in group if j not in keep)
        if keep and used + size > limit:
            if us[best].item:
                continue  # an entry is kept whole or not at all
            group = [best]
            size = len(us[best].text) + 1
            if used + size > limit:
                continue
        for j in group:
            if j not in keep:
                keep.add(j)
                used += len(us[j].text) + 1
        if used >= limit:
            break
    if defines:  # the sentence that says what X means opens the window: a small model answers with the first
        rest = _join(us, keep - {top})
        return us[top].text + (" " + rest if rest else "")
    return _join(us, keep)
