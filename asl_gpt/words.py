"""English words for the parts that read spelled text: the recognizer's word-aware decoding and the
query corrector (asl_gpt.rag.correction). Pure Python over pyspellchecker's frequency list."""

from __future__ import annotations

from functools import lru_cache

ALPHABET = "abcdefghijklmnopqrstuvwxyz"  # the letters a signer spells (calibration, training and decoding name it from here)


@lru_cache(maxsize=1)
def english_frequencies() -> dict[str, int]:
    """pyspellchecker's English word-frequency list (about 160k words), loaded once."""
    from spellchecker import SpellChecker

    return dict(SpellChecker(language="en", distance=1).word_frequency.dictionary)


def edits1(word: str) -> set[str]:
    """Every string one delete, transpose, replace or insert (a-z) away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in ALPHABET]
    inserts = [a + c + b for a, b in splits for c in ALPHABET]
    return set(deletes + transposes + replaces + inserts)


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions all cost 1): the competition's metric, and a
    calibration's check of the user's own words."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def edit_totals(references: list[str], predictions: list[str]) -> tuple[int, int, float]:
    """(letters, edits, normalized Levenshtein (letters - edits) / letters): the competition's metric over a set,
    the one formula of `training.metrics.score` and a calibration's word check. An empty set scores 1.0 when
    nothing was read (nothing to get wrong)."""
    n = sum(len(r) for r in references)
    d = sum(levenshtein(r, p) for r, p in zip(references, predictions, strict=True))
    return n, d, (n - d) / n if n else float(d == 0)


@lru_cache(maxsize=4)
def knowledge_words(knowledge_dir: str) -> dict[str, int]:
    """Words of a knowledge base's Markdown files with their counts: the names and terms a user is
    likely to spell about it (gallaudet, stokoe, protactile) that an English list may lack."""
    import re
    from pathlib import Path

    counts: dict[str, int] = {}
    for f in sorted(Path(knowledge_dir).rglob("*.md")):
        for w in re.findall(r"[a-z]{2,20}", f.read_text(errors="ignore").lower()):
            counts[w] = counts.get(w, 0) + 1
    return counts
