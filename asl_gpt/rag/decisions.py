"""Select, for a question whose answer is a choice: what the passages decide, before the model writes (the check
stage says it first, then the sentence that decides it, cited: `verification.answer_choice`).

A small model answers "Yes, X is the same as Y [1]" where the passage says they differ, and "Yes, you should do A
or B" to "A or B". So the code decides: for yes/no, the polarity of the passage sentence that states the question's
claim (same/different, must/need not, negated or not) against the question's; for "A or B" and "which of", the one
option a passage sentence states without negating it. When the passages do not decide, the answer says so instead
of guessing. Pure code over strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asl_gpt.rag.correction import tokenize
from asl_gpt.rag.lexicon import (CONTRARIES, DIFFERENT_WORDS, EARLIER_WORDS, GENERIC, LATER_WORDS, MUST_WORDS,
                                 PERSON_WORDS, SAME_WORDS, STOPWORDS)
from asl_gpt.rag.questions import Choice
from asl_gpt.rag.sources import Source
from asl_gpt.rag.text import (HEADING_LINE, OPENER, YEAR, content_words, forms, has_word, introduces, names, polarity,
                              refers_back, says_its_meaning, share_of, units)

UNDECIDED = "The passages do not"  # how an answer opens when the passages leave its choice open
MIN_CLAIM = 0.5  # of the question's content words a passage sentence must state to decide yes or no
MIN_ASPECT = 0.3  # ... when it also says same/different or must/need not, as the question asks
SAME_CLAIM = 0.6  # a sentence this close to the question decides by negation alone
MARGIN = 0.25  # how much better one option's sentence must match the question than another's
TOPIC = 2  # other sentences of its passage that must say a question word for a sentence to leave it to "it"


@dataclass(frozen=True)
class Decision:
    """The choice the passages make: "Yes", "No", an option as asked, or "" (they do not decide)."""

    word: str
    n: int = 0  # the passage of the deciding sentence
    sentence: str = ""
    follow: str = ""  # the passage's next sentence when it goes on about the same thing: the reason or the detail
    follow_n: int = 0  # the passage of `follow` when not n (the other option's date)


def _sentences(given: tuple[Source, ...]) -> list[tuple[int, str, int]]:
    """(passage number, sentence, its block) of every passage, headings left out: a heading names a topic, it
    decides nothing."""
    out = []
    for s in given:
        headings = {HEADING_LINE.sub("", x).strip() for x in s.passage.split("\n") if HEADING_LINE.match(x)}
        out += [(s.n, u.text, u.block) for u in units(s.passage)
                if len(tokenize(u.text)) >= 3 and u.text not in headings]
    return out


def _follow(sents: list[tuple[int, str, int]], i: int) -> str:
    """The sentence after sents[i] in its paragraph or list item ("Cued Speech is not a sign language at all." ->
    "Cued Speech was developed ... to make the sounds of spoken language visible."), or the first item of the list a
    sentence introduces ("... are not the same thing:"); "" at the block's end."""
    if i + 1 >= len(sents) or sents[i + 1][0] != sents[i][0]:
        return ""
    if sents[i + 1][2] != sents[i][2] and not introduces(sents[i][1]):
        return ""
    return sents[i + 1][1]


def subject(text: str) -> tuple[set[str], list[str]]:
    """(the content words before a sentence's same/different or must word: who must, what is the same; those after
    it, in order: what must be done), the one asking and the one addressed as one ("person"); empty without such a
    word."""
    words = tokenize(OPENER.sub("", text.replace("’", "'")))

    def keep(xs):
        return ["person" if x in PERSON_WORDS else x for x in xs
                if x in PERSON_WORDS or (x not in STOPWORDS and x not in GENERIC and len(x) > 2)]

    for i, w in enumerate(words):
        has_to = w in ("have", "has") and words[i + 1:i + 2] == ["to"]
        if w in MUST_WORDS or w in SAME_WORDS or w in DIFFERENT_WORDS or has_to:
            return set(keep(words[:i])), [x for x in keep(words[i + 1:]) if x != "person"]
    return set(), []


def _does(action: list[str], words: set[str]) -> bool:
    """Does a sentence name what the question asks be done: its first word (the verb) and half of the rest?"""
    if not action:
        return True
    rest = action[1:]
    return has_word(action[0], words) and (not rest or sum(has_word(w, words) for w in rest) / len(rest) >= 0.5)


def _phrase(phrase: tuple[str, ...], toks: list[str]) -> bool:
    """Are the phrase's words, in any of their forms, consecutive in toks ("one hand" in "one-handed")?"""
    k = len(phrase)
    return any(all(w == t or w in forms(t) for w, t in zip(phrase, toks[i:i + k])) for i in range(len(toks) - k + 1))


