"""Integration: the real knowledge/ folder, real embeddings, real embedded Chroma and the real embedded LLM.

The LLM starts once for the module. Content is asserted (right document retrieved, a grounded non-empty
answer, refusal out of scope), never speed: two llama.cpp threads slow down a lot on a busy machine.
"""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

import pytest

from asl_gpt.config import load_settings
from asl_gpt.rag.chain import Answer, Retrieved, Token, build_assistant
from asl_gpt.rag.correction import STOPWORDS, Corrector, tokenize
from asl_gpt.rag.evaluation import QUESTIONS, hit_rate, noisy_cases
from asl_gpt.rag.index import KnowledgeBase

pytestmark = pytest.mark.slow

KNOWLEDGE = load_settings(env={}).paths.knowledge_dir


@pytest.fixture(scope="module")
def settings(tmp_path_factory, indexed_state):
    """A state dir of its own holding the knowledge folder indexed from scratch (conftest's indexed_state, built
    by the app's first-start indexing once for the run)."""
    if not any(KNOWLEDGE.glob("*.md")):
        pytest.fail(f"{KNOWLEDGE} has no documents: the default knowledge base is part of the product")
    state = tmp_path_factory.mktemp("state")
    shutil.copytree(indexed_state, state, dirs_exist_ok=True)
    return load_settings(env={}, paths={"state_dir": state})


@pytest.fixture(scope="module")
def kb(settings):
    kb = KnowledgeBase(settings)
    stats = kb.stats()
    assert stats.documents >= 30 and stats.chunks > stats.documents, stats
    yield kb
    kb.close()


@pytest.fixture(scope="module")
def assistant(settings, kb):
    a = build_assistant(settings, kb)
    yield a
    a.close()


def test_reindexing_the_knowledge_base_changes_nothing(kb):
    s = kb.index()
    assert not s.changed and s.chunks_embedded == 0 and s.unchanged >= 30


def test_retrieval_finds_the_right_document(kb):
    cases = [(q, d) for q, d, _ in QUESTIONS]
    hr = hit_rate(lambda q, k: kb.search(q, k=k), cases, k=kb.rag.k)
    print(f"\n[real embeddings] hit@{kb.rag.k} {hr} over the evaluation questions")
    assert hr.rate >= 0.8


def test_correction_raises_hit_rate_on_noisy_fingerspelling(kb, capsys):
    cases = [(q, d) for q, d, _ in QUESTIONS]
    noisy = noisy_cases(cases, rate=0.15, seed=0, copies=2)
    corrector = Corrector(kb.vocabulary())
    corrected = [(corrector.correct(q).corrected, d) for q, d in noisy]

    def search(q, k):
        return kb.search(q, k=k, min_relevance=-1.0)

    raw, fixed = hit_rate(search, noisy, 1), hit_rate(search, corrected, 1)
    with capsys.disabled():
        print(f"\n[real embeddings] noisy hit@1 raw {raw}, corrected {fixed}")
    assert fixed.rate > raw.rate


def _names(answer: Answer, doc: str) -> bool:
    """The expected document is among the answer's sources."""
    return any(doc.lower() in Path(s.path).name.lower() for s in answer.sources)


def _grounded(answer: Answer) -> float:
    """Share of the answer's content words that occur in the passages it was given."""
    words = {w for w in tokenize(answer.text) if w not in STOPWORDS and len(w) > 2 and not w.isdigit()}
    passages = set(tokenize(" ".join(f"{s.title} {s.section} {s.passage}" for s in answer.sources)))
    return len(words & passages) / max(1, len(words))


@pytest.mark.parametrize("question,doc,facts", QUESTIONS[:3], ids=[d for _, d, _ in QUESTIONS[:3]])
def test_the_embedded_llm_answers_from_the_right_source(assistant, question, doc, facts, capsys):
    events = list(assistant.ask_stream(question))
    answer = events[-1]
    assert isinstance(events[0], Retrieved) and isinstance(answer, Answer)
    assert any(isinstance(e, Token) for e in events)
    with capsys.disabled():
        print(f"\nQ: {question}\nA: {answer.text}\n   sources: {[s.path for s in answer.sources]}")
    assert answer.status == "answered", answer.error
    assert _names(answer, doc)
    assert len(answer.text.split()) >= 5
    assert _grounded(answer) >= 0.5


def test_out_of_scope_questions_are_refused_without_the_llm(assistant):
    for q in ("what is the capital of france", "give me a recipe for chocolate cake",
              "who won the football world cup in 2018"):
        answer = assistant.ask(q)
        assert answer.status == "not_found" and not answer.sources, (q, answer.sources)


