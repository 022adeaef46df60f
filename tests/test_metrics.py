"""The competition metric against hand-computed values."""

import pytest

from asl_gpt.training.metrics import levenshtein, normalized_total_levenshtein, score


@pytest.mark.parametrize("a,b,d", [("", "", 0), ("abc", "", 3), ("", "ab", 2), ("kitten", "sitting", 3),
                                   ("flaw", "lawn", 2), ("hello", "hello", 0), ("ab", "ba", 2), ("abc", "axc", 1)])
def test_levenshtein(a, b, d):
    assert levenshtein(a, b) == d
    assert levenshtein(b, a) == d


def test_normalized_total_levenshtein_by_hand():
    # N = 5 + 3 = 8 reference characters; D = 1 ("hello"->"hallo") + 3 ("abc"->"") = 4; (8 - 4) / 8
    assert normalized_total_levenshtein(["hello", "abc"], ["hallo", ""]) == pytest.approx(0.5)
    assert normalized_total_levenshtein(["abc"], ["abc"]) == 1.0
    # it can go below zero: N = 2, D = 5 ("ab" -> "xyzwv")
    assert normalized_total_levenshtein(["ab"], ["xyzwv"]) == pytest.approx(-1.5)


def test_score_fields():
    s = score(["what is asl", "deaf"], ["what is asl", "deaf"])
    assert (s.n, s.chars, s.distance, s.score, s.exact) == (2, 15, 0, 1.0, 1.0)
    s = score(["abcd", "ef"], ["abed", "f"])  # D = 1 + 1, N = 6
    assert s.score == pytest.approx(4 / 6) and s.exact == 0.0
    with pytest.raises(ValueError):
        score(["a"], [])
