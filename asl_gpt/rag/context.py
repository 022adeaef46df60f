"""What the LLM reads and what stands in for it: sentence windows, support checks, quoted answers and citations.

Pure code over strings, and the one sentence splitter, citation marker and content-words function of rag/.
A chunk is about 1,200 characters; a small model on two cores spends most of its first-token time reading
the prompt, and reads a short focused passage better than a long one. So each retrieved chunk is cut down
to the sentences around its best match with the question (a window of a few hundred characters), and the
same scoring picks the sentences quoted to the user when the model's text is unusable (only citation marks,
or words and numbers the passages do not contain). Citations are numbered by the code: passage n is [n].
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asl_gpt.config import LLMConfig as _LLM
from asl_gpt.rag.correction import STOPWORDS, tokenize

if TYPE_CHECKING:
    from asl_gpt.rag.retrieval import Passage

# Sentence breaks: after . ! ? and before white space, unless the dot ends an initial ("I. King Jordan") or a
# title ("Stokoe Jr. was"), and after every line break (list items and headings are sentences of their own).
# A break is an empty match, so the pieces of a split join back into the text (an answer is rebuilt with its
# citations); readers of passages strip them.
SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\b(?:Dr|Mr|Ms|St|Jr|Sr)\.)(?<!\bMrs\.)(?=\s)|(?<=\n)")
CITATION = re.compile(r"\[(\d+)\]")  # a citation marker: [n] cites passage n
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


@dataclass(frozen=True)
class ContextOptions:
    """Built from the settings (`context_options`); the answer cap is the settings' (llm.max_tokens), the rest are
    this class's own, tuned on knowledge/ with `asl-gpt bench answers`."""
    window_chars: int = 480  # per passage: the best-matching sentences and their neighbours, up to this many characters
    neighbours: int = 1  # sentences kept on each side of the best match (context for pronouns)
    min_support: float = 0.6  # share of the answer's content words that must occur in the passages or the question
    quote_sentences: int = 2  # sentences quoted when the model's answer is unusable
    answer_tokens: int = _LLM.max_tokens  # the LLM's answer cap (llm.max_tokens)
    first_chars: int = 800  # the best passage: a whole short section when it fits, else a window this long
    kind_bonus: float = 1.0  # a matching sentence holding the fact asked (who: a name, when: a year) counts 1 + this


def context_options(settings) -> ContextOptions:
    """What the chain reads and caps, from the settings."""
    return ContextOptions(answer_tokens=settings.llm.max_tokens)


def sentences(text: str) -> list[str]:
    """Sentences and list items of a passage, Markdown bullets and heading marks removed."""
    out = []
    for s in SENTENCE_BREAK.split(text or ""):
        s = re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)\s+", "", s).strip()
        if s:
            out.append(s)
    return out


def _stem(word: str) -> str:
    """A crude shared form: "founded", "founder", "founding" -> "found"; short words stay whole."""
    return word[:5] if len(word) > 5 else word


def content_words(text: str, stem: bool = True, shortest: int = 3, letters_only: bool = True,
                  ignore: frozenset[str] = frozenset()) -> set[str]:
    """The words of `text` that say what it is about: no citation markers, stopwords (nor the words in `ignore`)
    or words shorter than `shortest`; with `letters_only`, no numbers or contractions; with `stem`, in their
    crude shared form ("founded" and "founder" are one word)."""
    return {_stem(w) if stem else w for w in tokenize(CITATION.sub(" ", text))
            if len(w) >= shortest and w not in STOPWORDS and w not in ignore and (w.isalpha() or not letters_only)}


def query_terms(question: str) -> set[str]:
    """The words of the question that can match a sentence (stopwords dropped, single letters kept:
    "the letter J")."""
    return content_words(question, shortest=1, letters_only=False)


def _weights(terms: set[str], vocabulary: dict[str, int] | None) -> dict[str, float]:
    """Rare words count more (an inverse frequency over the indexed vocabulary, when given)."""
    if not vocabulary:
        return {t: 1.0 for t in terms}
    counts: dict[str, int] = {}
    for w, c in vocabulary.items():
        s = _stem(w)
        if s in terms:
            counts[s] = counts.get(s, 0) + c
    return {t: 1.0 / math.log(2.0 + counts.get(t, 0)) for t in terms}


