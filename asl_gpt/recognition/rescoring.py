"""Words from uncertain letters: a window's n-best readings rescored as whole utterances with a word prior.

Each reading comes with the decoder's posterior at every letter (decoding.Reading). A word of the
reading may become any lexicon word whose *posterior-weighted* edit cost is small: replacing a letter
costs log P(read letter) - log P(new letter) at that position (nothing where the two were close, a lot
where the read letter was sure), dropping a read letter costs `indel` plus -log(1 - P(read letter)),
and adding a missing letter costs `indel` plus what that letter lacked as an alternative at the
neighbouring positions (a neighbour's own letter is no evidence of a second one).
Each word then scores -cost + weight * log P(word); the utterance is the reading (decoder log-probability)
plus its words' scores, and the best utterance wins. So a reading two or three edits from a common word
whose differing letters were uncertain reaches that word, while a name read with sure letters stays as
read (every edit is expensive). Candidates come from a trie walk with the weighted edit distance, cut
at the largest gain the prior could give. Pure numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from asl_gpt.recognition.decoding import Reading, WordPrior
from asl_gpt.words import ALPHABET


@dataclass(frozen=True)
class EditCosts:
    indel: float = 1.0  # base cost (nats) of a letter read but not in the word, or in the word but not read
    floor: float = 1e-4  # posteriors are floored here: one edit costs at most about 9 nats


class Trie:
    """The lexicon's words as nested dicts: node = {letter: child, "$": word}."""

    def __init__(self, words: Iterable[str]):
        self.root: dict = {}
        for w in words:
            if len(w) < 2 or not w.isascii() or not w.isalpha():
                continue
            node = self.root
            for c in w:
                node = node.setdefault(c, {})
            node["$"] = w


def letter_costs(rows: np.ndarray, read: list[int], char_ids: list[int],
                 costs: EditCosts = EditCosts()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edit costs at one word's letters: (sub float[n, 26]: read letter i -> letter k; dele float[n]: drop read
    letter i; ins float[n + 1, 26]: add letter k before read letter i). `rows`: the letters' log-posteriors
    [n, V]; `read`: their ids; `char_ids`: the id of each letter of ALPHABET."""
    floor = np.log(costs.floor)
    lp = np.maximum(rows[:, char_ids], floor)  # [n, 26]
    own = np.maximum(rows[np.arange(len(read)), read], floor)[:, None]  # [n, 1]
    sub = np.maximum(own - lp, 0.0)
    p_read = np.exp(own[:, 0])
    dele = costs.indel - np.log(np.maximum(1.0 - p_read, costs.floor))
    n = len(read)
    ins = np.empty((n + 1, len(char_ids)))
    alt = sub.copy()  # a neighbour's own letter is no evidence of a second one ("al" is not "all")
    alt[np.arange(n), [char_ids.index(r) if r in char_ids else 0 for r in read]] = -floor
    for i in range(n + 1):  # a missing letter is cheaper where a neighbour held it as an alternative
        near = [alt[j] for j in (i - 1, i) if 0 <= j < n]
        ins[i] = costs.indel + (np.min(near, axis=0) if near else -floor)
    return sub, dele, ins


def candidates(trie: Trie, sub: np.ndarray, dele: np.ndarray, ins: np.ndarray, bound: float) -> list[tuple[float, str]]:
    """(cost, word) for every trie word within weighted edit cost `bound` of the read letters."""
    cumdel = np.concatenate([[0.0], np.cumsum(dele)])  # [n + 1]
    out: list[tuple[float, str]] = []
    stack = [(trie.root, cumdel)]
    index = {c: k for k, c in enumerate(ALPHABET)}
    while stack:
        node, row = stack.pop()
        for c, child in node.items():
            if c == "$":
                continue
            k = index[c]
            e = row + ins[:, k]
            e[1:] = np.minimum(e[1:], row[:-1] + sub[:, k])
            new = cumdel + np.minimum.accumulate(e - cumdel)  # then drop read letters after the best alignment
            if new.min() > bound:
                continue
            if "$" in child and new[-1] <= bound:
                out.append((float(new[-1]), child["$"]))
            stack.append((child, new))
    return out


def best_word(word: str, rows: np.ndarray, read: list[int], char_ids: list[int], prior: WordPrior, weight: float,
              trie: Trie, costs: EditCosts = EditCosts()) -> tuple[str, float]:
    """(word, score): the reading itself or a lexicon word, maximising -edit cost + weight * log P(word)."""
    best, best_score = word, weight * prior(word)
    top = max(prior.logp.values(), default=prior.unknown)
    bound = weight * (top - prior(word))
    if bound <= 0:
        return best, best_score
    for cost, cand in candidates(trie, *letter_costs(rows, read, char_ids, costs), bound):
        s = weight * prior(cand) - cost
        if s > best_score:
            best, best_score = cand, s
    return best, best_score


def _capped(text: str, rows: np.ndarray, ids: tuple[int, ...]) -> tuple[str, np.ndarray, list[int]]:
    """A held letter read as a run ("appppp") keeps at most two: English never triples a letter."""
    keep = [i for i in range(len(text)) if not (i >= 2 and text[i] == text[i - 1] == text[i - 2] and text[i].isalpha())]
    return "".join(text[i] for i in keep), rows[keep], [ids[i] for i in keep]


def rescore(readings: list[Reading], decode: Callable[[tuple[int, ...]], str], char_ids: list[int],
            prior: WordPrior, weight: float, trie: Trie, costs: EditCosts = EditCosts()) -> str:
    """The best utterance over the n-best readings (the first is the letter-by-letter one): each reading's
    log-probability plus, for each word of two letters or more, its best word's score (single letters are
    spelled on purpose and stay). Readings with another number of words than the first compete not: a
    unigram prior favours two common words over one name, which is no evidence that a space was spelled."""
    best_text, best_total = "", None
    n_words = len(decode(readings[0].ids).split()) if readings else 0
    for r in readings:
        if len(decode(r.ids).split()) != n_words:
            continue
        text, rows, ids = _capped(decode(r.ids), r.posteriors, r.ids)
        total, out, start = r.logprob, [], 0
        for m in re.finditer(r"[^ ]+", text):
            out.append(text[start:m.start()])
            word, start = m.group(), m.end()
            if len(word) >= 2 and word.isascii() and word.isalpha() and weight > 0:
                word, s = best_word(word, rows[m.start():m.end()], ids[m.start():m.end()], char_ids, prior,
                                    weight, trie, costs)
                total += s
            elif word.strip():  # a single letter or digits: no English word to reach, as rare as a name (a
                total += weight * prior.unknown  # reading that shrinks a word to one letter gains nothing)
            out.append(word)
        out.append(text[start:])
        if best_total is None or total > best_total:
            best_text, best_total = "".join(out), total
    return best_text
