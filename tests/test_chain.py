"""The answering chain with a fake chat model: citations, refusal in code, bad input, LLM failures, history."""

from __future__ import annotations


import pytest

from asl_gpt.config import load_settings
from asl_gpt.errors import InputError
from asl_gpt.rag.chain import Answer, Retrieved, Token, build_assistant
from asl_gpt.rag.index import KnowledgeBase
from test_rag_helpers import HashEmbeddings, fake_chat, settings_with_docs, write

DOCS = {
    "letters.md": "# Letters J and Z\n\n## J\n\nThe letter J is the pinky handshape traced as a hook.\n\n"
                  "## Z\n\nThe letter Z is the index finger tracing a zigzag.\n",
    "history.md": "# Deaf history\n\n## Schools\n\nThe American School for the Deaf opened in Hartford in 1817.\n",
}


@pytest.fixture
def settings(tmp_path):
    return settings_with_docs(tmp_path, DOCS, min_relevance=0.3, k=2, max_question_chars=300)


def run(assistant, *args, **kw):
    events = list(assistant.ask_stream(*args, **kw))
    assert isinstance(events[0], Retrieved) and isinstance(events[-1], Answer)
    assert all(isinstance(e, Token) for e in events[1:-1])
    return events, events[-1]


def test_streams_tokens_then_an_answer_with_numbered_sources(settings, kb):
    chat = fake_chat("Z is traced as a zigzag with the index finger [1]. Nothing else [7].")
    events, answer = run(build_assistant(settings, kb, chat), "how is the letter z traced zigzag")
    tokens = "".join(e.text for e in events[1:-1])
    assert tokens.startswith("Z is traced")
    assert answer.status == "answered" and "[7]" not in answer.text and "[1]" in answer.text
    top = answer.sources[0]
    assert (top.n, top.title, top.section, top.cited) == (1, "Letters J and Z", "Z", True)
    assert top.path.endswith("letters.md") and "zigzag" in top.passage and 0.3 <= top.score <= 1
    prompt = chat.seen[0]
    assert 'Passage [1] (from "Letters J and Z", section "Z")' in prompt[0].content
    assert prompt[-1].content == "how is the letter z traced zigzag"
    assert answer.timings["tokens"] > 0 and "first_token_s" in answer.timings


def test_warm_up_runs_the_answering_prompt_once_and_never_raises(settings, kb):
    chat = fake_chat("ok")
    assistant = build_assistant(settings, kb, chat)
    searched = []
    search = kb.search
    kb.search = lambda q, *a, **k: searched.append(q) or search(q, *a, **k)
    assistant.warm_up()
    assert len(chat.seen) == 1 and chat.seen[0][0].content.startswith("You are ASL GPT")
    assert searched  # the search side is loaded too (the first question paid 6 s for it)
    assistant.warm_up()  # the fake has no answers left: a failing warm-up is logged, not raised


def test_uncited_sentences_are_attributed_by_code(settings, kb):
    chat = fake_chat("The American School for the Deaf opened in Hartford in 1817.")
    _, answer = run(build_assistant(settings, kb, chat), "when did the american school for the deaf open")
    assert answer.text.endswith("in 1817 [1].")
    assert answer.cited_sources[0].title == "Deaf history"


def test_nothing_relevant_means_no_llm_call(settings, kb):
    chat = fake_chat()  # would raise StopIteration if called
    _, answer = run(build_assistant(settings, kb, chat), "what is the capital of france")
    assert answer.status == "not_found" and not answer.sources
    assert "could not find" in answer.text and chat.seen == []


@pytest.mark.parametrize("question", ["", "   ", "x" * 301, "word " * 2_000_000])
def test_empty_and_oversized_questions_are_refused_before_any_work(settings, kb, question):
    assistant = build_assistant(settings, kb, fake_chat())  # fake_chat would raise if asked
    calls = kb.embeddings.calls
    with pytest.raises(InputError, match="empty|limit"):
        list(assistant.ask_stream(question))
    assert kb.embeddings.calls == calls  # refused before anything was embedded or searched


