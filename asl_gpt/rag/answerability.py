"""Retrieve, the passages for what the question names: does the knowledge base hold it?

A specific word of the question (a name, a made-up term, a year: a word that is not common English) that no
passage contains means the passages are about something else. It is looked up in the whole index: found, its best
chunk joins the passages; not found, the question is refused naming it ("the knowledge base does not mention
zorblat") instead of letting the model describe the nearest thing (the letter Z). Misspelt and inflected words are
not "missing" (`text.present`), nor is a typo of a common word. A question whose whole topic is a phrase the documents
use as it is ("dinner table syndrome") is answerable even when no chunk is similar enough to pass the gate: one
sentence of a long chunk weighs little in its embedding.
"""

from __future__ import annotations

import logging
from typing import Callable

from asl_gpt.rag.correction import Correction, tokenize, weighted_distance
from asl_gpt.rag.questions import MIN_COMMON, acronyms, missing_terms, topic_phrase
from asl_gpt.rag.retrieval import Passage
from asl_gpt.rag.search import REFUSAL_MARK, Retriever
from asl_gpt.words import english_frequencies

log = logging.getLogger(__name__)


def in_index(kb: Retriever, term: str, correct: Callable[[str], Correction] | None) -> str | None:
    """The indexed word `term` stands for (itself, or its spelling correction when `correct` is given), or None."""
    vocab = kb.vocabulary()
    if term in vocab:
        return term
    if len(term) >= 5:  # an inflected form: "nicaragua" for "nicaraguan", "classifier" for "classifiers"
        forms = [w for w in vocab if w.startswith(term) or (len(w) >= 5 and term.startswith(w))]
        if forms:
            return max(forms, key=lambda w: vocab[w])
    fixed = correct(term).corrected if correct is not None else term
    # One word ("lightbulb" split into "light bulb" is not in it), one cheap edit away: a made-up "glorp" is
    # not a misspelt "group".
    close = weighted_distance(term, fixed, 1.0) <= (1.0 if len(term) <= 6 else 1.5)
    return fixed if fixed in vocab and close else None


def _holds(words: list[str], phrase: list[str]) -> bool:
    k = len(phrase)
    return any(words[i:i + k] == phrase for i in range(len(words) - k + 1))


def phrase_passages(kb: Retriever, question: str, k: int) -> list[Passage]:
    """The (at most `k`) chunks that hold the question's whole topic word for word (`questions.topic_phrase`), for a
    question no chunk is similar enough to. Only the whole topic counts: "new york" in a history passage does not
    make "best pizza in new york" answerable."""
    phrase = topic_phrase(question)
    if not phrase:
        return []
    pairs = kb.word_pairs()  # every adjacent pair in the index: cheaper than a search where one is missing
    if not all(p in pairs for p in zip(phrase, phrase[1:])):
        return []
    found = [p for p in kb.passages_with(" ".join(phrase), k) if _holds(tokenize(p.text), phrase)]
    if found:
        log.info("no chunk is similar enough, but %d hold %r as it is", len(found), " ".join(phrase))
    return found


def answerable(kb: Retriever, question: str, passages: list[Passage], k: int, correct: Callable[[str], Correction],
               correct_queries: bool = True) -> tuple[list[Passage], list[str]]:
    """(passages, unknown terms). A specific word of the question that no passage holds is looked up in the whole
    index: found, its best chunk joins the passages (in place of the last one); not found, it is returned and the
    question is refused naming it. A misspelt common word is not a term the index lacks."""
    english = english_frequencies()
    if not passages:
        passages = phrase_passages(kb, question, k)
    texts = [f"{p.title} {p.section} {p.text}" for p in passages]
    unknown: list[str] = []
    known = kb.acronyms()
    caps = acronyms(question, known)
    for term in missing_terms(question, texts, english, known):
        word = in_index(kb, term, correct if correct_queries else None)
        if word is None:
            fixed = correct(term).corrected
            if fixed != term and english.get(fixed, 0) >= MIN_COMMON and weighted_distance(term, fixed, 1.0) <= 1.0:
                continue  # "yuo", "wat": a typo of a common word, not a missing topic
            unknown.append(term)
            continue
        # Without passages, only a word that is no English word (a name, a term) may bring one back: a
        # common one ("france" in a history passage) would make an out-of-scope question look answerable.
        if not passages and ((english.get(term, 0) > 0 and term not in caps) or word != term):
            continue
        seen = {p.id for p in passages}
        extra = [p for p in kb.passages_with(word, 1) if p.id not in seen]
        if extra:
            log.info("%r is in the index but not in the passages found: adding %s", term, extra[0].source)
            passages = (passages[:k - 1] if len(passages) >= k else passages) + extra
    return passages, unknown


def refusal(unknown: list[str], documents: int) -> str:
    """The text of a refusal: what the knowledge base does not mention, or that nothing was found."""
    if unknown:
        quoted = [f'"{t}"' for t in unknown]
        terms = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        what = f"The knowledge base does not mention {terms}: I could not find anything about it"
    else:
        what = "I could not find anything about that in the knowledge base"
    return f"{what} ({documents} documents indexed), {REFUSAL_MARK}."