def _contrary(q_toks: list[str], s_toks: list[str]) -> bool:
    """Does the sentence state the contrary of what the question asks ("two hands" for "one handed"), and not
    the asked side itself?"""
    for a, b in CONTRARIES:
        for x, y in ((a, b), (b, a)):
            if _phrase(x, q_toks) and not _phrase(y, q_toks) and _phrase(y, s_toks) and not _phrase(x, s_toks):
                return True
    return False


def _elsewhere(asked: set[str], q_toks: list[str], text: str) -> bool:
    """Does a question word belong to another named subject of the sentence ("Gallaudet as principal and Clerc as
    head teacher" gives "principal" to Gallaudet, not Clerc)? Each word goes to the nearest name, the one before it
    on a tie (English says the subject first); only when the question names someone the sentence names."""
    toks, named = tokenize(text), names(text)
    own = {x for x in named if x in q_toks}
    at = [(i, t) for i, t in enumerate(toks) if t in named]
    if not own or not named - own:
        return False
    for w in asked - named:
        places = [i for i, t in enumerate(toks) if has_word(w, {t})]
        if places and all(min(at, key=lambda p: abs(p[0] - i) + 0.5 * (p[0] > i))[1] not in own for i in places):
            return True
    return False


def _claim(asked: set[str], q_toks: list[str], i: int, sents: list[tuple[int, str, int]],
           said: list[set[str]]) -> tuple[str, float, float]:
    """How sents[i] bears on a yes/no question's claim (its subject and predicate), the share of the claim it
    states and the share it says in its own words: "contrary" (a contrary of the predicate), "states" (every
    question word, or all but one in a denial) or "" (the predicate is absent or another subject's: it decides
    nothing). A word its passage keeps saying (the subject) counts as stated, since the sentence may leave it to
    "it", but not as said. `said`: each sentence's words, tokenized once."""
    n, text, _ = sents[i]
    toks = tokenize(text)
    words = said[i]
    others = [said[j] for j, (m, _, _) in enumerate(sents) if m == n and j != i]
    missing = [w for w in asked if not has_word(w, words)]
    unstated = sum(sum(has_word(w, o) for o in others) < TOPIC for w in missing)
    explicit = (len(asked) - len(missing)) / len(asked)
    if _contrary(q_toks, toks):  # the contrary stands for a word
        return "contrary", min(1.0, (len(asked) - unstated + 1) / len(asked)), explicit + 1 / len(asked)
    # An affirmation must state the whole claim ("... is a common worry" is no "rude"); a denial may say one word
    # of it in its own words ("did not grow out of English" for "based on English").
    if unstated > (1 if polarity(text).negated else 0) or _elsewhere(asked, q_toks, text):
        return "", 0.0, 0.0
    return "states", (len(asked) - unstated) / len(asked), explicit


def _yes_no(question: str, given: tuple[Source, ...]) -> Decision:
    asked = content_words(question, stem_words=False, ignore=GENERIC | SAME_WORDS | DIFFERENT_WORDS | MUST_WORDS)
    if not asked:
        return Decision("")
    qp, (who, action) = polarity(question), subject(question)
    q_toks = tokenize(OPENER.sub("", question))
    # A question of sameness or obligation ("is X the same as Y", "should I") is decided only by a sentence that
    # says what is the same or what must be done, not by one that merely shares its words.
    aspect_only = qp.same is not None or qp.must is not None
    best, best_score = None, 0.0
    sents = _sentences(given)
    said = [set(tokenize(text)) for _, text, _ in sents]  # _claim reads every sentence's neighbours: once each
    for i, (n, text, _) in enumerate(sents):
        sp = polarity(text)
        same = qp.same is not None and sp.same is not None
        must = qp.must is not None and sp.must is not None
        if must:  # "the hospital must pay" does not answer "do I need to pay"; "the fingers should" not "bounce"
            s_who = subject(text)[0]
            # about someone or something else, it decides nothing; its subject may be the act itself ("Mouthing the
            # names of letters is not helpful" for "should I mouth the letter names")
            if (who and s_who and not who & s_who and not _does(action, s_who)) or not _does(action, said[i]):
                continue
        aspect = same or must
        if aspect:
            claim, overlap = "", share_of(asked, text)
            explicit = overlap
        else:
            claim, overlap, explicit = _claim(asked, q_toks, i, sents, said)
        if not aspect and (not claim or (claim == "contrary" and sp.negated)):
            continue  # the claim is not stated: a sentence sharing the subject's words decides nothing
        # Ranked by what it says itself ("ASL is not a signed version of English" over "The ASL manual alphabet ...
        # English alphabet", whose "hands" is only its passage's); ties go to the shorter, more focused sentence.
        score = explicit + 0.5 * aspect - 0.001 * len(text)
        if (aspect or not aspect_only) and overlap >= (MIN_ASPECT if aspect else MIN_CLAIM) and score > best_score:
            best, best_score = (n, text, sp, same, must, overlap, i, claim), score
    if best is None:
        return Decision("")
    n, text, sp, same, must, overlap, i, claim = best
    if same or must:
        agrees = qp.same == sp.same if same else qp.must == sp.must
    elif claim == "contrary" and overlap >= SAME_CLAIM:
        agrees = False
    elif overlap >= SAME_CLAIM:
        agrees = qp.negated == sp.negated
    else:
        return Decision("")
    return Decision("Yes" if agrees else "No", n, text, _follow(sents, i))