def test_unreachable_llm_gives_a_clear_error_and_the_passages(tmp_path, settings, port):
    s = load_settings(env={"OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "OPENAI_MODEL": "m"},
                      paths={"state_dir": tmp_path / "state", "knowledge_dir": tmp_path / "kb"},
                      rag={"min_relevance": 0.3}, llm={"timeout_s": 5.0})
    kb = KnowledgeBase(s, embeddings=HashEmbeddings())
    kb.index()
    assistant = build_assistant(s, kb)
    status = assistant.check_llm()
    assert not status.ok and "cannot reach" in status.message
    _, answer = run(assistant, "how is the letter z traced zigzag")
    assert answer.status == "llm_error" and "cannot reach the LLM" in answer.error
    assert answer.sources and "zigzag" in answer.sources[0].passage
    assistant.close()


def test_failure_mid_stream_keeps_the_partial_text(settings, kb):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessageChunk
    from langchain_core.outputs import ChatGenerationChunk

    class DropsMidway(GenericFakeChatModel):
        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            yield ChatGenerationChunk(message=AIMessageChunk(content="The letter Z is traced"))
            raise ConnectionError("connection reset")

    assistant = build_assistant(settings, kb, DropsMidway(messages=iter([])))
    events, answer = run(assistant, "how is the letter z traced zigzag")
    assert [e.text for e in events[1:-1]] == ["The letter Z is traced"]
    assert answer.status == "llm_error" and answer.text == "The letter Z is traced" and answer.sources
    assert "connection reset" in answer.error


def test_follow_up_uses_history_for_retrieval_and_prompt(settings, kb):
    chat = fake_chat("It opened in Hartford in 1817 [1].")
    history = [{"role": "user", "content": "tell me about the american school for the deaf"},
               {"role": "assistant", "content": "It is in Hartford [1]."},
               {"role": "assistant", "content": "sources...", "metadata": {"title": "Sources"}}]
    _, answer = run(build_assistant(settings, kb, chat), "when did it open", history=history)
    assert answer.status == "answered" and answer.sources[0].title == "Deaf history"
    roles = [type(m).__name__ for m in chat.seen[0]]
    assert roles == ["SystemMessage", "HumanMessage", "AIMessage", "HumanMessage"]


def test_fingerspelled_question_is_corrected_and_raw_kept(settings, kb):
    chat = fake_chat("Z is a zigzag [1].")
    assistant = build_assistant(settings, kb, chat)
    _, answer = run(assistant, "", raw="how is the lettwr z tracwd zigxag")
    assert answer.correction.raw == "how is the lettwr z tracwd zigxag"
    assert answer.question == "how is the letter z traced zigzag"
    assert ("zigxag", "zigzag") in answer.correction.changes
    assert answer.sources[0].section == "Z"


def test_an_answer_of_citation_marks_is_never_shown_the_passages_are_quoted(settings, kb):
    chat = fake_chat("[1] [2] [3]")
    events, answer = run(build_assistant(settings, kb, chat), "how is the letter z traced zigzag")
    assert [e.text for e in events[1:-1]] == [answer.text]  # the marks never shown; the quotes streamed
    assert answer.status == "answered" and answer.quoted and not answer.error
    assert answer.text.startswith("Quoted from the knowledge base")
    assert '"The letter Z is the index finger tracing a zigzag." [1]' in answer.text
    assert [s.cited for s in answer.sources][0] and len(chat.seen) == 1  # one LLM call, no second prompt


def test_an_answer_the_passages_do_not_support_is_replaced_by_quotes(settings, kb):
    chat = fake_chat("The American School for the Deaf opened in Boston in 1902 [1].")
    _, answer = run(build_assistant(settings, kb, chat), "tell me about the american school for the deaf")
    assert answer.quoted and "1902" not in answer.text and "Boston" not in answer.text
    assert '"The American School for the Deaf opened in Hartford in 1817." [1]' in answer.text
    assert answer.cited_sources[0].title == "Deaf history"


def test_a_supported_answer_is_kept(settings, kb):
    chat = fake_chat("It opened in Hartford in 1817 [1].")
    _, answer = run(build_assistant(settings, kb, chat), "tell me about the american school for the deaf")
    assert not answer.quoted and answer.text == "It opened in Hartford in 1817 [1]."


def test_the_fact_asked_for_is_said_before_the_model_writes_and_opens_the_answer(settings, kb):
    """Issue 25: a when/who/where/what question's answer begins at once with the passage's sentence holding the
    fact; the model's sentences follow, checked, and one that only restates it is dropped; an unsupported one
    leaves the fact alone (not quotes)."""
    fact = "The American School for the Deaf opened in Hartford in 1817 [1]."
    chat = fake_chat("It opened in Hartford in 1817 [1].",
                     "The American School for the Deaf opened in Boston in 1902 [1].")
    assistant = build_assistant(settings, kb, chat)
    events, answer = run(assistant, "when did the american school for the deaf open")
    assert events[1].text == fact + " " and not answer.quoted  # the first token, before the model's
    assert answer.text == fact
    _, answer = run(assistant, "when did the american school for the deaf open in hartford")
    assert answer.text.startswith(fact) and "1902" not in answer.text and not answer.quoted


def test_a_decided_choice_is_said_before_the_model_writes(settings, kb):
    chat = fake_chat("No, the letter J is not traced as a hook [1].")
    events, answer = run(build_assistant(settings, kb, chat), "is the letter j traced as a hook")
    assert events[1].text == "Yes: The letter J is the pinky handshape traced as a hook [1]. "
    assert answer.text.startswith(events[1].text.strip()) and "not traced" not in answer.text  # its "No" dropped


def test_an_out_of_scope_follow_up_is_refused_without_the_llm(settings, kb):
    chat = fake_chat()  # raises if called
    history = [{"role": "user", "content": "how is the letter z traced zigzag"},
               {"role": "assistant", "content": "Z is a zigzag [1]."}]
    _, answer = run(build_assistant(settings, kb, chat), "what is the capital of france", history=history)
    assert answer.status == "not_found" and not answer.sources and chat.seen == []


@pytest.mark.parametrize("question,leans", [
    ("when did it open", True), ("what about J?", True), ("and why", True), ("how is that done", True),
    ("What is the capital of France?", False), ("who founded the american school for the deaf", False),
])
def test_which_questions_lean_on_the_previous_one(question, leans):
    from asl_gpt.rag.questions import leans_on_history

    assert leans_on_history(question) is leans


def test_a_typed_question_with_typos_is_corrected_only_when_needed(settings, kb):
    chat = fake_chat("Z is a zigzag [1].", "Z is a zigzag [1].")
    assistant = build_assistant(settings, kb, chat)
    _, answer = run(assistant, "lettwr zigxag ondex")  # typed: nothing found as typed
    assert answer.status == "answered" and answer.question == "letter zigzag index"
    assert ("zigxag", "zigzag") in answer.correction.changes
    _, answer = run(assistant, "how is the letter z traced zigzag")
    assert answer.correction is None and answer.question == "how is the letter z traced zigzag"


def test_a_correction_that_would_refuse_gives_way_to_the_words_as_signed(settings, kb):
    from asl_gpt.rag.correction import Correction

    chat = fake_chat("Z is a zigzag [1].")
    assistant = build_assistant(settings, kb, chat)
    # A corrector that "fixes" every word into something the index does not hold.
    assistant.correct_query = lambda raw: Correction(raw, "quantum yarn", (("zigzag", "yarn"),))
    _, answer = run(assistant, "", raw="zigzag index finger")
    assert answer.status == "answered" and answer.question == "zigzag index finger"
    assert not answer.correction.changed


def test_the_prompt_holds_sentence_windows_not_whole_chunks(tmp_path):
    long_doc = "# Long\n\n## Part\n\n" + " ".join(f"Filler sentence number {i} about nothing." for i in range(60)) \
        + " The letter Q points down with thumb and index finger. " \
        + " ".join(f"More filler text {i} here." for i in range(60)) + "\n"
    write(tmp_path / "kb" / "long.md", long_doc)
    s = load_settings(env={}, paths={"state_dir": tmp_path / "state", "knowledge_dir": tmp_path / "kb"},
                      rag={"min_relevance": -1.0, "k": 1, "chunk_size": 6000, "chunk_overlap": 0})
    kb = KnowledgeBase(s, embeddings=HashEmbeddings())
    kb.index()
    chat = fake_chat("The letter Q points down [1].")
    run(build_assistant(s, kb, chat), "how does the letter q point")
    system = chat.seen[0][0].content
    assert "The letter Q points down with thumb and index finger." in system
    assert len(system) < 1000 < len(long_doc)


def test_titles_do_not_end_sentences_when_citations_are_attributed():
    from asl_gpt.rag.citations import Source, finalize_citations

    src = (Source(1, "a.md", "Stokoe", "", "William C. Stokoe Jr. published Sign Language Structure in 1960.", 0.6),)
    text, _ = finalize_citations("William C. Stokoe Jr. published Sign Language Structure in 1960.", src)
    assert text == "William C. Stokoe Jr. published Sign Language Structure in 1960 [1]."


def test_leading_citation_runs_are_reattributed():
    from asl_gpt.rag.citations import Source, finalize_citations

    src = (Source(1, "a.md", "History", "Schools", "The school opened in Hartford in 1817.", 0.6),
           Source(2, "b.md", "Letters", "Z", "Z is a zigzag.", 0.5))
    text, sources = finalize_citations("[1] [2] The school opened in Hartford in 1817.", src)
    assert text == "The school opened in Hartford in 1817 [1]."
    assert [s.cited for s in sources] == [True, False]


def test_echoed_passage_labels_are_removed():
    from asl_gpt.rag.citations import Source, finalize_citations

    src = (Source(1, "a.md", "Everyday Signs", "YES", "YES: make an S hand and nod it.", 0.6),)
    text, _ = finalize_citations('(from "Everyday Signs", section "YES"): [1] YES: make an S hand and nod it.', src)
    assert text == "YES: make an S hand and nod it [1]."
    text, _ = finalize_citations("Passage [1] states that you make an S hand and nod it.", src)
    assert text == "You make an S hand and nod it [1]."


def test_a_short_supported_answer_is_kept_and_streamed_at_the_end(settings, kb):
    chat = fake_chat("1817 [1].")
    events, answer = run(build_assistant(settings, kb, chat), "tell me about the american school for the deaf")
    assert not answer.quoted and answer.text == "1817 [1]." and [e.text for e in events[1:-1]] == ["1817 [1]."]



# The answer path's stages (docs/architecture.md). answerability is retrieval: it looks each term the question names up
# in the whole index (its passages, its words, its abbreviations). Not among them: the shared modules (lexicon, text,
# questions, correction, scoring), sources.py (the Source type every stage after retrieve passes on: select numbers the passages, a
# follow-up's prompt numbers on, cite marks them), transcripts.py (the store the chain writes after cite) and the
# chain that drives them all.
STAGES = {"retrieve": ("search", "index", "retrieval", "store", "embeddings", "documents", "bundle", "answerability"),
          "select": ("windows", "decisions"),
          "generate": ("prompts", "conversation", "server", "llm", "generation"),
          "check": ("grounding", "verification"),
          "cite": ("citations",)}


def _stage_trip(fn) -> list[str]:
    """The answer stages entered while `fn()` runs, in order, each run of one stage said once (a call into any
    function defined in a stage's module counts, seen by a profiling hook, not by reading source text)."""
    import sys
    from pathlib import Path

    import asl_gpt.rag

    rag = Path(asl_gpt.rag.__file__).parent
    module_of = {f"{rag / m}.py": m for ms in STAGES.values() for m in ms}
    stage_of = {m: stage for stage, ms in STAGES.items() for m in ms}
    trip: list[str] = []

    def hook(frame, event, arg):
        m = module_of.get(frame.f_code.co_filename)
        if event == "call" and m is not None and (not trip or trip[-1] != stage_of[m]):
            trip.append(stage_of[m])

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return trip


@pytest.mark.parametrize("follow_up", [False, True])
def test_a_question_enters_each_answer_stage_once_in_order(settings, kb, follow_up):
    """Issue 26: a typed question's trip goes retrieve, select, generate, check, cite, never back (the conversation
    a follow-up extends is kept after cite, in a store no stage owns)."""
    chat = fake_chat("Z is traced as a zigzag with the index finger [1].", "J is traced as a hook [1].")
    assistant = build_assistant(settings, kb, chat)
    first = assistant.ask("how is the letter z traced zigzag")
    history = [("user", first.question), ("assistant", first.text)] if follow_up else None
    trip = _stage_trip(lambda: assistant.ask("and how is the letter j traced hook", history))
    assert trip == list(STAGES), trip
    assert assistant.transcripts.find(history or [("user", first.question), ("assistant", first.text)]) is not None


def test_a_refusal_the_check_keeps_goes_back_to_no_stage(settings, kb):
    """The model says the passages do not answer and no quote is about what was signed: the refusal stands, written
    with what the retrieve stage read on its way (the documents indexed), so the trip ends at check."""
    chat = fake_chat("I could not find anything about that in the passages.")
    assistant = build_assistant(settings, kb, chat)
    answers: list = []
    trip = _stage_trip(lambda: answers.append(assistant.ask("", raw="how is the leter z tracd zigzg")))
    assert answers[0].status == "not_found" and f"({kb.stats().documents} documents indexed)" in answers[0].text
    assert trip == ["retrieve", "select", "generate", "check"], trip


@pytest.mark.parametrize("question,reply,stages", [
    ("what is the capital of france", None, ["retrieve"]),  # refused before the LLM
    ("how is the letter z traced zigzag", "[1] [2]", list(STAGES)),  # unusable: the passages are quoted
    ("is the letter j traced as a hook", "No, it is not [1].", list(STAGES)),  # decided before the model writes
    ("when did the american school for the deaf open", "In 1817 [1].", list(STAGES)),  # the fact, said first
])
def test_other_trips_never_go_back(settings, kb, question, reply, stages):
    chat = fake_chat(*([reply] if reply else []))
    assistant = build_assistant(settings, kb, chat)
    answers: list = []
    trip = _stage_trip(lambda: answers.append(assistant.ask(question)))
    assert trip == stages, (trip, answers[0])
    assert answers[0].quoted == (reply == "[1] [2]")  # a lead answers where the model's text is unusable
