"""Faults, one behaviour each (what `asl-gpt bench faults` measures on the real stack): a bug is not an LLM
error, the LLM adapter says what it is and restarts a dead server, a damaged model is found, a killed
index run is seen by readers, a read-only or full state folder and a lost Chroma server are one line."""

from __future__ import annotations

import errno
import logging
import os

import pytest

from asl_gpt.config import load_settings
from asl_gpt.errors import IndexStoreError, LLMError
from asl_gpt.rag import bundle as bundle_mod
from asl_gpt.rag import llm as llm_mod
from asl_gpt.rag import store as store_mod
from asl_gpt.rag.bundle import assemble_model
from asl_gpt.rag.chain import Answer, Assistant, build_assistant
from asl_gpt.rag.index import KnowledgeBase
from asl_gpt.rag.llm import ChatModelLLM, LLMEndpoint, is_llm_failure
from asl_gpt.rag.server import EmbeddedServer
from test_rag_helpers import HashEmbeddings, fake_chat, write

DOC = "# Letters\n\n## Z\n\nThe letter Z is the index finger tracing a zigzag in the air.\n"
QUESTION = "how is the letter z traced zigzag"


@pytest.fixture
def settings(tmp_path):
    write(tmp_path / "kb" / "letters.md", DOC)
    return load_settings(env={}, paths={"state_dir": tmp_path / "state", "knowledge_dir": tmp_path / "kb"},
                         rag={"min_relevance": 0.3})


def _failing_chat(exc: BaseException):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    class Fails(GenericFakeChatModel):
        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            raise exc

    return Fails(messages=iter([]))


# -- the chain: LLM failures versus bugs ------------------------------------------------------------

def test_a_program_error_is_raised_as_itself_and_logged_with_its_traceback(settings, kb, caplog):
    assistant = build_assistant(settings, kb, _failing_chat(TypeError("unsupported operand")))
    with caplog.at_level(logging.ERROR, logger="asl_gpt.rag.chain"), pytest.raises(TypeError, match="operand"):
        list(assistant.ask_stream(QUESTION))
    assert any(r.exc_info and r.exc_info[0] is TypeError for r in caplog.records)


def test_a_transport_failure_is_an_llm_error_with_the_passages(settings, kb):
    import httpx

    err = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    answer = build_assistant(settings, kb, _failing_chat(err)).ask(QUESTION)
    assert answer.status == "llm_error" and "peer closed" in answer.error and answer.sources


@pytest.mark.parametrize("exc,llm", [(ConnectionError("reset"), True), (TimeoutError(), True),
                                     (LLMError("x"), True), (KeyError("k"), False), (TypeError(), False),
                                     (AttributeError("a"), False)])
def test_which_exceptions_are_llm_failures(exc, llm):
    assert is_llm_failure(exc) is llm


class RecordingLLM(ChatModelLLM):
    """An in-process model that records the chain's calls on its adapter."""

    def __init__(self, model):
        super().__init__(model)
        self.calls: list[str] = []

    def recover(self) -> None:
        self.calls.append("recover")


def test_after_an_llm_failure_the_next_question_lets_the_adapter_recover(settings, kb):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    class FailsOnce(GenericFakeChatModel):
        failed: bool = False

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            if not self.failed:
                self.failed = True
                raise ConnectionError("connection reset")
            yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)

    llm = RecordingLLM(FailsOnce(messages=iter([AIMessage(content="Z is traced as a zigzag [1].")])))
    assistant = Assistant(settings, kb, llm)
    assert assistant.ask(QUESTION).status == "llm_error" and llm.calls == []
    assert assistant.ask(QUESTION).status == "answered" and llm.calls == ["recover"]