def score_sentence(sentence: str, weights: dict[str, float]) -> float:
    words = {_stem(w) for w in tokenize(sentence)}
    return sum(wt for t, wt in weights.items() if t in words)


_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING_LINE = re.compile(r"^\s*#+\s+")
_YEAR = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)s?\b")
_WHEN_WORDS = frozenset("january february march april may june july august september october november december "
                        "century centuries decade decades ago".split())
_PLACE_PREPOSITIONS = frozenset("in at from to near on".split())
# Capitalised words that name no person or place in these documents (languages, the Deaf community, sign glosses).
_NOT_NAMES = frozenset("i asl deaf american sign language languages english french british the a an it this that "
                       "these they he she we you in on at for when where who how what america north south east west "
                       "united states new england europe".split())


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
        item = bool(_ITEM.match(line))
        block += 1  # every line is a block: list items, headings and paragraphs are one line each here
        body = _HEADING_LINE.sub("", _ITEM.sub("", line, count=1)).strip()
        for s in SENTENCE_BREAK.split(body):
            s = s.strip()
            if s:
                out.append(Unit(s, block, item))
    return out


def question_kind(question: str) -> str:
    """What kind of fact answers the question: "what" (a definition: "what is X"), "who" (people), "when" (dates),
    "where" (places), "how" (steps), "number" (how many/much/fast/old), or "" (anything)."""
    from asl_gpt.rag.retrieval import defined_term

    if defined_term(question):
        return "what"
    words = tokenize(question)
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in ("who", "whom", "whose"):
            return "who"
        if w == "when" or (w in ("what", "which") and nxt in ("year", "date", "day", "century")):
            return "when"
        if w == "where":
            return "where"
        if w == "how":
            return "number" if nxt in ("many", "much", "fast", "old", "long", "far", "often") else "how"
    return ""


def names(sentence: str) -> set[str]:
    """Capitalised words that are not common English words: people and places ("Gallaudet", "Clerc", "Hartford";
    not "School" or "United States")."""
    found = set()
    for m in re.finditer(r"[A-Za-z][A-Za-z'’-]*", sentence):
        w = m.group(0)
        parts = w.lower().split("'")[0].split("-")  # "Deaf-Mute" is a name only if each part could be one
        if w[0].isupper() and not w.isupper() and all(p and p not in _NOT_NAMES and _rare(p) for p in parts):
            found.add("-".join(parts))
    return found


def _rare(word: str) -> bool:
    """Not a common English word."""
    from asl_gpt.words import english_frequencies

    return english_frequencies().get(word, 0) < 5000


def answers_kind(sentence: str, kind: str, item: bool = False, question: str = "") -> bool:
    """Does the sentence hold the kind of fact the question asks for?"""
    if kind == "what":
        from asl_gpt.rag.retrieval import defined_term, definition_position

        return definition_position(sentence, defined_term(question)) is not None
    if kind == "who":
        return bool(names(sentence))
    if kind == "when":
        return bool(_YEAR.search(sentence)) or bool(set(tokenize(sentence)) & _WHEN_WORDS)
    if kind == "where":
        toks = re.findall(r"[A-Za-z]+", sentence)
        return any(a.lower() in _PLACE_PREPOSITIONS and b[0].isupper() and b.lower() not in _NOT_NAMES
                   for a, b in zip(toks, toks[1:]))
    if kind == "number":
        return bool(_NUMBER.search(sentence)) or bool(set(tokenize(sentence)) & _NUMBER_WORDS)
    if kind == "how":
        return item
    return False


_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten dozen hundred thousand half most few "
                          "per second seconds minute minutes".split())


def score_units(us: list[Unit], question: str, vocabulary: dict[str, int] | None = None,
                kind_bonus: float = 0.6) -> list[float]:
    """Each unit's match with the question; a unit that matches and holds the kind of fact asked for (a name
    for "who", a year for "when", ...) counts `1 + kind_bonus` times, so the sentence that answers outranks one
    that only repeats the question's words as well."""
    from asl_gpt.rag.retrieval import defined_term, states_meaning

    w = _weights(query_terms(question), vocabulary)
    kind = question_kind(question)
    term = defined_term(question) if kind == "what" else []
    scores = []
    for u in us:
        s = score_sentence(u.text, w)
        if s > 0 and kind and answers_kind(u.text, kind, u.item, question):
            s *= 1.0 + kind_bonus
            if kind == "what" and states_meaning(u.text, term):
                s *= 1.0 + kind_bonus  # "which means ..." over "Fingerspelling is a regular part of ASL"
        scores.append(s)
    return scores


