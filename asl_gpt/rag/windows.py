"""Select, the sentences that answer: what the LLM reads of each passage, and what stands in for the model.

A chunk is about 1,200 characters; a small model on two cores spends most of its first-token time reading the
prompt, and reads a short focused passage better than a long one. So each retrieved chunk is cut down to the
sentences around its best match with the question (a window of a few hundred characters), and the same scoring
picks the sentences quoted to the user when the model's text is unusable. Pure code over strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from asl_gpt.config import LLMConfig as _LLM
from asl_gpt.rag.correction import tokenize
from asl_gpt.rag.lexicon import COMPARED_KINDS, DEEDS, DIFFERENCE_WORDS, STOPWORDS
from asl_gpt.rag.questions import answers_kind, defined_term, difference_pair, question_kind, states_meaning
from asl_gpt.rag.text import HEADING_LINE, Unit, content_words, names, stem, units


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


def best_sentences(question: str, passages: list[str], n: int = 2,
                   vocabulary: dict[str, int] | None = None,
                   opts: ContextOptions = ContextOptions()) -> list[tuple[int, str]]:
    """What to quote for the question, as (passage index, text), best first: the best-matching list item whole
    (one dictionary entry, never a piece of the next), else up to `n` sentences that match at least half as
    well as the best, among those holding the fact asked for when some do (names for "who"); passage order
    breaks ties (the first passage is the most relevant)."""
    scored = []
    for pi, text in enumerate(passages):
        us = units(text)
        for si, (u, sc) in enumerate(zip(us, score_units(us, question, vocabulary, opts.kind_bonus))):
            if len(tokenize(u.text)) < 3:  # headings and fragments say nothing on their own
                continue
            scored.append((-sc, pi, si, u, us))
    if not scored:
        return []
    # For who/when/where/how-many questions, quote only sentences that hold such a fact when some do: a
    # sentence that repeats the question's words without the names or the year answers nothing.
    kind = question_kind(question)
    if kind in ("who", "when", "where", "number"):
        holding = [x for x in scored if x[0] < 0 and answers_kind(x[3].text, kind, x[3].item, question)]
        scored = holding or scored
    scored.sort(key=lambda x: x[:3])
    best, pi, _, u, us = scored[0]
    if best < 0 and u.item:
        return [(pi, " ".join(x.text for x in us if x.block == u.block))]
    picked = [(pi, u.text)]
    for neg, pj, _, v, _ in scored[1:]:
        if len(picked) >= n or neg > best / 2 or neg == 0:
            break
        if not v.item:
            picked.append((pj, v.text))
    return picked


def context_windows(passages: list, query: str, opts: ContextOptions, vocabulary: dict[str, int] | None) -> list[str]:
    """What the LLM reads of each passage: the best one may be a whole short section (`opts.first_chars`), the
    others are windows. Sentences are chosen for the query searched (a follow-up rewritten with its topic) and the
    kind of fact asked for."""
    return [window(p.text, query, opts, vocabulary, opts.first_chars if i == 0 else None)
            for i, p in enumerate(passages)]


@dataclass(frozen=True)
class Selection:
    """What the select stage hands on: the passages, what the LLM reads of each, and the sentences to quote
    when the model's answer is unusable."""

    passages: list
    windows: list[str]
    quotes: list[tuple[str, str]]  # (passage text, sentence), best first
    fact: tuple[str, str] | None = None  # (passage text, sentence): the fact asked for, which the answer must hold