def test_a_langchain_model_is_wrapped_in_an_adapter_that_says_what_it_is(settings, kb):
    assistant = build_assistant(settings, kb, fake_chat("ok"))
    assert isinstance(assistant.llm, ChatModelLLM) and assistant.llm.kind == "in-process"
    assert assistant.check_llm().ok
    endpoint = LLMEndpoint(settings.llm, settings.paths.state_dir)
    assert endpoint.kind == "embedded" and endpoint.endpoint == "the embedded LLM server"
    remote = load_settings(env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1/"}).llm
    assert LLMEndpoint(remote, settings.paths.state_dir).kind == "remote"


# -- the embedded server: killed, damaged -----------------------------------------------------------

class FakeServer:
    """Stands in for the llama.cpp process: `running` until killed."""

    started: list["FakeServer"] = []

    def __init__(self, model_path, threads=2, ctx=4096, start_timeout_s=120.0, nice=0, batch_threads=0, parallel=1, seed=0):
        self.model_path = model_path
        self.base_url = f"http://127.0.0.1:{9000 + len(FakeServer.started)}"
        self.running = False
        self.exitcode = None
        self.pid = 4242

    def start(self):
        self.running = True
        FakeServer.started.append(self)
        return self.base_url

    def stop(self):
        self.running = False

    def kill(self):
        self.running, self.exitcode = False, -9


@pytest.fixture
def fake_server(monkeypatch, tmp_path):
    FakeServer.started = []
    monkeypatch.setattr(llm_mod, "EmbeddedServer", FakeServer)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 16)
    return load_settings(env={}, llm={"embedded_model": str(gguf)}).llm


def test_a_dead_embedded_server_is_restarted_by_the_next_request(fake_server, tmp_path):
    ep = LLMEndpoint(fake_server, tmp_path)
    first = ep.chat_model()
    assert ep.endpoint == FakeServer.started[0].base_url and ep.server_pid == 4242
    FakeServer.started[0].kill()  # the process killed in the middle of an answer
    assert ep.endpoint == "the embedded LLM server"
    second = ep.chat_model()
    assert len(FakeServer.started) == 2 and second is not first
    assert second.openai_api_base == FakeServer.started[1].base_url + "/v1"


def test_restart_and_recover(fake_server, tmp_path, monkeypatch):
    ep = LLMEndpoint(fake_server, tmp_path)
    ep.base_url()
    ep.restart()
    assert len(FakeServer.started) == 2 and not FakeServer.started[0].running
    ep.recover()  # the fake answers no /health: it is stopped, the next request starts a new one
    assert not FakeServer.started[1].running
    ep.base_url()
    assert len(FakeServer.started) == 3


def test_embedded_failures_say_the_next_question_restarts_it(fake_server, tmp_path):
    import httpx

    ep = LLMEndpoint(fake_server, tmp_path)
    msg = ep.describe_failure(httpx.RemoteProtocolError("peer closed connection"), partial=True)
    assert "embedded LLM stopped in the middle of the answer" in msg and "next question restarts it" in msg
    assert "OPENAI_BASE_URL" not in ep.describe_failure(httpx.ConnectError("refused"))


def test_a_file_that_is_not_gguf_is_refused_with_its_path(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"this is not a model" * 10)
    with pytest.raises(LLMError, match="not a GGUF model"):
        EmbeddedServer(bad).start()


@pytest.fixture
def bundled(tmp_path, monkeypatch):
    import hashlib
    import sys
    import types

    data = b"GGUF" + bytes(range(256)) * 4
    pkg = tmp_path / "fakepkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "data" / "part01.bin").write_bytes(data)
    mod = types.ModuleType("fakepkg")
    mod.__file__ = str(pkg / "__init__.py")
    monkeypatch.setitem(sys.modules, "fakepkg", mod)
    spec = bundle_mod.BundledModel("tiny", (("fakepkg", "data/part01.bin"),), hashlib.sha256(data).hexdigest(), "-")
    monkeypatch.setitem(bundle_mod.BUNDLED, "tiny", spec)
    return data