def _dates(ch: Choice, text: str) -> dict[int, int]:
    """{option: year} a sentence gives: each year belongs to the option named last before it ("Section 504 of the
    Rehabilitation Act of 1973 came before the ADA": 504 -> 1973), or to the only option the sentence names."""
    words = tokenize(text)
    named = [i for i, ws in enumerate(ch.words) if all(has_word(w, set(words)) for w in ws)]
    out: dict[int, int] = {}
    for m in YEAR.finditer(text):
        before = set(tokenize(text[:m.start()]))
        last = [i for i in named if all(has_word(w, before) for w in ch.words[i])]
        owner = max(last, key=lambda i: max(text[:m.start()].lower().rfind(w) for w in ch.words[i]), default=None)
        owner = owner if owner is not None else (named[0] if len(named) == 1 else None)
        if owner is not None:
            out.setdefault(owner, int(m.group(0)[:4]))
    return out


def _by_year(ch: Choice, question: str, sents: list[tuple[int, str, int]]) -> Decision | None:
    """"Which is older / came first, A or B": the option whose sentence gives the earlier year (later for
    newer/later), that sentence first and the other option's after it; None when the question compares no time or
    an option has no dated sentence."""
    asked = set(tokenize(question))
    earlier, later = bool(asked & EARLIER_WORDS), bool(asked & LATER_WORDS)
    if earlier == later:
        return None
    dated: dict[int, tuple[int, int, str]] = {}
    for n, text, _ in sents:
        for i, year in _dates(ch, text).items():
            dated.setdefault(i, (year, n, text))
    if len(dated) < len(ch.options) or len({y for y, _, _ in dated.values()}) < len(dated):
        return None
    ranked = sorted(dated.items(), key=lambda kv: kv[1][0], reverse=later)
    (i, (_, n, text)), (_, (_, n2, text2)) = ranked[0], ranked[1]
    return Decision(_as_written(ch.options[i], text), n, text, "" if text2 == text else text2, n2)


def _option(ch: Choice, question: str, given: tuple[Source, ...]) -> Decision:
    sents = _sentences(given)
    by_year = _by_year(ch, question, sents)
    if by_year is not None:
        return by_year
    rest = content_words(question, ignore=GENERIC) - {w[:5] if len(w) > 5 else w for ws in ch.words for w in ws}
    q_toks = tokenize(OPENER.sub("", question))
    best: dict[int, tuple[float, int, str, int]] = {}
    for j, (n, text, _) in enumerate(sents):
        if j and _follow(sents, j - 1) == text and (says_its_meaning(text) or refers_back(text)):
            continue  # read with the sentence it goes on about
        after = _follow(sents, j)  # "OO: lips rounded and pursed." "It means small ..."; "... called the LSF family."
        if after and (says_its_meaning(after) or refers_back(after)):  # "ASL belongs to this family."
            text = f"{text} {after}"
            j += 1
        words = set(tokenize(text))
        holds = [i for i, ws in enumerate(ch.words) if all(has_word(w, words) for w in ws)]
        if len(holds) != 1 or polarity(text).negated or _contrary(q_toks, tokenize(text)):
            continue  # naming both options, denying one, or the contrary of the asked ("means large" for "small")
        score = len(rest & content_words(text)) / len(rest) if rest else 1.0
        if score > best.get(holds[0], (-1.0,))[0]:
            best[holds[0]] = (score, n, text, j)
    if not best:
        return Decision("")
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
    if len(ranked) > 1 and ranked[0][1][0] - ranked[1][1][0] < MARGIN:
        return Decision("")
    i, (score, n, text, j) = ranked[0]
    if score <= 0:
        return Decision("")
    follow = _follow(sents, j)
    return Decision(_as_written(ch.options[i], text), n, text, follow)


def _as_written(option: str, sentence: str) -> str:
    """The option as the deciding sentence writes it ("LSF family" for "lsf family"), else capitalised."""
    m = re.search(r"[\s-]+".join(re.escape(w) for w in option.split()), sentence, re.IGNORECASE)
    return m.group(0) if m and m.group(0)[:1].isupper() else option[:1].upper() + option[1:]


def decide(ch: Choice, question: str, given: tuple[Source, ...]) -> Decision:
    """The choice the passages given make for the question (see the module's docstring)."""
    return _yes_no(question, given) if ch.kind == "yes_no" else _option(ch, question, given)
