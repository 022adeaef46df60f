"""Query correction: weighted edit distance, word-by-word correction, and its effect on retrieval."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from asl_gpt.config import load_settings
from asl_gpt.rag.correction import Corrector, pairs_of, tokenize, vocabulary_of, weighted_distance
from asl_gpt.rag.evaluation import fingerspelling_noise, hit_rate, noisy_cases
from asl_gpt.rag.index import KnowledgeBase
from test_rag_helpers import HashEmbeddings, write

ENGLISH = {w: 10_000 for w in "how do you the a is what who when where sign letter hand make made of for and in did with".split()}


def test_confusable_letters_and_doubled_letters_cost_less():
    assert weighted_distance("stokoe", "stokoe") == 0
    assert weighted_distance("ttokoe", "stokoe") == 0.5  # S/T look alike
    assert weighted_distance("stokoe", "stbkoe") == 1.0
    assert weighted_distance("clercc", "clerc") == 0.5  # a doubled letter (bounce)
    assert weighted_distance("abc", "xyzabc", limit=2) > 2


def test_words_are_corrected_to_the_knowledge_base_vocabulary():
    vocab = vocabulary_of(["Laurent Clerc and Thomas Gallaudet founded the school in 1817.",
                           "William Stokoe studied the structure of sign language."])
    c = Corrector(vocab, english=ENGLISH)
    out = c.correct("who founded the tchool with laurenm clerc in 1817")
    assert out.corrected == "who founded the school with laurent clerc in 1817"
    assert out.raw == "who founded the tchool with laurenm clerc in 1817"
    assert dict(out.changes) == {"tchool": "school", "laurenm": "laurent"}
    assert c.correct("what did stokoe study").changed is False
    assert c.correct("xqzvw").corrected == "xqzvw"  # nothing close: left alone


def test_the_bundled_english_list_is_used_by_default():
    c = Corrector(Counter())
    assert c.correct_word("alphavet") == "alphabet"
    assert c.known("because")


def test_noise_is_seeded_lowercase_and_unpunctuated():
    a = fingerspelling_noise("How is the letter J made?", 0.2, random.Random(1))
    assert a == fingerspelling_noise("How is the letter J made?", 0.2, random.Random(1))
    assert a == a.lower() and "?" not in a


DOCS = {
    "history.md": "# History\n\nLaurent Clerc and Thomas Gallaudet founded the American School for the Deaf in Hartford.",
    "linguistics.md": "# Linguistics\n\nWilliam Stokoe studied the structure of sign language and its handshapes.",
    "interpreters.md": "# Interpreters\n\nQualified interpreters provide access at hospitals, courts and schools.",
    "numbers.md": "# Numbers\n\nNumbers one through five use the dominant hand with the palm facing inward.",
    "culture.md": "# Culture\n\nDeaf culture values visual communication, storytelling and community gatherings.",
}
CASES = [("who founded the american school for the deaf", "history"),
         ("what did stokoe study about sign language structure", "linguistics"),
         ("where do qualified interpreters provide access", "interpreters"),
         ("how are numbers signed with the palm", "numbers"),
         ("what does deaf culture value in storytelling", "culture")]


def test_correction_raises_retrieval_hit_rate_on_noisy_queries(tmp_path, capsys):
    for name, text in DOCS.items():
        write(tmp_path / "kb" / name, text)
    s = load_settings(env={}, paths={"state_dir": tmp_path / "state", "knowledge_dir": tmp_path / "kb"},
                      rag={"hybrid": False})
    kb = KnowledgeBase(s, embeddings=HashEmbeddings())
    kb.index()
    corrector = Corrector(kb.vocabulary(), english=ENGLISH)

    def search(q, k):
        return kb.search(q, k=k, min_relevance=-1.0)

    noisy = noisy_cases(CASES, rate=0.25, seed=3, copies=4)
    clean = hit_rate(search, CASES, k=1)
    raw = hit_rate(search, noisy, k=1)
    fixed = hit_rate(search, [(corrector.correct(q).corrected, e) for q, e in noisy], k=1)
    with capsys.disabled():
        print(f"\n[fake embeddings] hit@1 clean {clean}, noisy raw {raw}, noisy corrected {fixed}")
    assert clean.rate == 1.0
    assert fixed.rate > raw.rate


def test_known_words_are_never_changed():
    vocab = vocabulary_of(["The Deaf President Now protest of 1988.", "Learn ASL with a class."])
    eng = {**ENGLISH, "wat": 680, "yarn": 1570, "learn": 234884, "can": 8_000_000, "now": 2_900_000}
    c = Corrector(vocab, english=eng)
    assert c.correct("wat is deaf president now").changed is False  # "wat" is English (rare but known)
    assert c.correct("learn yarn").changed is False
    out = c.correct("where can i larn asl")
    assert out.corrected == "where can i learn asl"  # a KB word one edit away, never "yarn"


def test_run_together_words_are_split_into_common_words():
    eng = {**ENGLISH, "can": 8_000_000, "alpha": 5_000, "vet": 3_000, "alphabet": 20_000}
    c = Corrector(vocabulary_of(["Learn ASL."]), english=eng)
    out = c.correct("wherecan i learn asl")
    assert out.corrected == "where can i learn asl" and ("wherecan", "where can") in out.changes
    assert c.correct_word("alphavet") == "alphabet"  # one edit away: corrected, not split into "alpha vet"
    assert c.split_word("xqzvw") is None


def test_the_issue_examples_with_the_real_english_list():
    docs = ["The Deaf President Now protest in 1988 at Gallaudet.", "Where can I learn ASL? Classes at community colleges."]
    c = Corrector(vocabulary_of(docs), pairs=pairs_of(docs))  # as the chain builds it: "learn asl" is evidence
    assert c.correct("wherecan larn ASL").corrected == "where can learn asl"
    out = c.correct("wat is def presidnt now")
    assert "president now" in out.corrected and "wat" in out.corrected.split()


def test_a_short_word_changes_meaning_only_with_evidence():
    docs = ["The era of the residential schools. Schools are where many deaf children learned ASL.",
            "A light flashes when the alarm clock rings. What is the sign for your name?"]
    c = Corrector(vocabulary_of(docs), pairs=pairs_of(docs))
    assert c.plausible("ebra") and c.plausible("arbe") and not c.plausible("wht")
    for fragment in ("ebra", "arbe", "what is ebra", "what arbe the rules"):
        assert c.correct(fragment).corrected == fragment  # "era" and "are" are one edit away, but no evidence
    assert c.correct("wht is asl").corrected == "what is asl"  # English never spells "wht"
    assert c.correct("how do i sigm my name").corrected == "how do i sign my name"  # M/N look alike: cheap
    assert c.correct("deaf childrem").corrected == "deaf children"  # long words as before
