"""Correcting fingerspelled queries word by word against a lexicon.

A fingerspelled question arrives lowercase, without punctuation, with letter errors: handshapes that
look alike are confused (A/S/T/M/N/E, K/V/P, U/V/R, G/H, I/J, D/Z, C/O), letters are dropped or doubled.
Each word that is not in the lexicon (the indexed vocabulary plus pyspellchecker's English frequency
list) is replaced by the best lexicon word within a small weighted edit distance, where confusable
substitutions and doubled letters cost less. Words of the knowledge base are preferred over general
English ones: they are what retrieval needs. A word the lexicon knows is never changed. Run-together
words ("wherecan") are split into two common words when no single word is one edit away. A short word (4
letters or fewer, or 5 with more than one edit) is changed by a full edit only with evidence that the change keeps
the meaning: the new word is in the knowledge base and the original is no plausible word (a letter sequence English
never spells: "wht"), or a neighbouring word stands beside the new one in the documents ("larn asl"); "ebra" is not
turned into "era", nor "arbe" into "are". Confusable and doubled letters (the errors fingerspelling makes) need no
such evidence ("sigm" -> "sign"). The raw
string is always kept beside the correction, and the chain keeps a correction only when it finds
passages the raw words do not (search.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from asl_gpt.rag.lexicon import STOPWORDS
from asl_gpt.words import edits1, english_frequencies

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Groups of manual-alphabet letters whose handshapes are confused by signers' viewers and recognisers.
CONFUSABLE_GROUPS = ("asmnte", "eo", "co", "kvp", "uvr", "kv", "gh", "pq", "ij", "iy", "dz", "df", "xt")
_CONFUSABLE = {(a, b) for g in CONFUSABLE_GROUPS for a in g for b in g if a != b}
SHORT_WORD = 4  # a word this short changes meaning with one edit ("ebra" -> "era"): it needs evidence (evidenced)


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens (shared by BM25, the vocabulary and the corrector)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Correction:
    raw: str  # exactly what arrived
    corrected: str  # what is used for retrieval and shown to the user
    changes: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (raw word, corrected word)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _sub_cost(a: str, b: str) -> float:
    return 0.0 if a == b else (0.5 if (a, b) in _CONFUSABLE else 1.0)


def weighted_distance(s: str, t: str, limit: float = 2.0) -> float:
    """Damerau-Levenshtein with cheap confusable substitutions and cheap doubled-letter insert/delete."""
    n, m = len(s), len(t)
    if abs(n - m) > limit:
        return limit + 1
    prev2: list[float] = []
    prev = [float(j) for j in range(m + 1)]
    for i in range(1, n + 1):
        cur = [float(i)] + [0.0] * m
        for j in range(1, m + 1):
            ins_cost = 0.5 if j >= 2 and t[j - 1] == t[j - 2] else 1.0  # t has a doubled letter s lacks
            del_cost = 0.5 if i >= 2 and s[i - 1] == s[i - 2] else 1.0  # s has a doubled letter (a bounce)
            v = min(prev[j] + del_cost, cur[j - 1] + ins_cost, prev[j - 1] + _sub_cost(s[i - 1], t[j - 1]))
            if i > 1 and j > 1 and s[i - 1] == t[j - 2] and s[i - 2] == t[j - 1]:
                v = min(v, prev2[j - 2] + 1.0)
            cur[j] = v
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[m]


class Corrector:
    """Word-by-word correction against `vocabulary` (word -> count in the knowledge base) and English."""

    def __init__(self, vocabulary: Counter | dict[str, int], english: dict[str, int] | None = None,
                 max_distance: float = 2.0, min_english_count: int = 50, min_split_count: int = 1000,
                 pairs: Counter | dict | None = None, min_pair_count: int = 3):
        self.kb = {w: c for w, c in vocabulary.items() if w.isalpha() and len(w) > 1}
        self.pairs = pairs or {}  # (word, next word) -> count in the knowledge base
        self.min_pair_count = min_pair_count
        eng = english_frequencies() if english is None else english
        # Very rare English entries are mostly misspellings and names: they would hide real errors.
        self.english = {w: c for w, c in eng.items() if c >= min_english_count and w.isalpha()}
        self.max_distance = max_distance
        self.min_split_count = min_split_count  # each half of a split word must be at least this common
        self._trigrams: frozenset[str] | None = None  # English letter triples, built on first need (plausible)
        self._by_length: dict[int, list[str]] = {}
        for w in self.kb:
            self._by_length.setdefault(len(w), []).append(w)

    def plausible(self, word: str) -> bool:
        """Could English spell it? Every letter triple of the word (with its start and end) occurs in an English
        word of the lexicon: "ebra" (zebra), "larn" (barn) could; "wht", "whst" could not."""
        if self._trigrams is None:
            self._trigrams = frozenset(t for w in self.english for t in _triples(w))
        return all(t in self._trigrams for t in _triples(word))

    def known(self, word: str) -> bool:
        return word in self.kb or word in self.english or not word.isalpha() or len(word) <= 1

    def correct_word(self, word: str) -> str:
        """The word itself when known; else the best lexicon word, or two words for a run-together pair."""
        if self.known(word):
            return word
        best, best_key, best_dist = word, None, None
        for cand, dist in self._candidates(word):
            in_kb = cand in self.kb
            freq = self.kb.get(cand, 0) * 1000 + self.english.get(cand, 0)
            # Distance first; the knowledge base's own words win near-ties; then frequency.
            key = dist - (0.6 if in_kb else 0.0) - 0.02 * math.log10(freq + 1)
            if best_key is None or key < best_key:
                best, best_key, best_dist = cand, key, dist
        if best_dist is None or best_dist > 1.0:
            split = self.split_word(word)
            if split:
                return split
        return best

    def _common(self, part: str) -> int:
        if part in self.kb and len(part) > 1:
            return max(self.kb[part] * 1000, self.min_split_count)
        return self.english.get(part, 0) if (len(part) > 1 or part in ("a", "i")) else 0

    def split_word(self, word: str) -> str | None:
        """"wherecan" -> "where can": the split whose rarer half is the most common, if both are common."""
        best, best_score = None, 0
        for i in range(1, len(word)):
            a, b = word[:i], word[i:]
            score = min(self._common(a), self._common(b))
            if score >= self.min_split_count and score > best_score:
                best, best_score = f"{a} {b}", score
        return best

    def limit(self, word: str) -> float:
        """Short words tolerate fewer edits: two edits turn most 3-letter words into other words."""
        return min(self.max_distance, 1.0 if len(word) <= 3 else 1.5 if len(word) <= 5 else 2.0)

    def _candidates(self, word: str):
        # Knowledge-base words: weighted distance up to the limit (the vocabulary is small).
        lim = self.limit(word)
        for length in range(len(word) - int(lim), len(word) + int(lim) + 1):
            for cand in self._by_length.get(length, ()):
                d = weighted_distance(word, cand, lim)
                if d <= lim:
                    yield cand, d
        # English: only one edit away (generating two edits of a long word costs seconds).
        for cand in edits1(word):
            if cand in self.english and cand not in self.kb:
                yield cand, weighted_distance(word, cand, lim)

    def correct(self, text: str) -> Correction:
        words = tokenize(text)
        out = [self.correct_word(w) for w in words]
        out = [self.evidenced(words, out, i) for i in range(len(words))]
        out = self.correct_phrases(out)
        changes = [(w, c) for w, c in zip(words, out) if c != w]
        return Correction(raw=text, corrected=" ".join(out) if changes else text, changes=tuple(changes))

    def evidenced(self, words: list[str], out: list[str], i: int) -> str:
        """out[i] if the change from words[i] has the evidence a short word's meaning needs (module docstring),
        else words[i] as it arrived."""
        w, c = words[i], out[i]
        if c == w or " " in c or len(w) > SHORT_WORD + 1:
            return c
        d = weighted_distance(w, c, self.max_distance)
        if d < 1.0 or (len(w) > SHORT_WORD and d <= 1.0):
            return c
        if c in self.kb and not self.plausible(w):
            return c
        beside = [(out[j], c) if j < i else (c, out[j]) for j in (i - 1, i + 1)
                  if 0 <= j < len(out) and out[j] not in STOPWORDS]
        return c if any(self.pairs.get(p, 0) > 0 for p in beside) else w

    def correct_phrases(self, words: list[str]) -> list[str]:
        """A real English word that the knowledge base lacks, next to one it has, becomes the close word that the
        knowledge base uses in that place: "def president now" -> "deaf president now" ("def" is English, so the
        word-by-word pass keeps it; the pair "deaf president" occurs in the documents, "def president" never)."""
        if not self.pairs:
            return words
        out = list(words)
        for i, w in enumerate(out):
            if w in self.kb or w in STOPWORDS or len(w) < 3 or not w.isalpha():
                continue
            best, best_count = None, 0
            for j, right in ((i - 1, False), (i + 1, True)):
                if not 0 <= j < len(out) or out[j] in STOPWORDS or out[j] not in self.kb:
                    continue
                other = out[j]
                for cand in self._by_length.get(len(w), []) + self._by_length.get(len(w) + 1, []) + \
                        self._by_length.get(len(w) - 1, []):
                    n = self.pairs.get((cand, other) if right else (other, cand), 0)
                    if n >= self.min_pair_count and n > best_count and weighted_distance(w, cand, 1.0) <= 1.0:
                        best, best_count = cand, n
            if best is not None:
                out[i] = best
        return out


def _triples(word: str) -> list[str]:
    s = f"^{word}$"
    return [s[i:i + 3] for i in range(len(s) - 2)]


def pairs_of(texts) -> Counter:
    """Adjacent word pairs over texts (the indexed chunks), for phrase-aware correction."""
    counts: Counter = Counter()
    for t in texts:
        words = tokenize(t)
        counts.update(zip(words, words[1:]))
    return counts


def vocabulary_of(texts) -> Counter:
    """Word counts over texts (the indexed chunks), for the corrector's lexicon."""
    counts: Counter = Counter()
    for t in texts:
        counts.update(w for w in tokenize(t) if w.isalpha() and len(w) > 1)
    return counts
