"""Retrieve, the first stage: the search query for a question and the passages that pass the relevance gate.

The gate applies in every turn: a follow-up is searched on its own words, and rewritten with the previous answered
question's topic words when those find nothing sure or it leans on it (a pronoun, "what about ..."); the rewrite is
kept only when its passages hold the follow-up's own topic words. A spelling correction is kept only when it finds
passages the uncorrected words do not (and a typed question that finds nothing is tried corrected), so it never
turns an answerable question into a refusal.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Callable, Protocol

from asl_gpt.rag.correction import Correction, tokenize
from asl_gpt.rag.index import IndexStats
from asl_gpt.rag.questions import history_messages, leans_on_history, topic_words
from asl_gpt.rag.retrieval import Passage
from asl_gpt.rag.text import present

log = logging.getLogger(__name__)

REFUSAL_MARK = "so I will not guess"  # in every refusal's text: a refused turn gives a follow-up no topic


class Retriever(Protocol):
    """What the stages need from a knowledge base: `index.KnowledgeBase` (the product) implements it."""

    def search(self, query: str) -> list[Passage]: ...  # the passages that pass the relevance gate, best first
    def vocabulary(self) -> Counter: ...  # indexed word -> count: spelling correction and rare-word weights
    def word_pairs(self) -> Counter: ...  # adjacent indexed word pairs: phrase correction
    def acronyms(self) -> frozenset[str]: ...  # abbreviations the documents introduce ("rid"): names, however typed
    def passages_with(self, word: str, n: int = 1) -> list[Passage]: ...  # the best chunks holding `word`
    def stats(self) -> IndexStats: ...  # a refusal names how many documents were searched
    def document_count(self) -> int: ...  # the same count, from the corpus in memory (read on every answer)
    def close(self) -> None: ...


def answered_questions(history, turns: int) -> list[str]:
    """The user's previous questions whose answer was not a refusal, oldest first."""
    msgs = history_messages(history, turns)
    out = []
    for i, (role, content) in enumerate(msgs):
        if role != "human":
            continue
        reply = msgs[i + 1][1] if i + 1 < len(msgs) and msgs[i + 1][0] == "ai" else ""
        if REFUSAL_MARK not in reply:
            out.append(content)
    return out


def rewrite_follow_up(question: str, previous: list[str]) -> str:
    """A standalone search query for a follow-up: its own words, then the topic words of the latest previous
    question it lacks ("how fast should i go" after "what is fingerspelling" -> "how fast should i go
    fingerspelling"); the question before that too when the latest one leaned on it as well."""
    own = set(tokenize(question))
    carried: list[str] = []
    for prev in reversed(previous):
        carried += [w for w in topic_words(prev) if w not in own and w not in carried]
        if not leans_on_history(prev):
            break
    return f"{question} {' '.join(carried)}".strip() if carried else question


def search(kb: Retriever, rag, question: str, history=None) -> tuple[str, list[Passage]]:
    """(the query searched, its passages), gated in every turn (`rag`: the settings' RagConfig).

    The question is searched on its own words first. A follow-up whose own words find nothing confident
    (no passage reaches `rag.confident_relevance`), or that leans on the previous question (a pronoun,
    "what about ..."), is searched again rewritten into a standalone query (`rewrite_follow_up`). The
    rewrite is kept only when its passages hold the follow-up's own topic words (or it has none of its
    own: "and why"), so "what is the capital of France" after a question about the alphabet is still
    refused like a first question: the alphabet passages the rewrite finds say nothing of France.
    """
    passages = kb.search(question)
    prev = answered_questions(history, rag.history_turns)
    leans = leans_on_history(question)
    confident = bool(passages) and passages[0].score >= rag.confident_relevance
    if not prev or (confident and not leans):
        return question, passages
    query = rewrite_follow_up(question, prev)
    if query == question:
        return question, passages
    found = kb.search(query)
    own = topic_words(question)
    words = set(tokenize(" ".join(f"{p.title} {p.section} {p.text}" for p in found)))
    # every own topic word must be there: "capital" alone is in the letters document, "france" is not
    if not found or (own and not leans and not all(present(w, words) for w in own)):
        return question, passages
    log.info("follow-up %r searched as %r", question[:80], query[:120])
    # Passages of its own search that hold its own topic words ("what about nicaragua") stay in front.
    own_hits = [p for p in passages if own and any(
        present(w, set(tokenize(f"{p.title} {p.section} {p.text}"))) for w in own)]
    merged: list[Passage] = []
    for p in own_hits + found + passages:
        if p.id not in {m.id for m in merged}:
            merged.append(p)
    return query, merged[:rag.k]


def retrieve(kb: Retriever, rag, question: str, history, correction: Correction | None,
             correct: Callable[[str], Correction]):
    """(question, search query, passages, correction): a correction is kept only when it is needed to find
    passages.

    A signed question is searched corrected; if that finds nothing but the words as signed do, the
    signed words are used. A typed question that finds nothing is tried corrected (typos).
    """
    query, passages = search(kb, rag, question, history)
    if correction is not None and correction.changed and not passages and question == correction.corrected:
        q2, as_signed = search(kb, rag, correction.raw, history)
        if as_signed:
            return correction.raw, q2, as_signed, Correction(correction.raw, correction.raw)
    if correction is None and not passages and rag.correct_queries:
        c = correct(question)
        if c.changed:
            q2, fixed = search(kb, rag, c.corrected, history)
            if fixed:
                return c.corrected, q2, fixed, c
    return question, query, passages, correction