def fact_sentence(question: str, texts: list[str], vocabulary: dict[str, int] | None = None,
                  opts: ContextOptions = ContextOptions()) -> tuple[int, str] | None:
    """(passage index, sentence) carrying the fact a who/when/where/what-is/difference question asks for: a name
    with a deed for "who" (what made the person known, not only their job), a date for "when", a place, a
    definition, the differing detail for "difference between X and Y"; None for other questions or none found."""
    kind, pair = question_kind(question), difference_pair(question)
    if kind not in ("who", "when", "where", "what") and not pair:
        return None
    sides = [_side_words(x) for x in pair] if pair else []
    asked = asked_deed(question)
    best: tuple[tuple[bool, bool, float], int, str] | None = None
    for pi, text in enumerate(texts):
        us = units(text)
        headings = {HEADING_LINE.sub("", line).strip() for line in text.split("\n") if HEADING_LINE.match(line)}
        for u, sc in zip(us, score_units(us, question, vocabulary, opts.kind_bonus)):
            words = set(tokenize(u.text))
            if sc <= 0 or len(words) < 4 or u.text in headings:
                continue  # a heading names a topic; it states no fact
            if pair:
                named = sum(bool(s & words) for s in sides)
                if not named or not (words & DIFFERENCE_WORDS or named == 2):
                    continue
                sc *= 1.0 + 0.5 * named
            elif not answers_kind(u.text, kind, u.item, question):
                continue
            elif kind == "who" and not names(u.text) - set(tokenize(question)):
                continue  # only the names the question already gives ("who made Cued Speech"): not who
            # First a sentence that says how the two differ ("while for N ...") over one that names both; for who,
            # a sentence with a deed ("founded the first school") over any without ("was a teacher in 1817").
            stems = {stem(w) for w in words}
            deed = kind == "who" and bool(stems & DEED_STEMS)
            first = (bool(words & DIFFERENCE_WORDS), False) if pair else (bool(stems & asked), deed)
            key = (*first, sc)
            if best is None or key > best[0]:
                best = (key, pi, u.text)
    return (best[1], best[2]) if best else None


DEED_STEMS = frozenset(stem(w) for w in DEEDS)
_NOT_DEEDS = frozenset("is was were are s did does do has had have can could would will".split())


def asked_deed(question: str) -> set[str]:
    """The deed a "who <verb>" question asks about, stemmed ("who signed the law ..." -> {"sign"}); empty for "who
    was X". A sentence with that verb is the fact before one with any other deed ("Lincoln signed it", not "on
    land donated by Amos Kendall")."""
    words = tokenize(question)
    if "who" not in words:
        return set()
    i = words.index("who")
    verb = words[i + 1] if i + 1 < len(words) else ""
    return {stem(verb)} if verb and verb not in _NOT_DEEDS and verb not in STOPWORDS else set()


def _side_words(phrase: str) -> set[str]:
    """The words naming one side of a comparison ("the letters M" -> {"m"}; single letters kept)."""
    return {w for w in tokenize(phrase) if w not in STOPWORDS and w not in COMPARED_KINDS}


def _fact_first(window_text: str, fact: str, whole: bool) -> str:
    """The window with the fact sentence at its start (moved there, or added when the window left it out); a whole
    short section that holds it stays as written (its sentences lean on each other)."""
    if window_text.startswith(fact) or (whole and fact in window_text):
        return window_text
    rest = window_text.replace(fact, "").replace("…  …", "…").strip()
    return f"{fact} … {rest}" if rest else fact


def select_sentences(passages: list, query: str, opts: ContextOptions, vocabulary: dict[str, int] | None,
                     question: str = "") -> Selection:
    """The windows the LLM reads and the fallback quotes, both chosen for the query searched; the sentence with
    the fact the question asks for opens its passage's window."""
    texts = [p.text for p in passages]
    quotes = [(texts[pi], s) for pi, s in best_sentences(query, texts, opts.quote_sentences, vocabulary, opts)]
    windows = context_windows(passages, query, opts, vocabulary)
    found = fact_sentence(question or query, texts, vocabulary, opts)
    if found is None:
        return Selection(passages, windows, quotes)
    pi, fact = found
    windows[pi] = _fact_first(windows[pi], fact, windows[pi] == texts[pi].strip())
    return Selection(passages, windows, quotes, (texts[pi], fact))
