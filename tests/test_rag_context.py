"""Sentence windows, support checks and quoted answers (pure)."""

from __future__ import annotations

from asl_gpt.rag.citations import quoted_answer
from asl_gpt.rag.grounding import support, supported, unsupported_numbers
from asl_gpt.rag.text import sentences
from asl_gpt.rag.windows import ContextOptions, best_sentences, window

PASSAGE = ("The school opened in Hartford, Connecticut, in April 1817. It was first called the Connecticut Asylum. "
           "Gallaudet was its principal. Clerc was its head teacher. Dr. I. King Jordan came much later. "
           "- Students came from many states.\n- Tuition was paid by some states.")


def test_sentences_split_on_ends_and_list_items_but_not_initials():
    s = sentences(PASSAGE)
    assert "Dr. I. King Jordan came much later." in s
    assert s[-2:] == ["Students came from many states.", "Tuition was paid by some states."]


def test_window_keeps_the_best_sentence_and_its_neighbours_within_the_budget():
    w = window(PASSAGE, "who was the head teacher", ContextOptions(window_chars=120))
    assert "Clerc was its head teacher." in w and len(w) <= 140
    assert "Gallaudet was its principal." in w  # a neighbour, for context
    assert window("Short text.", "anything") == "Short text."


def test_support_and_invented_numbers():
    passages = [PASSAGE]
    assert support("The school opened in Hartford in 1817 [1].", passages) == 1.0
    assert unsupported_numbers("It opened in 1902 [1].", passages) == ["1902"]
    assert not supported("It opened in 1902 [1].", passages)
    assert not supported("Bananas contain potassium and vitamins.", passages)
    assert supported("Clerc was the head teacher [1].", passages)


def test_best_sentences_are_quoted_with_their_passage_numbers():
    picks = best_sentences("when did the school open in hartford", ["Nothing here at all today.", PASSAGE], n=1)
    assert picks == [(1, "The school opened in Hartford, Connecticut, in April 1817.")]
    text = quoted_answer(picks)
    assert text.startswith("Quoted from the knowledge base")
    assert '> "The school opened in Hartford, Connecticut, in April 1817." [2]' in text