def _join(us: list[Unit], keep: set[int]) -> str:
    parts, last = [], -1
    for j in sorted(keep):
        if last >= 0 and j != last + 1:
            parts.append("…")
        elif last >= 0 and us[j].block != us[last].block:
            parts.append("\n")
        parts.append(us[j].text)
        last = j
    return " ".join(parts).replace(" \n ", "\n")


def window(text: str, question: str, opts: ContextOptions = ContextOptions(),
           vocabulary: dict[str, int] | None = None, chars: int | None = None) -> str:
    """The sentences of `text` that answer `question` best, with their context, within `chars` characters
    (default `opts.window_chars`); the whole text when it fits.

    The best sentence comes first in priority, then the next best ones. A list item is taken whole (a
    dictionary entry, a step) and never with its neighbours; a sentence of a paragraph brings its
    neighbours (`opts.neighbours`, for pronouns) unless they belong to a list item. Kept sentences are
    joined in their original order, with " … " where sentences were skipped.
    """
    limit = opts.window_chars if chars is None else chars
    us = units(text)
    if len(us) <= 1:
        return text.strip()
    scores = score_units(us, question, vocabulary, opts.kind_bonus)
    top = best = max(range(len(us)), key=lambda i: (scores[i], -i))
    # A short text is kept whole, unless the question picks one entry of a list ("how do i sign thank you"): a
    # small model given HELLO, THANK-YOU, PLEASE and SORRY together describes the wrong one.
    picks_entry = us[best].item and scores[best] > 0 and not any(
        u.item and u.block != us[best].block and sc >= scores[best] / 2 for u, sc in zip(us, scores))
    # A definition question reads the defining sentence and its neighbours, not the whole section around it.
    defines = question_kind(question) == "what" and scores[best] > 0
    if defines:
        limit = min(limit, opts.window_chars)
    if len(text) <= limit and not picks_entry:
        return text.strip()
    if max(scores) == 0:  # nothing matches: the passage's opening, whole sentences
        order = list(range(len(us)))
    else:
        order = sorted(range(len(us)), key=lambda i: (-scores[i], i))
    keep: set[int] = set()
    used = 0
    for best in order:
        if scores[best] == 0 and max(scores) > 0:
            break
        if keep and us[best].item and scores[best] < max(scores) / 2:
            continue  # another entry that only shares a common word ("sign") is not context
        if us[best].item:
            group = [j for j in range(len(us)) if us[j].block == us[best].block]
        else:
            group = [best] + [j for d in range(1, opts.neighbours + 1) for j in (best + d, best - d)
                              if 0 <= j < len(us) and not us[j].item]
        size = sum(len(us[j].text) + 1 for j in group if j not in keep)
        if keep and used + size > limit:
            if us[best].item:
                continue  # an entry is kept whole or not at all
            group = [best]
            size = len(us[best].text) + 1
            if used + size > limit:
                continue
        for j in group:
            if j not in keep:
                keep.add(j)
                used += len(us[j].text) + 1
        if used >= limit:
            break
    if defines:  # the sentence that says what X means opens the window: a small model answers with the first
        rest = _join(us, keep - {top})
        return us[top].text + (" " + rest if rest else "")
    return _join(us, keep)


def support(answer: str, passages: list[str], question: str = "") -> float:
    """Share of the answer's content words found in the passages or the question (1.0 for no words)."""
    words = content_words(answer)
    if not words:
        return 1.0
    known = content_words(" ".join(passages) + " " + question)
    return len(words & known) / len(words)


def unsupported_numbers(answer: str, passages: list[str], question: str = "") -> list[str]:
    """Numbers in the answer that neither the passages nor the question contain (invented dates, counts)."""
    seen = set(_NUMBER.findall(" ".join(passages) + " " + question))
    return [n for n in _NUMBER.findall(CITATION.sub(" ", answer)) if n.rstrip(".,") not in
            {s.rstrip(".,") for s in seen}]