def test_a_cached_model_damaged_in_place_is_rebuilt(bundled, tmp_path):
    path = assemble_model("tiny", tmp_path / "cache")
    with open(path, "r+b") as f:  # same size, bytes changed: the stamp no longer matches the file
        f.seek(100)
        f.write(b"\xff" * 16)
    assert assemble_model("tiny", tmp_path / "cache").read_bytes() == bundled


def test_a_model_that_fails_to_load_is_checked_and_rebuilt_once(bundled, tmp_path, monkeypatch):
    loads = []

    class FailsOnDamage(FakeServer):
        def start(self):
            loads.append(self.model_path.read_bytes() == bundled)
            if not loads[-1]:
                raise LLMError("the embedded LLM could not load it")
            return super().start()

    monkeypatch.setattr(llm_mod, "EmbeddedServer", FailsOnDamage)
    cfg = load_settings(env={}, llm={"embedded_model": "tiny"}).llm
    path = assemble_model("tiny", tmp_path / "models")
    stamp = path.with_suffix(".sha256").read_text()
    path.write_bytes(b"GGUF" + b"\0" * (len(bundled) - 4))  # damaged, then the stamp restored as if it matched
    st = path.stat()
    path.with_suffix(".sha256").write_text(stamp.split()[0] + f" {st.st_size} {st.st_mtime_ns}\n")
    LLMEndpoint(cfg, tmp_path).base_url()
    assert loads == [False, True]


# -- the index: killed runs, read-only and full folders, a lost server ------------------------------

def test_an_index_run_marks_the_index_changed_before_it_writes(kb, settings, monkeypatch):
    write(settings.paths.knowledge_dir / "more.md", "# More\n\nThe letter J traces a hook.\n")
    seen = {}
    before = kb.store.generation()
    real = kb.store.upsert

    def upsert(*a, **kw):  # a reader looking now (the run may be killed before its end) sees a new generation
        seen["generation"] = kb.store.generation()
        return real(*a, **kw)

    monkeypatch.setattr(kb.store, "upsert", upsert)
    kb.index()
    assert seen["generation"] != before


def _refuse_writes(monkeypatch, err: int):
    real_open = open

    def guarded(path, mode="r", *a, **kw):
        if str(path).endswith("index.lock") and mode != "r":
            raise OSError(err, os.strerror(err), str(path))
        return real_open(path, mode, *a, **kw)

    monkeypatch.setattr(store_mod, "open", guarded, raising=False)


def test_a_read_only_state_folder_still_answers_and_refuses_indexing_in_one_line(kb, settings, monkeypatch):
    _refuse_writes(monkeypatch, errno.EROFS)
    assert kb.search(QUESTION)  # nobody can write: reading needs no lock
    with pytest.raises(IndexStoreError, match="cannot write in the state folder .*ASL_GPT_PATHS_STATE_DIR"):
        kb.index()


class CountFails:
    """A Chroma collection (the store's `wrap_collection` seam) whose `count` raises `fault["with"]` while it is
    set and, with `fault["once"]`, only the first time; everything else is the real collection's."""

    def __init__(self, col, fault: dict):
        self.col, self.fault = col, fault

    def __getattr__(self, name):
        return getattr(self.col, name)

    def count(self):
        err = self.fault.get("with")
        if err is not None:
            if self.fault.get("once"):
                self.fault["with"] = None
            raise err
        return self.col.count()


def _store_with(settings, kb, fault: dict) -> store_mod.ChromaStore:
    """A second store over the indexed `kb`'s collection whose collections count as `fault` says."""
    return store_mod.ChromaStore(settings.paths.state_dir, kb.store.name,
                                 embedding_model=kb.store.embedding_model,
                                 wrap_collection=lambda col: CountFails(col, fault))


