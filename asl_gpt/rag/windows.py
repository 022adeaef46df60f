"""Select, the sentences that answer: what the LLM reads of each passage, and what stands in for the model.

Each retrieved chunk is cut down to the sentences around its best match with the question (`scoring.window`), and
the same scoring picks the sentences quoted to the user when the model's text is unusable and the sentence holding
the fact the question asks for. What the passages answer by themselves is found here too, before the model reads
them: the fact sentence the answer opens with, and a choice question's decision (decisions.py). Pure code over
strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from asl_gpt.rag.correction import tokenize
from asl_gpt.rag.decisions import Decision, decide
from asl_gpt.rag.lexicon import COMPARED_KINDS, DEEDS, DIFFERENCE_WORDS, GENERIC, STOPWORDS
from asl_gpt.rag.questions import answers_kind, choice, difference_pair, question_kind
from asl_gpt.rag.scoring import ContextOptions, score_units, window
from asl_gpt.rag.sources import Source
from asl_gpt.rag.text import (HEADING_LINE, content_words, introduces, names, present, refers_back, says_its_meaning,
                              stem, units)


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
    """What the select stage hands on: the passages, what the LLM reads of each, the sentences to quote when the
    model's answer is unusable, and what the passages answer by themselves (said before the model writes)."""

    passages: list
    windows: list[str]
    quotes: list[tuple[str, str]]  # (passage text, sentence), best first
    fact: tuple[str, str] | None = None  # (passage text, sentence): the fact asked for, which the answer must hold
    lead: str = ""  # the fact sentence as the answer opens with it (with the sentence its pronoun needs); "": none
    decision: Decision | None = None  # a choice question's decision, passages numbered from 1 in this turn's order


def fact_sentence(question: str, texts: list[str], vocabulary: dict[str, int] | None = None,
                  opts: ContextOptions = ContextOptions()) -> tuple[int, str] | None:
    """(passage index, sentence) carrying the fact a who/when/where/what-is/how-to-sign/difference question asks for:
    a name with a deed for "who" (what made the person known, not only their job), a date for "when", a place, a
    definition, the sign's dictionary entry, the differing detail for "difference between X and Y"; None for other
    questions or none found."""
    kind, pair = question_kind(question), difference_pair(question)
    if kind not in ("who", "when", "where", "what", "sign") and not pair:
        return None
    sides = [_side_words(x) for x in pair] if pair else []
    asked = asked_deed(question)
    # The question's names as the passages write them ("paris"): a sentence that names one of them, or follows one
    # that does (its "he", "it"), comes first: "who ran the Paris school" is Sicard, "head of the school ... in
    # Paris", not the Braidwoods, "who ran schools" in Britain.
    q_words = set(tokenize(question))
    q_names = q_words & set().union(*(names(t) for t in texts))
    best: tuple[tuple[bool, ...], int, str] | None = None
    for pi, text in enumerate(texts):
        us = units(text)
        headings = {HEADING_LINE.sub("", line).strip() for line in text.split("\n") if HEADING_LINE.match(line)}
        said = [set(tokenize(u.text)) for u in us]  # each sentence's words, once: a sentence also reads the one before
        for ui, (u, sc) in enumerate(zip(us, score_units(us, question, vocabulary, opts.kind_bonus))):
            words = said[ui]
            if sc <= 0 or len(words) < 4 or u.text in headings:
                continue  # a heading names a topic; it states no fact
            if pair:
                named = sum(bool(s & words) for s in sides)
                if not named or not (words & DIFFERENCE_WORDS or named == 2):
                    continue
                sc *= 1.0 + 0.5 * named
            elif not answers_kind(u.text, kind, u.item, question):
                continue
            elif kind == "who" and not names(u.text) - q_words:
                continue  # only the names the question already gives ("who made Cued Speech"): not who
            # First a sentence that says how the two differ ("while for N ...") over one that names both; for who,
            # a sentence with a deed ("founded the first school") over any without ("was a teacher in 1817").
            stems = {stem(w) for w in words}
            deed = kind == "who" and bool(stems & DEED_STEMS)
            before = said[ui - 1] if ui and us[ui - 1].block == u.block else set()
            about = not q_names or bool(q_names & (words | before))
            first = (bool(words & DIFFERENCE_WORDS), False) if pair else (about, bool(stems & asked), deed)
            key = (*first, sc)
            if best is None or key > best[0]:
                best = (key, pi, u.text + _meaning_after(us, ui) if kind == "what" else u.text)
    return (best[1], best[2]) if best else None


def _meaning_after(us: list, i: int) -> str:
    """The next sentence of the definition's own paragraph or item when it says what the term means: a glossary's
    "MM: lips pressed together ..." describes the form, and "It means normally, regularly ..." is the answer."""
    nxt = us[i + 1] if i + 1 < len(us) else None
    return f" {nxt.text}" if nxt is not None and nxt.block == us[i].block and says_its_meaning(nxt.text) else ""


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
    ch = choice(question or query)
    numbered = tuple(Source(i, "", "", "", t, 0.0) for i, t in enumerate(texts, 1))  # the chain renumbers them
    decision = decide(ch, question or query, numbered) if ch else None
    found = fact_sentence(question or query, texts, vocabulary, opts)
    if found is None:
        return Selection(passages, windows, quotes, decision=decision)
    pi, fact = found
    windows[pi] = _fact_first(windows[pi], fact, windows[pi] == texts[pi].strip())
    lead = _lead(question or query, texts[pi], fact, vocabulary)
    return Selection(passages, windows, quotes, (texts[pi], fact), lead, decision)


def _lead(question: str, text: str, fact: str, vocabulary: dict[str, int] | None) -> str:
    """The fact sentence as the answer opens with it, or "" when its passage is not about everything the question
    names: each content word of the question is in that passage or at least in the knowledge base ("who was the
    first deaf astronaut" finds a first deaf president, and the documents never say "astronaut": no lead; the model
    may still say they do not answer). A sentence that refers back ("They sailed in 1816.") brings the one before
    it; one that introduces a list brings its first item."""
    words = set(tokenize(text))
    if vocabulary is not None and any(not present(w, words) and w not in vocabulary
                                      for w in content_words(question, stem_words=False, ignore=GENERIC)):
        return ""
    us = units(text)
    i = next((k for k, u in enumerate(us) if fact.startswith(u.text)), None)
    if refers_back(fact) and i and us[i - 1].block == us[i].block:
        fact = f"{us[i - 1].text} {fact}"
    if introduces(fact) and i is not None and i + 1 < len(us):  # "... are not the same thing:" and its first item
        fact = f"{fact} {us[i + 1].text}"
    return fact