def test_out_of_scope_follow_ups_are_refused_without_the_llm(assistant):
    history = [{"role": "user", "content": "How do you fingerspell the letter J?"},
               {"role": "assistant", "content": "The pinky traces a J [1]."}]
    for q in ("What is the capital of France?", "Who won the football world cup in 2018?"):
        answer = assistant.ask(q, history=history)
        assert answer.status == "not_found" and not answer.sources, (q, answer.sources)


def test_fingerspelled_question_is_corrected_then_answered(assistant):
    q, doc, _ = QUESTIONS[0]
    noisy = noisy_cases([(q, doc)], rate=0.12, seed=5, copies=1)[0][0]
    answer = assistant.ask("", raw=noisy)
    assert answer.correction.raw == noisy
    assert _names(answer, doc)


def test_the_same_code_path_works_against_an_openai_compatible_url(assistant, settings, kb):
    """The embedded server is a real OpenAI-compatible server: point `llm.base_url` at it, as a user would."""
    url = assistant.llm.base_url()  # starts it if a previous test did not
    remote = load_settings(env={"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "unused", "OPENAI_MODEL": "any"},
                           paths={"state_dir": settings.paths.state_dir})
    other = build_assistant(remote, kb)
    assert other.check_llm().ok
    q, doc, _ = QUESTIONS[1]
    answer = other.ask(q)
    assert answer.status == "answered" and answer.text


def test_a_follow_up_makes_the_llm_read_only_its_new_turn(assistant):
    """llama.cpp's own counts: the follow-up's prompt starts with everything the first request read and wrote,
    so the server takes that from its cache and reads only the new turn."""
    first = assistant.ask("what is fingerspelling")
    assert first.status == "answered" and not first.quoted, first.text
    history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.text}]
    second = assistant.ask("how fast should i go", history=history)
    assert second.status == "answered"
    first_prompt = first.timings["prompt_tokens"] + first.timings["cached_tokens"]
    assert second.timings["cached_tokens"] > first_prompt + first.timings["tokens"] // 2  # the prompt and the answer
    assert second.timings["prompt_tokens"] < first_prompt
    assert {s.n for s in second.sources} - {s.n for s in first.sources}  # new passages numbered on


def test_several_questions_are_answered_at_once(assistant, settings):
    """The embedded server has llm.embedded_parallel slots of llm.embedded_ctx tokens each; questions asked from
    several threads at once are all answered."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    url = assistant.llm.base_url().removesuffix("/v1")
    slots = json.loads(urllib.request.urlopen(f"{url}/slots", timeout=10).read())
    assert [s["n_ctx"] for s in slots] == [settings.llm.embedded_ctx] * settings.llm.embedded_parallel
    questions = [q for q, _, _ in QUESTIONS[:3]]
    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(assistant.ask, questions))
    assert [a.status for a in answers] == ["answered"] * len(questions), [a.error for a in answers]


def test_close_stops_the_embedded_server(assistant):
    url = assistant.llm.base_url().removesuffix("/v1")
    assert urllib.request.urlopen(f"{url}/health", timeout=5).status == 200
    assistant.llm.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/health", timeout=2)


# Issue 18's examples that need no LLM: what the answer would be given, or the refusal (Assistant.find).
def _found(assistant, question, history=None, raw=None):
    return assistant.find(question, history, raw)


def test_what_is_fingerspelling_gets_the_defining_passage_first(assistant):
    _, _, passages, _, _ = _found(assistant, "what is fingerspelling")
    assert Path(passages[0].source).name == "01-manual-alphabet-overview.md"


def test_the_founders_question_keeps_the_names_in_the_prompt(assistant, kb):
    from asl_gpt.rag.windows import window

    _, query, passages, _, _ = _found(assistant, "who founded the first school for the deaf in america")
    windows = [window(p.text, query, assistant.context, kb.vocabulary(), assistant.context.first_chars if i == 0
                      else None) for i, p in enumerate(passages)]
    assert any("Gallaudet" in w and "Clerc" in w for w in windows), windows


def test_a_follow_up_is_searched_with_the_previous_topic(assistant):
    history = [{"role": "user", "content": "what is fingerspelling"},
               {"role": "assistant", "content": "Spelling a word one letter at a time [1]."}]
    _, query, passages, _, _ = _found(assistant, "how fast should i go", history)
    assert "fingerspelling" in query and passages
    assert Path(passages[0].source).name == "08-fingerspelling-speed-and-practice.md"


def test_a_made_up_term_is_refused_by_name(assistant):
    _, _, passages, unknown, _ = _found(assistant, "what is a zorblat")
    assert not passages and unknown == ["zorblat"]


def test_a_signed_deaf_president_now_is_corrected(assistant):
    question, _, passages, _, correction = _found(assistant, "", raw="wat is def presidnt now")
    assert "deaf president now" in question and ("def", "deaf") in correction.changes
    assert Path(passages[0].source).name == "17-deaf-president-now-1988.md"