def test_store_failures_are_one_line_and_bugs_are_not(kb, settings):
    class InternalError(Exception):
        pass

    InternalError.__module__ = "chromadb.errors"
    fault: dict = {}
    store = _store_with(settings, kb, fault)
    fault["with"] = OSError(errno.ENOSPC, "No space")
    with pytest.raises(IndexStoreError, match="is full.*run `asl-gpt index` again"):
        store.count()
    fault["with"] = InternalError("Failed to apply logs")
    with pytest.raises(IndexStoreError, match="failed while counting chunks"):
        store.count()
    fault["with"] = TypeError("a bug")
    with pytest.raises(TypeError):
        store.count()


def test_the_index_is_read_through_the_store_only():
    """Its import graph: asl_gpt.rag.index imports the store (asl_gpt.rag.store), never Chroma itself."""
    import ast
    from pathlib import Path

    from asl_gpt.rag import index

    tree = ast.parse(Path(index.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "asl_gpt.rag.store" in imported and not any(m.split(".")[0] == "chromadb" for m in imported), imported


@pytest.mark.slow
def test_a_chroma_server_stopped_then_restarted_is_one_line_then_serves_again(tmp_path, port):
    from asl_gpt.benchmarks.procs import start_chroma, stop_process

    data = tmp_path / "chroma-data"
    url = f"http://127.0.0.1:{port}"
    s = load_settings(env={}, paths={"state_dir": tmp_path / "state", "knowledge_dir": tmp_path / "kb"},
                      rag={"chroma_url": url, "min_relevance": 0.3})
    write(tmp_path / "kb" / "letters.md", DOC)
    server = start_chroma(port, data)
    try:
        kb = KnowledgeBase(s, embeddings=HashEmbeddings())
        kb.index()
        assistant = build_assistant(s, kb, fake_chat("Z is a zigzag [1].", "Z is a zigzag [1]."))
        assert assistant.ask(QUESTION).status == "answered"
        stop_process(server)
        with pytest.raises(IndexStoreError, match="lost the Chroma server|cannot reach the Chroma server"):
            assistant.ask(QUESTION)
        server = start_chroma(port, data)
        answer = assistant.ask(QUESTION)
        assert isinstance(answer, Answer) and answer.status == "answered" and kb.stats().chunks == 1
    finally:
        stop_process(server)


def test_an_uploads_folder_that_cannot_be_created_is_one_line(tmp_path):
    from asl_gpt.errors import AslGptError
    from asl_gpt.app.services import build_services

    (tmp_path / "state").write_text("a file where the state folder should be")
    services = build_services(load_settings(env={}, paths={"state_dir": tmp_path / "state"}))
    with pytest.raises(AslGptError, match="cannot create the uploads folder .*ASL_GPT_PATHS_STATE_DIR"):
        services.uploads_dir()


def test_a_read_only_index_is_searched_from_a_copy_and_never_written(kb, settings, monkeypatch):
    from chromadb.api.client import SharedSystemClient

    kb.close()
    SharedSystemClient.clear_system_cache()
    monkeypatch.setattr(store_mod, "writable", lambda folder: False)  # as on a read-only mount
    ro = KnowledgeBase(settings, embeddings=HashEmbeddings())
    hits = ro.search(QUESTION)
    assert hits and hits[0].section == "Z" and ro.store.reading_copy
    write(settings.paths.knowledge_dir / "more.md", "# More\n\nThe letter J traces a hook.\n")
    with pytest.raises(IndexStoreError, match="read-only: it can be searched, not changed"):
        ro.index()


def test_a_full_disk_that_stops_reads_falls_back_to_a_copy_until_the_next_write(kb, settings):
    # Chroma on a full disk: the first read fails (it cannot apply its log)
    fault = {"with": OSError(errno.ENOSPC, "No space left on device"), "once": True}
    kb = KnowledgeBase(settings, embeddings=HashEmbeddings(), store=_store_with(settings, kb, fault))
    assert kb.store.count() == 1 and kb.store.reading_copy  # answered from a copy
    assert kb.search(QUESTION)
    kb.store.bump_generation()  # an index run starts: it writes the index itself
    assert not kb.store.reading_copy
