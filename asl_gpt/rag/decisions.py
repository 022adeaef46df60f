"""Check, for a question whose answer is a choice: decided from the passage, said first, then the sentence that
decides it, cited.

A small model answers "Yes, X is the same as Y [1]" where the passage says they differ, and "Yes, you should do A
or B" to "A or B". So the code decides: for yes/no, the polarity of the passage sentence that states the question's
claim (same/different, must/need not, negated or not) against the question's; for "A or B" and "which of", the one
option a passage sentence states without negating it. When the passages do not decide, the answer says so instead
of guessing. Pure code over strings.
"""

from __future__ import annotations

from dataclasses import dataclass

from asl_gpt.rag.correction import tokenize
from asl_gpt.rag.lexicon import GENERIC
from asl_gpt.rag.questions import Choice
from asl_gpt.rag.sources import Source
from asl_gpt.rag.text import CITATION, OPENER, SENTENCE_BREAK, content_words, polarity, present, units

MIN_CLAIM = 0.5  # of the question's content words a passage sentence must state to decide yes or no
MIN_ASPECT = 0.34  # ... when it also says same/different or must/need not, as the question asks
SAME_CLAIM = 0.6  # a sentence this close to the question decides by negation alone
MARGIN = 0.25  # how much better one option's sentence must match the question than another's


@dataclass(frozen=True)
class Decision:
    """The choice the passages make: "Yes", "No", an option as asked, or "" (they do not decide)."""

    word: str
    n: int = 0  # the passage of the deciding sentence
    sentence: str = ""


def _sentences(given: tuple[Source, ...]) -> list[tuple[int, str]]:
    return [(s.n, u.text) for s in given for u in units(s.passage) if len(tokenize(u.text)) >= 3]


def _yes_no(question: str, given: tuple[Source, ...]) -> Decision:
    asked = content_words(question, ignore=GENERIC)
    if not asked:
        return Decision("")
    qp = polarity(question)
    tokens = set(tokenize(question))
    best, best_score = None, 0.0
    for n, text in _sentences(given):
        sp = polarity(text)
        aspect = (qp.same is not None and sp.same is not None) or (qp.must is not None and sp.must is not None)
        overlap = len(asked & content_words(text)) / len(asked)
        # ties go to the sentence sharing more of the question's own words ("have to pay", not "must provide")
        score = overlap + 0.5 * aspect + 0.01 * len(tokens & set(tokenize(text)))
        if overlap >= (MIN_ASPECT if aspect else MIN_CLAIM) and score > best_score:
            best, best_score = (n, text, sp, aspect, overlap), score
    if best is None:
        return Decision("")
    n, text, sp, aspect, overlap = best
    if aspect:
        agrees = qp.same == sp.same if (qp.same is not None and sp.same is not None) else qp.must == sp.must
    elif overlap >= SAME_CLAIM:
        agrees = qp.negated == sp.negated
    else:
        return Decision("")
    return Decision("Yes" if agrees else "No", n, text)


def _option(ch: Choice, question: str, given: tuple[Source, ...]) -> Decision:
    rest = content_words(question, ignore=GENERIC) - {w[:5] if len(w) > 5 else w for ws in ch.words for w in ws}
    best: dict[int, tuple[float, int, str]] = {}
    for n, text in _sentences(given):
        words = set(tokenize(text))
        holds = [i for i, ws in enumerate(ch.words) if all(present(w, words) for w in ws)]
        if len(holds) != 1 or polarity(text).negated:
            continue  # a sentence naming both options, or denying one, decides nothing alone
        score = len(rest & content_words(text)) / len(rest) if rest else 1.0
        if score > best.get(holds[0], (-1.0,))[0]:
            best[holds[0]] = (score, n, text)
    if not best:
        return Decision("")
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
    if len(ranked) > 1 and ranked[0][1][0] - ranked[1][1][0] < MARGIN:
        return Decision("")
    i, (score, n, text) = ranked[0]
    return Decision(ch.options[i][:1].upper() + ch.options[i][1:], n, text) if score > 0 else Decision("")


def decide(ch: Choice, question: str, given: tuple[Source, ...]) -> Decision:
    """The choice the passages given make for the question (see the module's docstring)."""
    return _yes_no(question, given) if ch.kind == "yes_no" else _option(ch, question, given)


def _cited(sentence: str, n: int) -> str:
    body = sentence.rstrip().rstrip(".!?")
    return f"{body} [{n}]."


def answer_choice(text: str, ch: Choice, d: Decision) -> tuple[str, bool]:
    """(the answer with the decision first, whether a passage sentence was put in): "No: <the sentence that
    decides it> [n]." and the model's other sentences, its own yes/no dropped; undecided, it says so."""
    rest = []
    for piece in SENTENCE_BREAK.split(text):
        body = OPENER.sub("", piece.strip()) if not rest else piece.strip()
        if body and (not d.sentence or CITATION.sub("", body).strip().rstrip(".") not in d.sentence):
            rest.append(body[:1].upper() + body[1:])
    if d.word:
        return " ".join([f"{d.word}: {_cited(d.sentence, d.n)}", *rest]).strip(), True
    if ch.kind == "yes_no":
        head = "The passages do not say yes or no to that directly."
    else:
        names = [f'"{o}"' for o in ch.options]
        head = f"The passages do not decide between {', '.join(names[:-1])} and {names[-1]}."
    return " ".join([head, *rest]).strip(), False
