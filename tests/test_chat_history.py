"""A question that names its own topic is answered as a first question (issue 28 item 1), and an answer the checks
changed says so (item 6): `questions.stands_alone`, `conversation.history_for` and the app's chat turn over the real chain with a
fake chat model."""

from __future__ import annotations

import pytest

from asl_gpt.app.chat import CORRECTED_NOTE, answer_turn
from asl_gpt.app.pending import Turn
from asl_gpt.rag.chain import Answer, build_assistant
from asl_gpt.rag.conversation import history_for, rewritten
from asl_gpt.rag.questions import stands_alone
from test_rag_helpers import fake_chat, settings_with_docs

DOCS = {
    "fingerspelling.md": "# Fingerspelling\n\n## What is fingerspelling\n\nFingerspelling is spelling a word letter by "
                         "letter.\n\n## How fast\n\nHow fast should you go when fingerspelling? Go slowly and "
                         "steadily at first: fast comes with practice.\n",
    "history.md": "# Deaf history\n\n## Schools\n\nThe American School for the Deaf was founded in Hartford in 1817 "
                  "by Thomas Hopkins Gallaudet and Laurent Clerc.\n",
}


@pytest.mark.parametrize("question, alone", [
    ("what is fingerspelling", True),
    ("who founded the american school for the deaf", True),
    ("is british sign language the same as asl", True),  # "the same as X" names both sides
    ("how fast should i go", False),  # no topic word of its own
    ("when did it open", False),
    ("what about nicaragua", False),
    ("and in britain", False),
    ("why", False),
])
def test_a_question_stands_alone_when_it_names_its_own_topic(question, alone):
    assert stands_alone(question) is alone


def test_history_for_keeps_only_the_topic_a_follow_up_leans_on():
    h = [{"role": "user", "content": "what is fingerspelling"}, {"role": "assistant", "content": "spelling [1]."},
         {"role": "user", "content": "how fast should i go"}, {"role": "assistant", "content": "slowly [1]."},
         {"role": "user", "content": "who founded the american school for the deaf"},
         {"role": "assistant", "content": "Gallaudet [1]."}]
    assert history_for("is british sign language the same as asl", h) == []
    assert history_for("when did it open", h) == h[4:]  # from the school question on, not fingerspelling
    assert history_for("how fast should i go", h[:2]) == h[:2]


@pytest.fixture
def settings(tmp_path):
    return settings_with_docs(tmp_path, DOCS, min_relevance=0.2, k=1, max_question_chars=300)


def test_an_unrelated_question_in_a_conversation_carries_no_earlier_turn(settings, kb):
    chat = fake_chat("Fingerspelling spells a word letter by letter [1].", "Go slowly and steadily at first [1].",
                     "It was founded by Thomas Hopkins Gallaudet and Laurent Clerc [1].")
    assistant = build_assistant(settings, kb, chat)
    searched: list[str] = []
    search = kb.search
    kb.search = lambda q, *a, **k: (searched.append(q), search(q, *a, **k))[1]
    messages, turns = [], []
    for q in ("what is fingerspelling", "how fast should i go", "who founded the american school for the deaf"):
        searched.clear()
        messages, turns, status = list(answer_turn(assistant, Turn(q, "typed"), messages, turns))[-1]
        assert status.startswith("answered"), status
    # the third question: searched on its own words only, and its prompt holds no earlier question or answer
    assert searched and all("fingerspelling" not in s and "fast" not in s for s in searched), searched
    prompt = " ".join(str(m.content) for m in chat.seen[-1])
    assert "who founded the american school for the deaf" in prompt
    assert "how fast should i go" not in prompt and "letter by letter [1]" not in prompt
    assert "slowly and steadily at first [1]" not in prompt
    answers = [m["content"] for m in messages if m["role"] == "assistant" and not m.get("metadata")]
    assert "Gallaudet" in answers[-1]


def test_the_second_question_still_follows_the_first(settings, kb):
    chat = fake_chat("Fingerspelling spells a word letter by letter [1].", "Go slowly and steadily at first [1].")
    assistant = build_assistant(settings, kb, chat)
    messages, turns = [], []
    for q in ("what is fingerspelling", "how fast should i go"):
        messages, turns, _ = list(answer_turn(assistant, Turn(q, "typed"), messages, turns))[-1]
    assert "what is fingerspelling" in " ".join(str(m.content) for m in chat.seen[-1])


def _answer(text, **kw):
    return Answer("q", text, (), **kw)


def test_an_answer_the_checks_changed_says_so():
    assert not rewritten("Go slowly [1].", _answer("Go slowly [1]."))
    assert not rewritten("Go slowly.", _answer("Go slowly [1]."))  # a citation added by the code is no change
    assert not rewritten("Go slowly", _answer("Go slowly [1]."))  # nor the full stop after it
    assert not rewritten("", _answer("Quoted from the passages: ..."))  # nothing streamed: nothing rewritten
    assert rewritten("I could not find it.", _answer("> Go slowly [1].", quoted=True))
    assert rewritten("Go slowly. It is 1817.", _answer("Go slowly [1]."))  # a sentence dropped

    class Stream:
        def ask_stream(self, question, history=None, raw=None):
            from asl_gpt.rag.chain import Retrieved, Token

            yield Retrieved(question, (), None)
            yield Token("Go slowly. It opened in 1999.")
            yield Answer(question, "Go slowly [1].", ())

    chat, turns, _ = list(answer_turn(Stream(), Turn("how fast", "typed"), [], []))[-1]
    assert chat[1]["content"].endswith(CORRECTED_NOTE)
    assert turns[-1]["content"] == "Go slowly [1]."  # the history keeps the answer itself


def test_a_repaired_answer_says_it_was_corrected_once():
    """The check stage's own note (rag.citations.CORRECTED) is in a repaired answer's text: the chat adds none."""
    from asl_gpt.rag.verification import Verification

    class Stream:
        def ask_stream(self, question, history=None, raw=None):
            from asl_gpt.rag.chain import Retrieved, Token

            yield Retrieved(question, (), None)
            yield Token("Go fast. It opened in 1999.")
            yield Answer(question, "Go slowly [1].\n\n(Corrected against the source: a sentence ...)", (),
                         verification=Verification(checked=2, supported=1, repaired=1))

    chat, _, _ = list(answer_turn(Stream(), Turn("how fast", "typed"), [], []))[-1]
    assert chat[1]["content"].count("Corrected against the source") == 1
