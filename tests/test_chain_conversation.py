"""A follow-up extends the conversation's own prompt (so the LLM server's cache is reused), with a fake chat model:
the previous request's messages and the model's raw answer come first, only new passages are added (numbered on),
citations map to the right sources, and an unknown history or a long conversation gets a fresh prompt."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from asl_gpt.rag.chain import Answer, build_assistant
from asl_gpt.rag.conversation import Transcript, follow_up_request, fresh_request
from asl_gpt.rag.retrieval import Passage
from test_rag_helpers import fake_chat, settings_with_docs

DOCS = {
    "history.md": "# Deaf history\n\n## Schools\n\nThe American School for the Deaf opened in Hartford in 1817.\n",
    "letters.md": "# Letters J and Z\n\n## J\n\nThe letter J is the pinky handshape traced as a hook.\n\n"
                  "## Z\n\nThe letter Z is the index finger tracing a zigzag.\n",
}


@pytest.fixture
def settings(tmp_path):
    return settings_with_docs(tmp_path, DOCS, min_relevance=0.3, k=1, max_question_chars=300)


def ask(assistant, question, previous: Answer | None = None) -> Answer:
    history = ([{"role": "user", "content": previous.question}, {"role": "assistant", "content": previous.text},
                {"role": "assistant", "content": "sources…", "metadata": {"title": "Sources"}}]
               if previous is not None else None)
    return assistant.ask(question, history=history)


def same(a, b) -> bool:
    return [(type(m), m.content) for m in a] == [(type(m), m.content) for m in b]


def test_a_follow_up_extends_the_previous_request_with_the_raw_answer_and_new_passages_only(settings, kb):
    raw = "The American School for the Deaf opened in Hartford in 1817."  # uncited: the code cites it
    chat = fake_chat(raw, "The letter J is the pinky traced as a hook [2]. The school opened in Hartford in 1817 [1].")
    assistant = build_assistant(settings, kb, chat)
    first = ask(assistant, "when did the american school for the deaf open in hartford")
    assert first.text == raw[:-1] + " [1]." and first.text != raw
    second = ask(assistant, "how is the letter j made with the pinky", first)

    before, after = chat.seen
    assert same(after[:len(before)], before)  # the previous request, untouched: the server's cache holds it
    assert after[len(before)] == AIMessage(raw)  # the model's own words, not the text shown
    turn = after[len(before) + 1]
    assert isinstance(turn, HumanMessage) and len(after) == len(before) + 2
    assert 'Passage [2] (from "Letters J and Z", section "J")' in turn.content and "Passage [1]" not in turn.content
    assert turn.content.startswith("New question: how is the letter j made with the pinky")

    # [2] is this turn's passage, [1] the earlier turn's, cited from the conversation: both right
    assert second.status == "answered" and "[2]" in second.text and "[1]" in second.text
    by_n = {s.n: s for s in second.sources}
    assert by_n[2].section == "J" and by_n[2].cited
    assert by_n[1].title == "Deaf history" and by_n[1].cited
    assert [s.n for s in second.sources] == [2, 1]  # this turn's passages first
    assert second.sources[0].passage.startswith("The letter J")


def test_a_follow_up_on_passages_already_given_repeats_only_the_best_one(settings, kb):
    chat = fake_chat("It opened in Hartford in 1817 [1].", "In Hartford [1].", "Z is a zigzag [3].")
    assistant = build_assistant(settings, kb, chat)
    first = ask(assistant, "when did the american school for the deaf open in hartford")
    second = ask(assistant, "where is the american school for the deaf", first)
    turn = chat.seen[1][-1].content  # the best passage again, beside the question, under its number
    assert turn.startswith("New question: where is the american school for the deaf")
    assert 'Passage [1] (from "Deaf history"' in turn and "Passage [2]" not in turn
    assert [(s.n, s.title) for s in second.sources] == [(1, "Deaf history")] and second.sources[0].cited
    # a third turn numbers on from everything given so far (one passage: the next is [2])
    ask(assistant, "what about the letter z zigzag", second)
    assert same(chat.seen[2][:len(chat.seen[1])], chat.seen[1])
    assert "Passage [2]" in chat.seen[2][-1].content


def test_an_unknown_history_or_a_long_conversation_gets_a_fresh_prompt(settings, kb, tmp_path):
    chat = fake_chat("It opened in 1817 [1].", "It opened in 1817 [1].", "J is a hook [1].")
    assistant = build_assistant(settings, kb, chat)
    ask(assistant, "when did the american school for the deaf open in hartford")
    other = Answer("when did the american school for the deaf open", "Some other answer [1].", ())
    ask(assistant, "when did the american school for the deaf open in hartford", other)
    fresh = chat.seen[1]
    assert isinstance(fresh[0], SystemMessage) and "Passage [1]" in fresh[0].content
    assert fresh[-2:] == [AIMessage("Some other answer [1]."), HumanMessage(
        "when did the american school for the deaf open in hartford")]

    small = settings_with_docs(tmp_path / "small", DOCS, min_relevance=0.3, k=1, conversation_tokens=100)
    chat = fake_chat("It opened in 1817 [1].", "J is a hook [1].")
    assistant = build_assistant(small, kb, chat)
    first = ask(assistant, "when did the american school for the deaf open in hartford")
    second = ask(assistant, "how is the letter j made with the pinky", first)
    assert isinstance(chat.seen[1][0], SystemMessage) and "letter J" in chat.seen[1][0].content
    assert [s.n for s in second.sources] == [1] and second.sources[0].section == "J"


def test_a_quoted_answer_starts_no_conversation(settings, kb):
    chat = fake_chat("[1] [1]", "It opened in 1817 [1].")
    assistant = build_assistant(settings, kb, chat)
    first = ask(assistant, "tell me about the american school for the deaf in hartford")
    assert first.quoted
    ask(assistant, "when did it open", first)
    assert isinstance(chat.seen[1][0], SystemMessage) and len(chat.seen[1]) == 4  # fresh: system, history, question


def test_a_follow_up_adds_new_passages_within_its_character_budget():
    def passage(i, text):
        return Passage(f"id{i}", text, f"/kb/doc{i}.md", f"Doc {i}", "", 0, 0.5)

    old = passage(1, "One. Two.")
    t = fresh_request("q1", [old], ["One. Two."], [])
    t = Transcript(t.messages + (AIMessage("raw"),), t.given)
    found = [passage(2, "A" * 300), old, passage(3, "B" * 300), passage(4, "C" * 100)]
    r = follow_up_request(t, "q2", found, [p.text for p in found], max_chars=420,
                          cut=lambda p, chars: p.text[:chars])
    turn = r.messages[-1].content
    # the best new one whole, the next cut to what is left (120 < 150: too little, left out), the last fits
    assert "Passage [2] (from \"Doc 2\")" in turn and "Passage [3] (from \"Doc 4\")" in turn and "Doc 3" not in turn
    assert [(s.n, s.title) for s in r.sources] == [(2, "Doc 2"), (1, "Doc 1"), (3, "Doc 4")]
    assert [g.id for g in r.given] == ["id1", "id2", "id4"] and r.extends
    # the best passage given before is repeated beside the question under its number; within the budget
    r = follow_up_request(t, "q2", [old, found[0]], ["One. Two.", found[0].text], max_chars=100)
    assert "Passage [1] (from \"Doc 1\")" in r.messages[-1].content and "Doc 2" not in r.messages[-1].content
    assert [s.n for s in r.sources] == [1] and [g.id for g in r.given] == ["id1"]
    # a passage given before whose window now holds a sentence the model has not read is given again
    r = follow_up_request(t, "q2", [old], ["One. Two. Three."])
    assert [s.n for s in r.sources] == [2] and "Passage [2]" in r.messages[-1].content
