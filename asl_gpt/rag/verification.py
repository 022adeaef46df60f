"""Check, after the model writes: every answer sentence verified against the sentences of the passages it cites.

A small model borrows the passages' words for facts they do not state ("the law requires deaf people to have a
disability insurance policy [1]") and flips what they say ("Yes, X is the same as Y [1]" where the passage says
they differ). So each answer sentence must be held by one stretch of a cited passage (a sentence and its
neighbours): most of its stemmed content words, every name, number and uncommon word (`grounding.grounded`), and
the same polarity (negation, same/different, must/need not). A sentence that fails is replaced by the passage
sentence it misstates, quoted and cited, or dropped when it matches none; an answer none of whose sentences holds
is unusable and the selected quotes stand in for it. `Verification` counts what happened, for `bench answers`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from asl_gpt.rag.correction import tokenize
from asl_gpt.rag.grounding import attribute_sentences, grounded, supported
from asl_gpt.rag.lexicon import (DIFFERENT_WORDS, GENERIC, MUST_WORDS, NEGATIONS, OPTIONAL_WORDS, SAME_WORDS)
from asl_gpt.rag.sources import Source
from asl_gpt.rag.text import CITATION, SENTENCE_BREAK, content_words, stem, substantive, tidy_markers, units
from asl_gpt.rag.windows import ContextOptions
from asl_gpt.words import english_frequencies

log = logging.getLogger(__name__)

MIN_SHARE = 0.6  # of a sentence's content words, in its stretch of the passage or the question
MIN_NEW = 0.5  # of the words it adds to the question's (or all of them, when it adds none), in the passage itself
SAME_CLAIM = 0.7  # sharing this much of each other's words, two sentences state the same claim
_OPENER = re.compile(r"^\s*(?:yes|no)\b[,:.!]?\s*", re.I)  # "Yes, ...", "No: ..." (decided in the choice check)


@dataclass(frozen=True)
class Verification:
    """What the check did to one answer (`Answer.verification`): claim precision is supported / checked."""

    checked: int = 0  # answer sentences with content words, checked against their passages
    supported: int = 0  # held by a stretch of a passage they cite, with the same polarity
    repaired: int = 0  # replaced by the passage sentence they misstate, or dropped
    added: int = 0  # passage sentences the check put in: the choice decided, the fact asked for

    @property
    def changed(self) -> bool:
        return bool(self.repaired or self.added)


@dataclass(frozen=True)
class Polarity:
    """What a sentence asserts, beyond its words: negated or not, same or different, required or not."""

    negated: bool
    same: bool | None = None  # says the things are the same (True) or differ (False); None: neither
    must: bool | None = None  # says it is required (True) or not (False); None: neither


def _denied(words: list[str], i: int, span: int = 3) -> bool:
    """Is words[i] negated by a negation within `span` words before it ("does not have to", "not the same")?"""
    return any(w in NEGATIONS or w.endswith("n't") for w in words[max(0, i - span):i])


def polarity(sentence: str) -> Polarity:
    """The sentence's polarity ("not the same" differs; "does not have to" is not required; "No," is decided
    elsewhere and ignored here). Same/different and must are read where they are said, negation over the sentence."""
    words = tokenize(_OPENER.sub("", CITATION.sub(" ", sentence.replace("’", "'"))))
    negated = sum(w in NEGATIONS or w.endswith("n't") for w in words) % 2 == 1
    same = must = None
    for i, w in enumerate(words):
        if same is None and (w in SAME_WORDS or w in DIFFERENT_WORDS):
            same = (w in SAME_WORDS) != _denied(words, i)
        obliges = w in MUST_WORDS or (w in ("have", "has", "had") and words[i + 1:i + 2] == ["to"])
        if must is None and (obliges or w in OPTIONAL_WORDS):
            must = obliges and not _denied(words, i)
    return Polarity(negated, same, must)


def contradicts(a: Polarity, b: Polarity, same_claim: bool) -> bool:
    """Do two sentences about one thing say opposite things? Negation alone counts only for the same claim."""
    if a.same is not None and b.same is not None and a.same != b.same:
        return True
    if a.must is not None and b.must is not None and a.must != b.must:
        return True
    return same_claim and a.negated != b.negated and a.same is None and b.same is None


@dataclass(frozen=True)
class Support:
    """The passage sentence closest to an answer sentence, and whether the answer sentence holds."""

    ok: bool
    n: int = 0  # the passage it is closest to
    sentence: str = ""  # that passage's closest sentence ("" when none shares its words)
    overlap: float = 0.0  # share of the answer sentence's content words in that passage sentence


def _passage_units(s: Source) -> list[str]:
    return [u.text for u in units(s.passage)]


def verify_sentence(body: str, cited: list[Source], question: str) -> Support:
    """Is one answer sentence held by a stretch (a sentence and its neighbours) of a passage it cites?"""
    words = content_words(_OPENER.sub("", body), ignore=GENERIC)
    asked = content_words(question, ignore=GENERIC)
    base = (words - asked) or words
    mine = polarity(body)
    best = Support(False)
    for s in cited:
        title = content_words(f"{s.title} {s.section}")
        us = _passage_units(s)
        for i, u in enumerate(us):
            own = content_words(u)
            near = set().union(*(content_words(x) for x in us[max(0, i - 1):i + 2])) | title
            overlap = len(words & own) / len(words)
            same_claim = overlap >= SAME_CLAIM and len(words & own) / max(1, len(own)) >= SAME_CLAIM
            holds = (len(words & (near | asked)) / len(words) >= MIN_SHARE and len(base & near) / len(base) >= MIN_NEW
                     and not contradicts(mine, polarity(u), same_claim)
                     and not any(contradicts(mine, polarity(x), False) for x in us[max(0, i - 1):i + 2]
                                 if len(words & content_words(x)) / len(words) >= MIN_NEW)
                     and grounded(body, [f"{s.title}. {s.section}. " + " ".join(us[max(0, i - 1):i + 2])]))
            if holds:
                return Support(True, s.n, u, overlap)
            if overlap > best.overlap and len(tokenize(u)) >= 3:
                best = Support(False, s.n, u, overlap)
    return best


def _quote(s: Support) -> str:
    return f'"{s.sentence.rstrip()}" [{s.n}]'


def verify(text: str, given: tuple[Source, ...], question: str) -> tuple[str, Verification]:
    """The answer with every sentence verified (see the module's docstring), and what was done. A sentence
    citing [n] is checked against the passages it cites; an uncited one against all of them."""
    by_n = {s.n: s for s in given}
    out: list[str] = []
    checked = held = repaired = 0
    for piece in SENTENCE_BREAK.split(text):
        body = piece.strip()
        if not body or not content_words(_OPENER.sub("", body), ignore=GENERIC):
            out.append(piece)  # "Yes." or a bare marker: nothing to check here
            continue
        checked += 1
        cited = [by_n[int(n)] for n in CITATION.findall(body) if int(n) in by_n] or list(given)
        support = verify_sentence(body, cited, question)
        if support.ok:
            held += 1
            out.append(piece)
            continue
        repaired += 1
        log.info("answer sentence not held by its passage (%s): %r", "replaced" if support.sentence else "dropped",
                 body[:80])
        if support.overlap >= MIN_NEW and support.sentence not in text and _quote(support) not in out:
            out.append(" " + _quote(support))
    return "".join(out).strip(), Verification(checked, held, repaired)


@dataclass(frozen=True)
class Checked:
    """The check stage's verdict on the model's answer."""

    text: str  # the verified answer, markers tidied and uncited sentences attributed; "" when unusable
    verification: Verification = Verification()


def check(text: str, given: tuple[Source, ...], read: list[str], question: str, opts: ContextOptions) -> Checked:
    """The model's answer checked against every passage given in the conversation (`given`; `read`: all the
    texts the model read). A short answer ("1817 [1].") is usable once it is over. What is left after the
    sentences are verified must still be supported as a whole, or the answer is unusable ("")."""
    english_frequencies()  # loaded once here, not inside the loop
    final = attribute_sentences(tidy_markers(text, {s.n for s in given}), given)
    kept, v = verify(final, given, question)
    if (v.supported or not v.checked) and substantive(kept, min_words=1) and supported(kept, read, question, opts):
        return Checked(kept, v)
    log.info("unusable answer (%r): quoting the passages instead", text.strip()[:80])
    return Checked("", v)