def supported(answer: str, passages: list[str], question: str = "", opts: ContextOptions = ContextOptions()) -> bool:
    return support(answer, passages, question) >= opts.min_support and not unsupported_numbers(answer, passages, question)


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


def quoted_answer(picks: list[tuple[int, str]]) -> str:
    """The quotes shown instead of an unusable model answer, each cited [n] (n = passage index + 1)."""
    lines = [f'> "{s}" [{pi + 1}]' for pi, s in picks]
    return "Quoted from the knowledge base (the model's own answer was not usable):\n" + "\n".join(lines)


# -- citations -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """A passage as the answer cites it."""

    n: int  # the citation number: [n] in the answer
    path: str  # shown to people (relative to the project when inside it)
    title: str
    section: str
    passage: str
    score: float  # cosine similarity to the question
    cited: bool = False  # the answer cites [n]


def source_of(n: int, p: Passage) -> Source:
    """Passage `p` as source [n], its path as the user reads it."""
    from asl_gpt.rag.index import display_path  # lazily: the index imports retrieval, which imports this module

    return Source(n, display_path(p.source), p.title, p.section, p.text, round(p.score, 4))


def to_sources(passages: list[Passage]) -> tuple[Source, ...]:
    """The passages numbered for citing, from 1."""
    return tuple(source_of(n, p) for n, p in enumerate(passages, 1))


def attribute_sentences(text: str, sources: tuple[Source, ...], min_overlap: float = 0.5) -> str:
    """Append [n] to each uncited sentence whose content words come mostly from passage n.

    Small models often cite nothing; the attribution is computed from the text itself, never assumed.
    """
    words = {s.n: content_words(f"{s.title} {s.section} {s.passage}", stem=False, letters_only=False)
             for s in sources}
    out = []
    for sentence in SENTENCE_BREAK.split(text):
        body = sentence.rstrip()
        cw = content_words(body, stem=False, letters_only=False)
        if body and cw and not CITATION.search(body):
            n, best = max(((n, len(cw & w) / len(cw)) for n, w in words.items()), key=lambda x: x[1],
                          default=(0, 0.0))
            if best >= min_overlap:
                m = re.search(r"[.!?]+$", body)
                body = f"{body[:m.start()]} [{n}]{m.group(0)}" if m else f"{body} [{n}]"
        out.append(body + sentence[len(sentence.rstrip()):])
    return "".join(out)


def substantive(text: str, min_words: int = 4) -> bool:
    """Has the answer real words beyond citation markers and "Passage" labels? (Numbers count: "1817 [1].")"""
    words = [w for w in tokenize(CITATION.sub(" ", text)) if (w.isalpha() and w != "passage") or w.isdigit()]
    return len(words) >= min_words


def finalize_citations(text: str, sources: tuple[Source, ...]) -> tuple[str, tuple[Source, ...]]:
    """Remove markers that name no passage, attribute uncited sentences, mark the cited sources."""
    valid = {s.n for s in sources}
    # Small models echo the prompt's passage labels ('(from "Title", section "S"): [1] ...',
    # "Passage [1] states that ..."): the label is not part of the answer.
    text = re.sub(rf'(?m)^\s*(?:Passage {CITATION.pattern} )?\(from "[^"\n]*"(?:, section "[^"\n]*")?\):?\s*', "",
                  text)
    text = re.sub(rf"(?im)^\s*passage {CITATION.pattern} (?:states|says|explains|mentions) that\s+(\w)",
                  lambda m: m.group(2).upper(), text)
    # A run of markers opening the answer or a line ("[1] The letter…") cites nothing in particular:
    # drop it and let the sentence be attributed from its words.
    text = re.sub(rf"(?m)^(\s*{CITATION.pattern}\s*)+", "", text)
    cleaned = CITATION.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", text)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip()
    cleaned = attribute_sentences(cleaned, sources)
    cited = {int(n) for n in CITATION.findall(cleaned)}
    return cleaned, tuple(Source(**{**s.__dict__, "cited": s.n in cited}) for s in sources)
