"""`asl-gpt index` and `asl-gpt ask` through the real CLI entry point (fake embeddings, no LLM weights)."""

from __future__ import annotations

import json

import pytest

from asl_gpt.cli import main
from asl_gpt.rag.citations import CORRECTED
from test_rag_helpers import HashEmbeddings, write


@pytest.fixture
def env(tmp_path, monkeypatch):
    kb = tmp_path / "kb"
    write(kb / "letters.md", "# Letters J and Z\n\n## Z\n\nThe letter Z is the index finger tracing a zigzag.\n")
    write(kb / "history.md", "# Deaf history\n\n## Schools\n\nThe American School for the Deaf opened in 1817.\n")
    monkeypatch.setenv("ASL_GPT_PATHS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ASL_GPT_PATHS_KNOWLEDGE_DIR", str(kb))
    monkeypatch.setenv("ASL_GPT_RAG_MIN_RELEVANCE", "0.3")
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "ASL_GPT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    fake = HashEmbeddings()
    monkeypatch.setattr("asl_gpt.rag.embeddings.load_embeddings", lambda name, cache_dir: fake)
    return kb


def test_index_twice_then_json(env, capsys):
    assert main(["index", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "added 2, updated 0, removed 0, unchanged 0 files" in out and "2 documents, 2 chunks" in out
    assert main(["index", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["unchanged"] == 2 and summary["chunks_embedded"] == 0


def test_index_reports_skipped_and_empty_folders(env, tmp_path, capsys):
    (env / "blob.md").write_bytes(b"\x00\x01")
    assert main(["index", "--no-progress"]) == 0
    assert "skipped" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["index", str(tmp_path / "empty")]) == 2
    assert "error: no documents to index" in capsys.readouterr().err


def test_ask_bad_questions_are_one_line_errors(env, capsys):
    assert main(["ask", ""]) == 2
    assert capsys.readouterr().err.strip() == "error: the question is empty"
    assert main(["ask", "x" * 10_000_000]) == 2
    assert "limit is 2000" in capsys.readouterr().err


def test_ask_out_of_scope_says_so(env, capsys):
    assert main(["ask", "capital of france"]) == 0  # indexes the empty index first
    captured = capsys.readouterr()
    assert "indexing" in captured.err and "could not find" in captured.out


def test_ask_with_unreachable_llm_prints_passages_then_the_error(env, monkeypatch, capsys, port):
    # nothing listens on `port`
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    assert main(["ask", "how is the letter z traced zigzag"]) == 2
    captured = capsys.readouterr()
    assert "Retrieved passages (not an answer)" in captured.out and "zigzag" in captured.out
    assert captured.err.strip().splitlines()[-1].startswith("error: cannot reach the LLM")
    assert main(["ask", "--json", "how is the letter z traced zigzag"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "llm_error" and doc["sources"][0]["section"] == "Z"


class _Streams:
    """The chain's events for one answer: `streamed` as tokens, then `final` as the Answer."""

    def __init__(self, streamed: str, final: str):
        self.streamed, self.final = streamed, final
        self.kb = type("KB", (), {"is_empty": lambda self: False})()

    def validate(self, q):
        return q.strip()

    def ask_stream(self, question, history=None, raw=None):
        from asl_gpt.rag.chain import Answer, Retrieved, Source, Token

        src = (Source(1, "kb/letters.md", "Letters", "Z", "The letter Z is a zigzag.", 0.9, True),)
        yield Retrieved(question, src, None)
        yield Token(self.streamed)
        yield Answer(question, self.final, src)

    def close(self):
        pass


@pytest.mark.parametrize("streamed, final, times, note", [
    ("The letter Z traces a zigzag.", "The letter Z traces a zigzag [1].", 1, False),  # citations added: said once
    ("The letter Z traces a zigzag. It opened in 1999.", "The letter Z traces a zigzag [1].", 2, True),
    # repaired: the text carries the check stage's own note (rag.citations.CORRECTED), printed once
    ("The letter Z traces a circle.", "The letter Z traces a zigzag [1].\n\n" + CORRECTED.format("a sentence", "was"),
     1, True),
])
def test_ask_prints_each_answer_once_unless_the_checks_changed_it(env, monkeypatch, capsys, streamed, final, times,
                                                                 note):
    monkeypatch.setattr("asl_gpt.rag.chain.build_assistant", lambda settings: _Streams(streamed, final))
    assert main(["ask", "how is z made"]) == 0
    out = capsys.readouterr().out
    assert out.count("traces a zigzag") == times and ("Corrected against the source" in out) is note, out
    assert out.count("Corrected against the source") <= 1, out
