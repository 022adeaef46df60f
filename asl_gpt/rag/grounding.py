"""Check, after the model writes: is each answer sentence held by the passages it cites?

Pure code over strings. A small model borrows the passages' words for facts they do not state, so:
- an answer sentence whose names, numbers or rare words no single stretch of a cited passage holds together
  (three consecutive sentences) is dropped (`drop_ungrounded`);
- what is left must share most of its content words with the passages and invent no number (`supported`),
  or the passages are quoted instead.
(An uncited sentence is attributed to its passage by `sources.attribute_sentences`.)
Misspelt and inflected words are not "missing": a word counts as present when a passage word shares its stem
or is within the corrector's small edit distance of it.
"""

from __future__ import annotations

from asl_gpt.rag.correction import tokenize
from asl_gpt.rag.lexicon import GENERIC, STOPWORDS
from asl_gpt.rag.questions import specific
from asl_gpt.rag.scoring import ContextOptions
from asl_gpt.rag.text import CITATION, NUMBER, SENTENCE_BREAK, content_words, names, present, stem, units
from asl_gpt.words import english_frequencies


def support(answer: str, passages: list[str], question: str = "") -> float:
    """Share of the answer's content words found in the passages or the question (1.0 for no words)."""
    words = content_words(answer)
    if not words:
        return 1.0
    known = content_words(" ".join(passages) + " " + question)
    return len(words & known) / len(words)


def unsupported_numbers(answer: str, passages: list[str], question: str = "") -> list[str]:
    """Numbers in the answer that neither the passages nor the question contain (invented dates, counts)."""
    seen = set(NUMBER.findall(" ".join(passages) + " " + question))
    return [n for n in NUMBER.findall(CITATION.sub(" ", answer)) if n.rstrip(".,") not in
            {s.rstrip(".,") for s in seen}]


def supported(answer: str, passages: list[str], question: str = "", opts: ContextOptions = ContextOptions()) -> bool:
    return support(answer, passages, question) >= opts.min_support and not unsupported_numbers(answer, passages, question)


def specifics(sentence: str, english: dict[str, int]) -> set[str]:
    """What a sentence asserts that must come from a passage: numbers, names and uncommon words."""
    text = CITATION.sub(" ", sentence)
    out = {n.rstrip(".,") for n in NUMBER.findall(text)}
    out |= {n for n in names(text) if n not in STOPWORDS}
    out |= {w for w in tokenize(text) if w.isalpha() and len(w) >= 4 and specific(w, english)}
    return out


def stretches(passage: str, size: int = 3) -> list[set[str]]:
    """Word sets of every run of `size` consecutive sentences of a passage (a fact and its context)."""
    toks = [set(tokenize(u.text)) for u in units(passage)]
    if len(toks) <= size:
        return [set().union(*toks)] if toks else []
    return [set().union(*toks[i:i + size]) for i in range(len(toks) - size + 1)]


def grounded(sentence: str, passages: list[str], english: dict[str, int] | None = None,
             min_share: float = 0.5) -> bool:
    """Does one stretch of a passage hold every number, name and uncommon word of the sentence together with at
    least `min_share` of its content words? A sentence with none of those is left to the overall support check."""
    english = english_frequencies() if english is None else english
    spec = specifics(sentence, english)
    if not spec:
        return True
    content = content_words(sentence, ignore=GENERIC)
    for p in passages:
        for words in stretches(p):
            stems = {stem(w) for w in words}
            if all(present(s, words) for s in spec) and (
                    not content or len(content & stems) / len(content) >= min_share):
                return True
    return False


def drop_ungrounded(text: str, passages: dict[int, str], english: dict[str, int] | None = None) -> tuple[str, int]:
    """The answer without its sentences that no passage holds (see `grounded`), and how many were dropped.

    `passages`: citation number -> passage text. A sentence citing [n] is checked against the passages it cites;
    an uncited one against all of them."""
    english = english_frequencies() if english is None else english
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
