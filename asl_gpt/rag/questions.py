"""What a question asks: the kind of fact (who, when, where, a definition, a number, steps), the term it defines,
the letter it names, its specific words (names and terms the passages must hold), whether it leans on the
previous question, and the history's messages as (role, content).

Pure code over strings; every stage reads the question through these functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asl_gpt.rag.correction import tokenize, weighted_distance
from asl_gpt.rag.lexicon import (CHOICE_FILLER, FOLLOW_UP_OPENERS, FOLLOW_UP_WORDS, GENERIC, HOW_QUANTITY,
                                 HOW_TO_SIGN, MUST_WORDS, NOT_DEFINED, NOT_NAMES, NUMBER_WORDS, PLACE_PREPOSITIONS,
                                 QUESTION_OPENERS, STOPWORDS, WHEN_NOUNS, WHEN_WORDS, WHO_WORDS, YES_NO_OPENERS)
from asl_gpt.rag.text import NUMBER, YEAR, names, present, units
from asl_gpt.words import english_frequencies

MIN_COMMON = 2000  # an English word this frequent (pyspellchecker counts) names no specific thing

# "what is fingerspelling", "whats a loan sign", "what are classifiers", "what does CODA mean", "define X", "what
# does MM mean on the mouth" (where it is said: not part of the term); the
# misspellings of "what" that signed questions keep ("wat" is an English word, so the corrector leaves it).
_DEFINITION_QUESTION = re.compile(
    r"^\s*(?:(?:what|wat|wht|whta|waht)(?:'s|s)?|define)\s+(?:(?:is|are|was|were|does|do)\s+)?(?:(?:a|an|the)\s+)?"
    r"(?P<x>.+?)(?:\s+(?:mean|means|stand for)\b(?:\s+(?:on|in|at|for|when|with)\b[^?]*)?)?\s*\??\s*$",
    re.IGNORECASE)
# "how do you sign the letter I", "j letter?", "what is the letter P"
_LETTER_QUESTION = re.compile(r"\bletter\s+([a-z])\b|^\s*([a-z])\s+letter\b", re.IGNORECASE)


def defined_term(question: str) -> list[str]:
    """The words a definition question asks about ("what is fingerspelling" -> ["fingerspelling"]), or []."""
    m = _DEFINITION_QUESTION.match(question or "")
    if not m:
        return []
    words = [w for w in tokenize(m.group("x")) if w not in STOPWORDS]
    if words and words[0] in NOT_DEFINED:  # "what year was dpn", "what sign means yes": not "what is X"
        return []
    return words if 1 <= len(words) <= 3 else []


def asked_letter(question: str) -> str:
    """The one letter of the manual alphabet a question asks about ("the letter I" -> "i"), or ""."""
    found = {(a or b).lower() for a, b in _LETTER_QUESTION.findall(question or "")}
    return found.pop() if len(found) == 1 else ""


# A sign's dictionary entry opens its list item: "- **THANK-YOU**: Touch the fingertips ..." (the item's marker is
# gone in a sentence of `units`)
SIGN_ENTRY = re.compile(r"\*\*([A-Z][A-Z -]*[A-Z])\*\*")


def asked_sign(question: str) -> set[str]:
    """The words of the sign a "how do you sign X" / "sign for X" question asks for ({"no"}, {"thank"}), or empty
    (a letter's question is `asked_letter`'s)."""
    words = set(tokenize(question or ""))
    if not words & {"sign", "signs"} or asked_letter(question):
        return set()
    return words - STOPWORDS - HOW_TO_SIGN


def is_entry_of(sentence: str, sign: set[str]) -> bool:
    """Is the sentence the dictionary entry of that sign ("**NO**: Extend the index and middle fingers ...")?"""
    m = SIGN_ENTRY.match(sentence.strip())
    return bool(m and sign and set(tokenize(m.group(1))) - STOPWORDS == sign)


def _form(word: str) -> str:
    """A regex for a word and its close forms: "fingerspelling" also matches "fingerspell"."""
    base = re.sub(r"(?:ing|s)$", "", word) if len(word) > 5 else word
    return re.escape(base) + r"\w*"


def definition_position(text: str, term: list[str]) -> int | None:
    """Index of the first sentence of `text` that defines `term` ("Fingerspelling is ...", "X are ...", "...
    to fingerspell, which means ...", a glossary item "MM: lips pressed ..."), or None. Only a sentence that
    opens with the term counts, so
    "Lexicalized fingerspelling is ..." does not define fingerspelling."""
    x = r"[\s-]+".join(_form(w) for w in term)  # "dinner-table syndrome" for "dinner table syndrome"
    opens = re.compile(rf"^(?:(?:the|a|an)\s+)?{x}\s*(?:\([^)]*\)\s*)?(?:,?\s+(?:is|are|means|refers to)\b|:\s+\w)",
                       re.I)  # "X is ...", or a glossary's "X: lips pressed together ..."
    which = re.compile(rf"\b{x},?\s+which\s+(?:means|is)\b", re.I)
    # Else a clause set beside the term: '"Total Communication," which combines speech, sign, ...', "dinner-table
    # syndrome, when everyone at a family gathering talks ..."
    beside = re.compile(rf"\b{x}[\"”']?,[\"”']?\s+(?:which|when|where)\s+\w", re.I)
    sentences = [u.text for u in units(text)]
    for patterns in ((opens, which), (beside,)):
        for i, t in enumerate(sentences):
            if any(p.search(t) for p in patterns):
                return i
    return None


def states_meaning(sentence: str, term: list[str]) -> bool:
    """Does the sentence say what the term means ("to fingerspell, which means spelling ...", "X means ...",
    "X refers to ...")? Stronger than "X is ...", which often only says something about X."""
    x = r"[\s-]+".join(_form(w) for w in term)
    return bool(re.search(rf"\b{x},?\s+(?:which\s+)?(?:means|refers to)\b", sentence, re.I))


def question_kind(question: str) -> str:
    """What kind of fact answers the question: "what" (a definition: "what is X"), "sign" (a sign's dictionary entry:
    "how do you sign no"), "who" (people), "when" (dates), "where" (places), "how" (steps), "number" (how many/much/
    fast/old), or "" (anything)."""
    if defined_term(question):
        return "what"
    if asked_sign(question):
        return "sign"
    words = tokenize(question)
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in WHO_WORDS:
            return "who"
        if w == "when" or (w in ("what", "which") and nxt in WHEN_NOUNS):
            return "when"
        if w == "where":
            return "where"
        if w == "how":
            # "how old is ASL", "how long ago": a date answers (an age is asked as "how old do/must ...")
            if (nxt == "old" and words[i + 2:i + 3] in (["is"], ["are"])) or words[i + 1:i + 3] == ["long", "ago"]:
                return "when"
            return "number" if nxt in HOW_QUANTITY else "how"
    return ""


def answers_kind(sentence: str, kind: str, item: bool = False, question: str = "") -> bool:
    """Does the sentence hold the kind of fact the question asks for?"""
    if kind == "what":
        return definition_position(sentence, defined_term(question)) is not None
    if kind == "who":
        return bool(names(sentence))
    if kind == "when":
        return bool(YEAR.search(sentence)) or bool(set(tokenize(sentence)) & WHEN_WORDS)
    if kind == "where":
        toks = [t for t in re.findall(r"[A-Za-z]+", sentence) if t != "the"]  # "marched to the U.S. Capitol"
        return any(a.lower() in PLACE_PREPOSITIONS and b[0].isupper() and b.lower() not in NOT_NAMES
                   and b.lower() not in WHEN_WORDS for a, b in zip(toks, toks[1:]))  # "from March 6": no place
    if kind == "number":
        return bool(NUMBER.search(sentence)) or bool(set(tokenize(sentence)) & NUMBER_WORDS)
    if kind == "sign":
        return is_entry_of(sentence, asked_sign(question))
    if kind == "how":
        return item
    return False


# -- specific words: what the passages must hold --------------------------------------------------------------
def specific(word: str, english: dict[str, int] | None = None) -> bool:
    """A word that names a specific thing: not a stopword or generic word, and a number of 3+ digits or a word
    that is not common English (names, terms, acronyms, misspellings)."""
    if word in STOPWORDS or word in GENERIC:
        return False
    if word.isdigit():
        return len(word) >= 3
    if len(word) < 3 or not word.isalpha():
        return False
    english = english_frequencies() if english is None else english
    return english.get(word, 0) < MIN_COMMON and not any(english.get(b, 0) >= MIN_COMMON for b in _bases(word))


def _bases(word: str) -> list[str]:
    """The words an inflected word may come from ("frowning" -> "frown", "nodding" -> "nod", "waved" -> "wave"): a
    rare form of a common word ("frowning") names nothing the documents must hold, unlike a rare word ("quonsel")."""
    out = []
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            out += [stem, stem + "e"] + ([stem[:-1]] if len(stem) > 3 and stem[-1] == stem[-2] else [])
    return out


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
    for i, w in enumerate(tokenize(question)):
        w = w.split("'")[0]
        if i == 0 and w not in caps and any(weighted_distance(w, q, 1.0) <= 1.0 for q in QUESTION_OPENERS):
            continue  # "whay is vri": the question word mistyped, not a topic the documents lack
        if w not in out and (specific(w, english) or w in caps):
            out.append(w)
    return out


def missing_terms(question: str, passages: list[str], english: dict[str, int] | None = None,
                  known: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The question's specific words that no passage contains (spelling variants count as contained)."""
    words = set(tokenize(" ".join(passages)))
    return [t for t in key_terms(question, english, known) if not present(t, words)]


def _topical(word: str) -> bool:
    """Does the word say what a question is about (not a stopword, a generic or a follow-up word, nor one letter)?"""
    return word not in STOPWORDS and word not in FOLLOW_UP_WORDS and word not in GENERIC and len(word) > 1


def topic_phrase(question: str) -> list[str]:
    """The question's words from its first topic word to its last ("dinner table syndrome" in "what is dinner table
    syndrome"), when it has two topic words or more: its whole topic as one phrase, which a document may use as it is
    ("dinner-table syndrome"); [] otherwise."""
    words = tokenize(question)
    at = [i for i, w in enumerate(words) if _topical(w)]
    return words[at[0]:at[-1] + 1] if len(at) >= 2 else []


# -- follow-ups -----------------------------------------------------------------------------------------------
def topic_words(text: str) -> list[str]:
    """The words of a question that say what it is about, in order, once each."""
    out: list[str] = []
    for w in tokenize(text):
        if _topical(w) and w not in out:
            out.append(w)
    return out



def history_turns(history) -> list[tuple[str, str]]:
    """Every ("human" | "ai", content) message of the history, whole; source messages skipped."""
    out: list[tuple[str, str]] = []
    for m in history or []:
        if isinstance(m, dict):
            if m.get("metadata"):
                continue  # e.g. the collapsible "Sources" message of the chat UI
            role, content = m.get("role"), m.get("content")
        else:
            role, content = m[0], m[1]
        if role in ("user", "human"):
            role = "human"
        elif role in ("assistant", "ai"):
            role = "ai"
        else:
            continue
        if isinstance(content, str) and content.strip():
            out.append((role, content))
    return out


def history_messages(history, turns: int) -> list[tuple[str, str]]:
    """(role, content) pairs from Gradio-style dicts or (role, content) tuples; source messages skipped;
    the last `turns` exchanges, each message cut at 800 characters."""
    out = [(role, content if len(content) <= 800 else content[:800] + " …") for role, content in history_turns(history)]
    return out[-2 * turns:] if turns > 0 else []


def stands_alone(question: str) -> bool:
    """Does the question name its own topic, so that it is answered as a first question? Decided from the question
    alone: a pronoun, an opener ("what about ...") or too few words of its own ("why", "how fast should i go") make
    it a follow-up; two topic words ("who founded the american school for the deaf"), or one specific term ("what
    is fingerspelling"), make it stand alone. "the same as X" names both sides: no pointer."""
    q = (question or "").strip().lower()
    words = tokenize(q)
    if not words or q.startswith(FOLLOW_UP_OPENERS) or set(words) & (FOLLOW_UP_WORDS - {"same"}):
        return False
    topic = [w for w in words if w not in STOPWORDS and w not in GENERIC and len(w) > 1]
    return len(topic) >= 2 or any(specific(w) for w in topic)


def leans_on_history(question: str) -> bool:
    """Does the question need the previous one to be understood? ("when did it open", "what about J",
    "why") A question that names its own topic ("what is the capital of France") does not: it is
    searched, and gated, on its own words."""
    words = tokenize(question)
    topic = [w for w in words if w not in STOPWORDS and w not in FOLLOW_UP_WORDS]
    return (bool(set(words) & FOLLOW_UP_WORDS) or question.strip().lower().startswith(FOLLOW_UP_OPENERS)
            or len(topic) <= 1)


# -- choices: yes/no, either/or, which of ---------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """A question whose answer is a choice: "yes_no" ("is X the same as Y", "do I need", "can I"), or "options"
    ("A or B", "which of A, B or C"), each option as asked and its distinguishing words."""

    kind: str  # "yes_no" | "options"
    options: tuple[str, ...] = ()
    words: tuple[frozenset[str], ...] = ()  # per option: its content words no other option has


def _option_words(option: str) -> set[str]:
    return {w for w in tokenize(option) if w not in STOPWORDS and w not in CHOICE_FILLER}


def _phrase_words(text: str) -> list[str]:
    """The words of a phrase as written (hyphenated words whole: "one-handed"), stopwords left out."""
    words = [w.strip(".,;:!?\"'()").lower() for w in text.split()]
    return [w for w in words if w and w not in STOPWORDS]


def _generic_you(words: list[str]) -> bool:
    """Is "you" after the opener anyone ("do you have to sign if", "should you look at the hands"), asked whether
    one must, rather than the assistant asked to do something ("do you know", "can you tell me")?"""
    rest = words[2:]
    return words[0] in MUST_WORDS or rest[:2] == ["have", "to"] or bool(rest) and rest[0] in MUST_WORDS


def _paired(before: list[str], other: str) -> int:
    """Where the first option starts in the words before "or": at the last word of the same kind as the one after
    it, a number for a number ("one hand or two"), a name or term for a name or term ("the LSF family or BANZSL"),
    up to two words back; else the last word ("chin or shoulder")."""
    def kind(w: str) -> str:
        return "number" if w.isdigit() or w in NUMBER_WORDS else "term" if specific(w) else ""

    want = kind(other)
    if want:
        for j in range(len(before) - 1, max(len(before) - 3, 0) - 1, -1):
            if kind(before[j]) == want:
                return j
    return len(before) - 1


def choice(question: str) -> Choice | None:
    """The choice a question asks for, or None (a what/how/who question)."""
    q = (question or "").strip().rstrip("?").strip()
    words = tokenize(q)
    if not words or (words[1:2] == ["you"] and not _generic_you(words)):  # "can you tell me": a request
        return None
    if " or " in f" {q.lower()} " and (words[0] in YES_NO_OPENERS or "which" in words):
        head, _, last = q.rpartition(" or ")
        head = re.split(r"\bwhich of(?: the(?:se)?)?\b|:", head, flags=re.I)[-1]
        parts = [x.strip() for x in re.split(r",\s*", head) if x.strip()]
        if len(parts) > 1 and "which" in tokenize(parts[0]):  # "which morpheme means large, MM or CHA": the lead-in
            parts = parts[1:]
        if len(parts) == 1:  # "A or B": one word each side ("chin or shoulder"), two with a shared last one
            before, after = _phrase_words(parts[0]), _phrase_words(last)  # ("left hand or right hand")
            if not before or not after:
                return None
            k = 2 if len(before) >= 2 and len(after) >= 2 and after[1] == before[-1] else 1
            options = [" ".join(before[_paired(before, after[0]) if k == 1 else -k:]), " ".join(after[:k])]
        else:
            options = [*parts, " ".join(_phrase_words(last))]
        sets = [_option_words(o) for o in options]
        distinct = [frozenset(s - set().union(*(t for j, t in enumerate(sets) if j != i))) for i, s in enumerate(sets)]
        if len(options) >= 2 and all(distinct):
            return Choice("options", tuple(options), tuple(distinct))
        return None
    if words[0] in YES_NO_OPENERS:
        return Choice("yes_no")
    return None


_DIFFERENCE = re.compile(r"\bdifferen(?:ce|t)\s+between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s*\??$|"
                         r"\btell\s+(?P<c>.+?)\s+and\s+(?P<d>.+?)\s+apart\b|"
                         r"\bhow\s+(?:do|does|are)\s+(?P<e>.+?)\s+and\s+(?P<f>.+?)\s+differ\b", re.I)


def difference_pair(question: str) -> tuple[str, str] | None:
    """The two things a "difference between X and Y" question compares ("tell M and N apart", "how do X and Y
    differ"), or None."""
    m = _DIFFERENCE.search(question or "")
    if not m:
        return None
    a, b = [x for x in m.groups() if x is not None][:2]
    return a.strip(), b.strip()
