"""Answerability: does the knowledge base hold what the question names, and does a passage hold each answer sentence?

Pure code over strings. Two checks a small model cannot be trusted with:
- a specific word of the question (a name, a made-up term, a year: a word that is not common English) that no
  passage contains means the passages are about something else; the chain looks for it in the whole index and,
  when the index does not have it either, refuses naming it ("the knowledge base does not mention zorblat")
  instead of letting the model describe the nearest thing (the letter Z);
- an answer sentence whose names, numbers or rare words no single stretch of a cited passage holds together
  (three consecutive sentences) is dropped: the model borrowed the passages' words for a fact they do not state.
Misspelt and inflected words are not "missing": a word counts as present when a passage word shares its stem
or is within the corrector's small edit distance of it.
"""

from __future__ import annotations

import re

from asl_gpt.rag.context import _NUMBER, CITATION, SENTENCE_BREAK, _stem, content_words, names, units
from asl_gpt.rag.correction import STOPWORDS, tokenize, weighted_distance

# Question words that name no topic ("how fast should i go", "can you tell me"): never a reason to refuse.
GENERIC = frozenset("""should would could might must shall go goes going get gets make makes made know tell need
want use used like please mean means meaning whats what's hows who's thing things way ways good best someone people
person something anything really just also very much many more most some any about into does did done doing say
says said ask asked give show explain called call there here one ones got getting ppl pls plz thx
wat wht whta waht hw""".split())  # the last: "what" and "how" as they are often typed or signed
MIN_COMMON = 2000  # an English word this frequent (pyspellchecker counts) names no specific thing


def _english() -> dict[str, int]:
    from asl_gpt.words import english_frequencies

    return english_frequencies()


def specific(word: str, english: dict[str, int] | None = None) -> bool:
    """A word that names a specific thing: not a stopword or generic word, and a number of 3+ digits or a word
    that is not common English (names, terms, acronyms, misspellings)."""
    if word in STOPWORDS or word in GENERIC:
        return False
    if word.isdigit():
        return len(word) >= 3
    if len(word) < 3 or not word.isalpha():
        return False
    english = _english() if english is None else english
    return english.get(word, 0) < MIN_COMMON


def acronyms(question: str, known: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """Words typed in capitals ("What is the RID?"): names of things even when they spell a common word. Also an
    abbreviation of the documents (`known`, see `acronyms_of`) typed in lower case ("whats rid", as signed) when it
    is the question's only topic: in "any idea who won the cup" the word is the English one."""
    typed = {w.lower() for w in re.findall(r"\b[A-Z]{3,6}\b", question or "")
             if not re.fullmatch(r"[IVXLC]+", w)}  # not Roman numerals ("World War II")
    topic = [w for w in tokenize(question or "") if w not in STOPWORDS and w not in GENERIC]
    if len(topic) == 1 and topic[0] in known:
        typed.add(topic[0])
    return typed - {"asl"}  # the topic of everything here: names nothing in particular


def acronyms_of(texts) -> set[str]:
    """The abbreviations `texts` introduce in parentheses after what they stand for ("Registry of Interpreters
    for the Deaf (RID)"), lower-cased. Not every word in capitals: glosses (DOG, THANK-YOU) are common words."""
    return {w.lower() for t in texts for w in re.findall(r"\(([A-Z]{2,6})s?\)", t)}


def key_terms(question: str, english: dict[str, int] | None = None,
              known: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The question's specific words (and acronyms, typed in capitals or `known` to the documents), in order,
    once each."""
    caps = acronyms(question, known)
    out: list[str] = []
    for w in tokenize(question):
        w = w.split("'")[0]
        if w not in out and (specific(w, english) or w in caps):
            out.append(w)
    return out


def _forms(word: str) -> set[str]:
    """The word, its crude stem and its singular: "classifiers" also matches "classifier" and "classif"."""
    out = {word, _stem(word)}
    for suffix in ("es", "s", "ed", "ing"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.add(word[:-len(suffix)])
    return out


def present(term: str, words: set[str]) -> bool:
    """Is `term` (or a spelling one or two cheap edits away) among `words`? Numbers must match exactly."""
    if term.isdigit():
        return term in words
    if _forms(term) & (words | {_stem(w) for w in words}):
        return True
    if len(term) >= 4 and any(w.startswith(term) for w in words):  # "fast" in "faster"
        return True
    limit = 1.0 if len(term) <= 4 else 1.5 if len(term) <= 6 else 2.0
    return any(abs(len(w) - len(term)) <= limit and weighted_distance(term, w, limit) <= limit
               for w in words if w.isalpha() and len(w) >= 3)


def missing_terms(question: str, passages: list[str], english: dict[str, int] | None = None,
                  known: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The question's specific words that no passage contains (spelling variants count as contained)."""
    words = set(tokenize(" ".join(passages)))
    return [t for t in key_terms(question, english, known) if not present(t, words)]


def _specifics(sentence: str, english: dict[str, int]) -> set[str]:
    """What a sentence asserts that must come from a passage: numbers, names and uncommon words."""
    text = CITATION.sub(" ", sentence)
    out = {n.rstrip(".,") for n in _NUMBER.findall(text)}
    out |= {n for n in names(text) if n not in STOPWORDS}
    out |= {w for w in tokenize(text) if w.isalpha() and len(w) >= 4 and specific(w, english)}
    return out


def _stretches(passage: str, size: int = 3) -> list[set[str]]:
    """Word sets of every run of `size` consecutive sentences of a passage (a fact and its context)."""
    toks = [set(tokenize(u.text)) for u in units(passage)]
    if len(toks) <= size:
        return [set().union(*toks)] if toks else []
    return [set().union(*toks[i:i + size]) for i in range(len(toks) - size + 1)]


def grounded(sentence: str, passages: list[str], english: dict[str, int] | None = None,
             min_share: float = 0.5) -> bool:
    """Does one stretch of a passage hold every number, name and uncommon word of the sentence together with at
    least `min_share` of its content words? A sentence with none of those is left to the overall support check."""
    english = _english() if english is None else english
    spec = _specifics(sentence, english)
    if not spec:
        return True
    content = content_words(sentence, ignore=GENERIC)
    for p in passages:
        for words in _stretches(p):
            stems = {_stem(w) for w in words}
            if all(present(s, words) for s in spec) and (
                    not content or len(content & stems) / len(content) >= min_share):
                return True
    return False


def drop_ungrounded(text: str, passages: dict[int, str], english: dict[str, int] | None = None) -> tuple[str, int]:
    """The answer without its sentences that no passage holds (see `grounded`), and how many were dropped.

    `passages`: citation number -> passage text. A sentence citing [n] is checked against the passages it cites;
    an uncited one against all of them."""
    english = _english() if english is None else english
    out, dropped = [], 0
    for piece in SENTENCE_BREAK.split(text):
        body = piece.strip()
        if not body:
            out.append(piece)
            continue
        cited = [passages[int(n)] for n in CITATION.findall(body) if int(n) in passages]
        if grounded(body, cited or list(passages.values()), english):
            out.append(piece)
        else:
            dropped += 1
    return "".join(out).strip(), dropped


__all__ = ["GENERIC", "acronyms", "acronyms_of", "drop_ungrounded", "grounded", "key_terms", "missing_terms", "present", "specific"]
