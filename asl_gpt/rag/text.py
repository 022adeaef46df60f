"""The words and sentences of passages and answers: the one sentence splitter, citation marker, stem and
content-words function of rag/, the names and numbers a sentence states, and a word's presence among others.

Pure code over strings, below every stage: retrieval, selection, grounding and citing all read text the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asl_gpt.rag.correction import tokenize, weighted_distance
from asl_gpt.rag.lexicon import (DIFFERENT_WORDS, DOWN_WORDS, MUST_WORDS, NEGATIONS, NOT_NAMES, OPTIONAL_WORDS,
                                 SAME_WORDS, STOPWORDS, UP_WORDS)
from asl_gpt.words import english_frequencies

# Sentence breaks: after . ! ? and before white space, unless the dot ends an initial ("I. King Jordan") or a
# title ("Stokoe Jr. was"), and after every line break (list items and headings are sentences of their own).
# A break is an empty match, so the pieces of a split join back into the text (an answer is rebuilt with its
# citations); readers of passages strip them.
SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\b(?:Dr|Mr|Ms|St|Jr|Sr)\.)(?<!\bMrs\.)(?=\s)|(?<=\n)")
CITATION = re.compile(r"\[(\d+)\]")  # a citation marker: [n] cites passage n
NUMBER = re.compile(r"\b\d[\d,.]*\b")
YEAR = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)s?\b")
ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")  # a list item's mark
HEADING_LINE = re.compile(r"^\s*#+\s+")
# "Yes, ...", "No: ...": a choice, decided on its own; not "No bouncing on each letter", which says something.
OPENER = re.compile(r"^\s*(?:yes|no)\s*[,:.!]\s*", re.I)


def sentences(text: str) -> list[str]:
    """Sentences and list items of a passage, Markdown bullets and heading marks removed."""
    out = []
    for s in SENTENCE_BREAK.split(text or ""):
        s = re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)\s+", "", s).strip()
        if s:
            out.append(s)
    return out


def stem(word: str) -> str:
    """A crude shared form: "founded", "founder", "founding" -> "found"; short words stay whole."""
    return word[:5] if len(word) > 5 else word


def content_words(text: str, stem_words: bool = True, shortest: int = 3, letters_only: bool = True,
                  ignore: frozenset[str] = frozenset()) -> set[str]:
    """The words of `text` that say what it is about: no citation markers, stopwords (nor the words in `ignore`)
    or words shorter than `shortest`; with `letters_only`, no numbers or contractions; with `stem_words`, in their
    crude shared form ("founded" and "founder" are one word)."""
    return {stem(w) if stem_words else w for w in tokenize(CITATION.sub(" ", text))
            if len(w) >= shortest and w not in STOPWORDS and w not in ignore and (w.isalpha() or not letters_only)}


@dataclass(frozen=True)
class Unit:
    """A sentence of a passage and the block it belongs to: one list item (a dictionary entry, a step) or one
    paragraph. The sentences of a list item are kept or dropped together; a neighbour is never taken from
    another item, so one entry (THANK-YOU) never runs into the next (PLEASE, SORRY)."""

    text: str
    block: int
    item: bool


def units(text: str) -> list[Unit]:
    out: list[Unit] = []
    block = -1
    for line in (text or "").split("\n"):
        if not line.strip():
            continue
        item = bool(ITEM.match(line))
        block += 1  # every line is a block: list items, headings and paragraphs are one line each here
        body = HEADING_LINE.sub("", ITEM.sub("", line, count=1)).strip()
        for s in SENTENCE_BREAK.split(body):
            s = s.strip()
            if s:
                out.append(Unit(s, block, item))
    return out


def names(sentence: str) -> set[str]:
    """Capitalised words that are not common English words: people and places ("Gallaudet", "Clerc", "Hartford";
    not "School" or "United States")."""
    found = set()
    for m in re.finditer(r"[A-Za-z][A-Za-z'’-]*", sentence):
        w = m.group(0)
        parts = w.lower().split("'")[0].split("-")  # "Deaf-Mute" is a name only if each part could be one
        if w[0].isupper() and not w.isupper() and all(p and p not in NOT_NAMES and rare(p) for p in parts):
            found.add("-".join(parts))
    return found


def rare(word: str) -> bool:
    """Not a common English word."""
    return english_frequencies().get(word, 0) < 5000


def forms(word: str) -> set[str]:
    """The word, its crude stem and its singular: "classifiers" also matches "classifier" and "classif"."""
    out = {word, stem(word)}
    for suffix in ("es", "s", "ed", "ing"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.add(word[:-len(suffix)])
    return out


def present(term: str, words: set[str]) -> bool:
    """Is `term` (or a spelling one or two cheap edits away) among `words`? Numbers must match exactly."""
    if term.isdigit():
        return term in words
    if forms(term) & (words | {stem(w) for w in words}):
        return True
    if len(term) >= 4 and any(w.startswith(term) for w in words):  # "fast" in "faster"
        return True
    limit = 1.0 if len(term) <= 4 else 1.5 if len(term) <= 6 else 2.0
    return any(abs(len(w) - len(term)) <= limit and weighted_distance(term, w, limit) <= limit
               for w in words if w.isalpha() and len(w) >= 3)


def substantive(text: str, min_words: int = 4) -> bool:
    """Has the answer real words beyond citation markers and "Passage" labels? (Numbers count: "1817 [1].")"""
    words = [w for w in tokenize(CITATION.sub(" ", text)) if (w.isalpha() and w != "passage") or w.isdigit()]
    return len(words) >= min_words


def tidy_markers(text: str, valid: set[int]) -> str:
    """The answer without the prompt's passage labels the model echoed, marker runs that cite nothing in
    particular, and markers that name no passage in `valid`."""
    # Small models echo the prompt's passage labels ('(from "Title", section "S"): [1] ...',
    # "Passage [1] states that ..."): the label is not part of the answer.
    # At a line's or a sentence's start, with the markers after it.
    text = re.sub(rf'(?m)(?:^|(?<=[.!?])[ \t])\s*(?:Passage {CITATION.pattern} )?\(from "[^"\n]*"'
                  rf'(?:, section "[^"\n]*")?\):?\s*(?:{CITATION.pattern}\s*)*',
                  lambda m: " " if m.start() else "", text)
    text = re.sub(rf"(?im)^\s*passage {CITATION.pattern} (?:states|says|explains|mentions) that\s+(\w)",
                  lambda m: m.group(2).upper(), text)
    # A run of markers opening the answer or a line ("[1] The letter…") cites nothing in particular:
    # drop it and let the sentence be attributed from its words.
    text = re.sub(rf"(?m)^(\s*{CITATION.pattern}\s*)+", "", text)
    cleaned = CITATION.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", text)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip()
    return cleaned


def without_headings(text: str, headings: set[str]) -> str:
    """The answer without sentences that are a passage's heading used as a label: the heading, then nothing or
    punctuation ("Thomas Hopkins Gallaudet's journey to Europe, funded by Cogswell [3]." where the section is
    "Thomas Hopkins Gallaudet's journey to Europe"); a sentence that goes on with a verb after it stays."""
    heads = [h.strip().lower() for h in headings if len(h.strip()) >= 12]

    def label(piece: str) -> bool:
        body = piece.strip().lower()
        return any(body.startswith(h) and re.match(r"\s*(?:$|[,:;.\u2014-]|\[\d+\])", body[len(h):]) for h in heads)

    return "".join(p for p in SENTENCE_BREAK.split(text) if not label(p)).strip()


# -- polarity: what a sentence asserts beyond its words --------------------------------------------------------
@dataclass(frozen=True)
class Polarity:
    """What a sentence asserts, beyond its words: negated or not, same or different, required or not."""

    negated: bool  # a negation anywhere (double negatives are rare in these documents; "not ... no" is not one)
    same: bool | None = None  # says the things are the same (True) or differ (False); None: neither
    must: bool | None = None  # says it is required (True) or not (False); None: neither
    up: bool | None = None  # says it goes up / is high (True) or down / low (False); None: neither or both


def _denied(words: list[str], i: int, span: int = 3) -> bool:
    """Is words[i] negated by a negation within `span` words before it ("does not have to", "not the same")?"""
    return any(w in NEGATIONS or w.endswith("n't") for w in words[max(0, i - span):i])


# "It means normally ...", "This refers to ...": a sentence that says what the one before it names means
_CONTINUES = re.compile(r"^(?:it|this|that|they)\s+(?:means?|refers?\s+to|stands?\s+for|is\s+used|are\s+used)\b",
                        re.IGNORECASE)


def says_its_meaning(sentence: str) -> bool:
    """Does the sentence go on about the one before it, saying what it means ("It means small, thin ...")? A
    glossary item's first sentence often gives only the form ("OO: lips rounded and pursed.")."""
    return bool(_CONTINUES.match(sentence))


