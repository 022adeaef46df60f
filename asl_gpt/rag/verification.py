"""Check, after the model writes: every answer sentence verified against the sentences of the passages it cites.

A small model borrows the passages' words for facts they do not state ("the law requires deaf people to have a
disability insurance policy [1]") and flips what they say ("Yes, X is the same as Y [1]" where the passage says
they differ). So each answer sentence must be held by one stretch of a cited passage (a sentence and its
neighbours): most of its stemmed content words, every name, number and uncommon word (`grounding.grounded`), and
the same polarity (negation, same/different, must/need not). A sentence that fails is replaced by the passage
sentence it misstates, quoted and cited, or dropped when it matches none; an answer none of whose sentences holds
is unusable and the selected quotes stand in for it. `Verification` counts what happened, for `bench answers`.

The answer is composed here too: a choice the passages decide is said first ("No: <the deciding sentence> [n].");
the sentence with the fact asked for, which the chain streamed before the model wrote (`Lead`), opens the answer,
and the model's sentences follow without those that only restate it; each sentence is said once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from asl_gpt.rag.correction import tokenize
from asl_gpt.rag.decisions import SAME_CLAIM as DECIDES
from asl_gpt.rag.decisions import UNDECIDED, Decision, decide
from asl_gpt.rag.grounding import grounded, supported
from asl_gpt.rag.lexicon import DIFFERENT_WORDS, GENERIC, MODEL_REFUSALS, MUST_WORDS, SAME_WORDS
from asl_gpt.rag.questions import Choice, choice, question_kind
from asl_gpt.rag.scoring import ContextOptions
from asl_gpt.rag.sources import Source, attribute_sentences
from asl_gpt.rag.text import (CITATION, NUMBER, OPENER, SENTENCE_BREAK, YEAR, choice_opening, content_words,
                              contradicts, introduces, names, polarity, share_of, substantive, tidy_markers, units,
                              without_headings)

log = logging.getLogger(__name__)

MIN_SHARE = 0.6  # of a sentence's content words, in its stretch of the passage or the question
MIN_NEW = 0.5  # of the words it adds to the question's (or all of them, when it adds none), in the passage itself
SAME_CLAIM = 0.7  # sharing this much of each other's words, two sentences state the same claim
SAID = 0.9  # two sentences sharing this much of each other's content words say the same thing: the second is dropped


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
class Support:
    """The passage sentence closest to an answer sentence, and whether the answer sentence holds."""

    ok: bool
    n: int = 0  # the passage it is closest to
    sentence: str = ""  # that passage's closest sentence ("" when none shares its words)
    overlap: float = 0.0  # share of the answer sentence's content words in that passage sentence


def _passage_units(s: Source) -> list[str]:
    return [u.text for u in units(s.passage)]


def _same_claim(words: set[str], other: set[str], share: float = SAME_CLAIM) -> bool:
    """Do two sentences state the same claim (each holds `share` of the other's content words)?"""
    return len(words & other) / len(words) >= share and len(words & other) / max(1, len(other)) >= share


def verify_sentence(body: str, cited: list[Source], question: str) -> Support:
    """Is one answer sentence held by a stretch (a sentence and its neighbours) of a passage it cites?"""
    words = content_words(OPENER.sub("", body), ignore=GENERIC)
    asked = content_words(question, ignore=GENERIC)
    base = (words - asked) or words
    mine = polarity(body)
    best = Support(False)
    for s in cited:
        title = content_words(f"{s.title} {s.section}")
        us = _passage_units(s)
        unit_words = [content_words(u) for u in us]  # each unit's words, read once for every stretch it is in
        for i, u in enumerate(us):
            own = unit_words[i]
            stretch = range(max(0, i - 1), min(len(us), i + 2))  # the sentence and its neighbours
            near = set().union(*(unit_words[j] for j in stretch)) | title
            overlap = len(words & own) / len(words)
            same_claim = _same_claim(words, own)
            holds = (len(words & (near | asked)) / len(words) >= MIN_SHARE and len(base & near) / len(base) >= MIN_NEW
                     and not contradicts(mine, polarity(u), same_claim)
                     and not any(contradicts(mine, polarity(us[j]), _same_claim(words, unit_words[j])) for j in stretch
                                 if len(words & unit_words[j]) / len(words) >= MIN_NEW)
                     and grounded(body, [f"{s.title}. {s.section}. " + " ".join(us[j] for j in stretch)]))
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
        if not body or not content_words(OPENER.sub("", body), ignore=GENERIC):
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
        whole = support.sentence.rstrip().endswith((".", "!", "?", '"', "”"))  # not a chunk's cut-off end
        new = support.sentence not in text and _quote(support) not in "".join(out)
        if support.overlap >= MIN_NEW and whole and new:
            out.append(" " + _quote(support))
    return "".join(out).strip(), Verification(checked, held, repaired)


@dataclass(frozen=True)
class Checked:
    """The check stage's verdict on the model's answer."""

    text: str  # the verified answer, markers tidied and uncited sentences attributed; "" when unusable
    verification: Verification = Verification()


def holds_fact(answer: str, fact: str, question: str) -> bool:
    """Does the answer state the fact the question asks for, the fact sentence's news? For "when", its year; for
    "where", one of its places; for "who", a person the fact sentence names beyond the question's ("who made Cued
    Speech": Cornett; "who was Clerc": Gallaudet, whom he founded the school with); else the fact's numbers and
    half of the words it adds to the question (a definition, the differing detail), in each of its sentences (a
    term's form, then what it means). Another year or place than the fact sentence's does not count: "Gallaudet
    College ... established in 1857" does not say when it became a university."""
    said = set(tokenize(CITATION.sub(" ", answer)))
    kind = question_kind(question)
    new_names = names(CITATION.sub(" ", answer)) - set(tokenize(question))
    if kind == "when" and YEAR.search(fact):
        return set(YEAR.findall(fact)) <= set(YEAR.findall(answer))
    fact_names = names(fact) - set(tokenize(question))
    if kind == "where" and fact_names:
        return bool(fact_names & new_names)
    if kind == "who" and fact_names:
        return bool(fact_names & said)
    if any(n.rstrip(".,") not in said for n in NUMBER.findall(fact)):
        return False
    stated = content_words(answer)
    for part in units(fact):  # each sentence of a two-sentence fact: a term's form and then its meaning
        news = content_words(part.text) - content_words(question)
        if news and len(news & stated) / len(news) < MIN_NEW:
            return False
    return True


def said_once(text: str) -> str:
    """The answer with each sentence said once and no lead-in left hanging at its end. A repair or an added fact
    can repeat a sentence the answer has ("The app asks the browser for 640x480 video ... [1]" twice); a model
    that copies a list's lead-in but not the list leaves "To improve it: [1] [2]". Both read as faults."""
    out: list[str] = []
    seen: list[set[str]] = []
    for piece in SENTENCE_BREAK.split(text):
        words = content_words(CITATION.sub(" ", piece))
        if words and any(_same_claim(words, w, SAID) for w in seen):
            log.info("a repeated answer sentence dropped: %r", piece.strip()[:80])
            continue
        seen.append(words)
        out.append(piece)
    while out and introduces(out[-1]):
        log.info("a lead-in with nothing after it dropped: %r", out.pop().strip()[:80])
    return "".join(out).strip()


def _restates(piece: str, lead: str) -> bool:
    """Does a sentence of the model's say nothing the answer's opening has not: most of its words and all its
    numbers are the opening's ("1817 [1]." after "The school opened in Hartford in 1817 [1].")?"""
    body = CITATION.sub(" ", piece)
    words, numbers = content_words(body), set(NUMBER.findall(body))
    if not words and not numbers:
        return False
    in_lead = not words or len(words & content_words(lead)) / len(words) >= SAME_CLAIM
    return in_lead and numbers <= set(NUMBER.findall(CITATION.sub(" ", lead)))


def _states_claim(body: str, question: str, share: float = DECIDES) -> bool:
    """Does a sentence hold `share` of a yes/no question's words, so that it says yes or no to it, either way?"""
    asked = content_words(question, stem_words=False, ignore=GENERIC | SAME_WORDS | DIFFERENT_WORDS | MUST_WORDS)
    return bool(asked) and share_of(asked, body) >= share


def _against(body: str, d: Decision, question: str) -> bool:
    """Does a sentence of the model's restate the question's claim with the polarity the decision denies ("ASL GPT
    can understand full ASL signs" after "No: ...")? Only a sentence holding most of the question's words counts."""
    if d.word not in ("Yes", "No") or not _states_claim(body, question):
        return False
    qp, bp = polarity(question), polarity(body)
    if qp.same is not None and bp.same is not None:
        agrees = qp.same == bp.same
    elif qp.must is not None and bp.must is not None:
        agrees = qp.must == bp.must
    else:
        agrees = qp.negated == bp.negated
    return agrees != (d.word == "Yes")


def answer_choice(text: str, ch: Choice, d: Decision, question: str = "") -> tuple[str, bool]:
    """(the answer with the decision first, whether a passage sentence was put in): "No: <the sentence that
    decides it> [n]." and the passage's next sentence when it goes on about it (the reason, the detail), then the
    model's other sentences, its own yes/no dropped and any that restates what the decision denies. Undecided, it
    says so in place of the model's guess, and drops the sentences that restate the claim the guess answered ("Yes,
    the hospital can have your kid interpret" is not kept as "The hospital can have your kid interpret"); a yes/no
    answer that guessed nothing is left as it was."""
    rest = []
    opening = choice_opening(d.word, d.sentence, d.n, d.follow, d.follow_n) if d.word else ""
    guessed = not d.word and ch.kind == "yes_no" and bool(OPENER.match(text))
    for piece in SENTENCE_BREAK.split(text):
        body = OPENER.sub("", piece.strip()) if not rest else piece.strip()
        plain = CITATION.sub("", body).strip().rstrip(".")
        if body and (not d.sentence or plain not in d.sentence) and not (d.follow and plain in d.follow):
            if guessed and _states_claim(body, question, SAME_CLAIM):  # the claim itself, not a sentence beside it
                log.info("an undecided yes/no: the model's claim dropped: %r", body[:80])
            elif not (d.word and (_against(body, d, question) or _restates(body, opening))):
                rest.append(body[:1].upper() + body[1:])
    if d.word:
        return " ".join([opening, *rest]).strip(), True
    if ch.kind == "yes_no" and not OPENER.match(text):
        return text, False  # no guess to take back
    if ch.kind == "yes_no":
        head = f"{UNDECIDED} say yes or no to that directly."
    else:
        names = [f'"{o}"' for o in ch.options]
        head = f"{UNDECIDED} decide between {', '.join(names[:-1])} and {names[-1]}."
    return " ".join([head, *rest]).strip(), False


@dataclass(frozen=True)
class Lead:
    """What the passages answer before the model writes a word (found by the select stage, numbered as the prompt
    numbers its passages): a choice they decide ("No: <the deciding sentence> [n]." and its reason) or the sentence
    with the fact asked for, cited. The chain streams it first, so the answer begins at once; the checked answer
    opens with it."""

    text: str  # cited, as streamed
    fact: str = ""  # the fact sentence, when the lead is the fact asked for ("": a decided choice)


def check(text: str, given: tuple[Source, ...], read: list[str], question: str, opts: ContextOptions,
          lead: Lead | None = None, decision: Decision | None = None) -> Checked:
    """The model's answer checked against every passage given in the conversation (`given`; `read`: all the
    texts the model read). A short answer ("1817 [1].") is usable once it is over. What is left after the
    sentences are verified must still be supported as a whole, or the answer is unusable (""). A choice is
    decided by the passages (`decision`, the select stage's; decided here when not given) and said first; a fact
    lead (the sentence with the fact asked for) opens the answer, and the model's sentences that only restate it
    are dropped."""
    final = attribute_sentences(without_headings(tidy_markers(text, {s.n for s in given}), {s.section for s in given}),
                                given)
    kept, v = verify(final, given, question)
    usable = (v.supported or not v.checked) and substantive(kept, min_words=1) and supported(kept, read, question, opts)
    ch = choice(question)
    if ch is not None:
        d = decision if decision is not None else decide(ch, question, given)
        if usable or d.word:
            kept, added = answer_choice(kept if usable else "", ch, d, question)
            log.info("choice question %r: %s", question[:80], d.word or "not decided by the passages")
            return Checked(said_once(kept), replace(v, added=v.added + added))
    if lead is not None and lead.fact:
        rest = [p for p in SENTENCE_BREAK.split(kept) if p.strip() and not _restates(p, lead.text)] if usable else []
        if not usable or not holds_fact(kept, lead.fact, question):
            log.info("the answer %s: the passage's fact opens it", "left out the fact asked for" if usable else
                     "is unusable")
            v = replace(v, added=v.added + 1)
        return Checked(said_once(" ".join([lead.text, *(p.strip() for p in rest)])), v)
    if usable:
        return Checked(said_once(kept), v)
    log.info("unusable answer (%r): quoting the passages instead", text.strip()[:80])
    return Checked("", v)


def keeps_refusal(draft: str, quotes: list[tuple[str, str]], asked: str) -> bool:
    """Is the model's unusable draft a refusal that stands? It does when the draft says the passages do not answer
    and no quote that would replace it shares a topic word with `asked` (what the user typed or signed, before any
    correction): "alarm" corrected from a garbled word finds quotes about alarms the user never asked about."""
    said = draft.lower().replace("\u2019", "'")
    if not any(phrase in said for phrase in MODEL_REFUSALS):
        return False
    topic = content_words(asked, ignore=GENERIC)
    return not any(topic & content_words(sentence) for _, sentence in quotes)