def polarity(sentence: str) -> Polarity:
    """The sentence's polarity ("not the same" differs; "does not have to" is not required; "does not rise" goes down;
    "No," is decided elsewhere and ignored here). Same/different, must and up/down are read where they are said,
    negation over the sentence."""
    words = tokenize(OPENER.sub("", CITATION.sub(" ", sentence.replace("’", "'"))))
    negated = any(w in NEGATIONS or w.endswith("n't") for w in words)  # "does not ... and has no": still negative
    same = must = None
    for i, w in enumerate(words):
        if w == "same" and words[i + 1:i + 2] == ["time"]:
            continue  # "at the same time": when, not whether two things are the same ("the same way" may be)
        if same is None and (w in SAME_WORDS or w in DIFFERENT_WORDS):
            same = (w in SAME_WORDS) != _denied(words, i)
        obliges = w in MUST_WORDS or (w in ("have", "has", "had") and words[i + 1:i + 2] == ["to"])
        if must is None and (obliges or w in OPTIONAL_WORDS):
            must = obliges and not _denied(words, i)
    ways = {(w in UP_WORDS) != _denied(words, i) for i, w in enumerate(words) if w in UP_WORDS or w in DOWN_WORDS}
    return Polarity(negated, same, must, ways.pop() if len(ways) == 1 else None)


def contradicts(a: Polarity, b: Polarity, same_claim: bool) -> bool:
    """Do two sentences about one thing say opposite things? Negation alone, and up against down, count only for the
    same claim."""
    if a.same is not None and b.same is not None and a.same != b.same:
        return True
    if a.must is not None and b.must is not None and a.must != b.must:
        return True
    if same_claim and a.up is not None and b.up is not None and a.up != b.up:
        return True  # "rises" against "is low", said of the same thing
    return same_claim and a.negated != b.negated and a.same is None and b.same is None


# What may follow a word in another form of it ("interpret" in "interpreters", "deaf" in "deafness"); another word
# that merely starts with it is not it ("hands" in "handshapes", "sign" in "signature").
_ENDINGS = re.compile(r"(?:e?s|e?d|ing|ings|e?rs?|ors?|ness|ly|al|ally|ations?|ions?|ive|ity|ments?|ful|able|ible|ic|"
                      r"ical|ists?|ism|y|ies|ied)")


def has_word(word: str, words: set[str]) -> bool:
    """The word itself or one of its forms ("names" in "name", "sign" in "signing", "interpret" in "interpreters"),
    not a crude stem, a near spelling or a longer word: "internet" is not "interpreter", "hands" not "handshapes"."""
    return bool(forms(word) & words) or (len(word) >= 4 and any(
        w.startswith(word) and _ENDINGS.fullmatch(w[len(word):]) for w in words))


def share_of(asked: set[str], text: str) -> float:
    """The share of the asked words that the text says (in any of their forms)."""
    words = set(tokenize(text))
    return sum(has_word(w, words) for w in asked) / len(asked)


_INTRODUCES = re.compile(r":\s*(?:\[\d+\]\s*)*\.?\s*$")


_REFERS_BACK = re.compile(r"^(?:he|she|they|it|this|these|that|those|his|her|their|its)\b|\b(?:this|these)\s+[a-z]+",
                          re.IGNORECASE)


def refers_back(sentence: str) -> bool:
    """Does the sentence lean on the one before it: a pronoun first ("They sailed in 1816.") or "this/these X"
    ("ASL belongs to this family.")?"""
    return bool(_REFERS_BACK.search(sentence))


def introduces(sentence: str) -> bool:
    """Does the sentence end by introducing what follows ("Common conventions include:", "... include: [3].")?"""
    return bool(_INTRODUCES.search(sentence))


def cited_sentence(text: str, n: int) -> str:
    """The sentence (each sentence of the text) with its citation, ending as a sentence: "It opened in 1817 [1]."
    (one that introduces what follows keeps its colon: "... are not the same thing [1]: ...")."""
    return " ".join(f"{u.text.rstrip().rstrip('.!?:')} [{n}]{':' if introduces(u.text) else '.'}" for u in units(text))


def choice_opening(word: str, sentence: str, n: int, follow: str = "", follow_n: int = 0) -> str:
    """How a decided choice opens the answer: "No: <the deciding sentence> [n]." and the passage's next sentence
    when it goes on about it."""
    return " ".join([f"{word}: {cited_sentence(sentence, n)}", *([cited_sentence(follow, follow_n or n)] if follow
                                                                  else [])])
