"""Incremental indexing with a fake embedding: add, modify, delete, re-run, kill midway, lock, bad input."""

from __future__ import annotations

import fcntl
import os

import pytest

from asl_gpt.config import load_settings
from asl_gpt.errors import IndexStoreError
from asl_gpt.rag.index import KnowledgeBase
from test_rag_helpers import HashEmbeddings, write

DOC_A = "# Manual alphabet\n\n## The letter J\n\nJ is the I handshape traced in a hook.\n\n## The letter Z\n\nZ traces a zigzag.\n"
DOC_B = "# Deaf history\n\n## Schools\n\nThe American School for the Deaf opened in Hartford in 1817.\n"
DOC_C = "# Interpreters\n\nQualified interpreters are an access right.\n"


@pytest.fixture
def kb_factory(tmp_path):
    def make(**rag):
        settings = load_settings(env={}, paths={"state_dir": tmp_path / "state", "knowledge_dir": tmp_path / "kb"},
                                 rag={"hybrid": True, **rag})
        return KnowledgeBase(settings, embeddings=HashEmbeddings())
    return make


@pytest.fixture
def kb_dir(tmp_path):
    d = tmp_path / "kb"
    write(d / "alphabet.md", DOC_A)
    write(d / "history" / "deaf-history.md", DOC_B)
    return d


def test_add_modify_delete_and_rerun_without_duplicates(kb_factory, kb_dir):
    kb = kb_factory()
    s = kb.index()
    assert (s.added, s.updated, s.removed, s.unchanged) == (2, 0, 0, 0)
    total = s.chunks_total
    assert total == s.chunks_embedded == 3

    calls = kb.embeddings.calls
    s = kb.index()
    assert (s.added, s.updated, s.removed, s.unchanged, s.chunks_embedded) == (0, 0, 0, 2, 0)
    assert s.chunks_total == total and kb.embeddings.calls == calls and not s.changed

    write(kb_dir / "alphabet.md", DOC_A.replace("zigzag", "zigzag with the index finger"))
    write(kb_dir / "interpreters.md", DOC_C)
    s = kb.index()
    assert (s.added, s.updated, s.unchanged) == (1, 1, 1)
    assert s.chunks_embedded == 2  # only the changed section and the new file
    assert s.chunks_deleted == 1 and s.chunks_total == 4

    (kb_dir / "history" / "deaf-history.md").unlink()
    s = kb.index()
    assert (s.removed, s.unchanged, s.chunks_total) == (1, 2, 3)
    docs = kb.documents()
    assert sorted(d.title for d in docs) == ["Interpreters", "Manual alphabet"]
    assert kb.stats().chunks == 3 and kb.stats().documents == 2

    hits = kb.search("zigzag index finger", k=2, min_relevance=0.1)
    assert hits and hits[0].title == "Manual alphabet" and hits[0].section == "The letter Z"
    assert hits[0].source.endswith("alphabet.md") and 0 < hits[0].score <= 1.0


def test_a_second_knowledge_base_object_sees_the_same_index(kb_factory, kb_dir):
    kb_factory().index()
    other = kb_factory()
    assert other.index().unchanged == 2
    assert {d.title for d in other.documents()} == {"Manual alphabet", "Deaf history"}


def test_a_search_right_after_indexing_finds_the_new_chunks_whatever_chromas_own_query_returns(kb_factory, kb_dir,
                                                                                              tmp_path):
    """Nearest chunks come from the embeddings the index holds in memory (exact, reloaded when the index changes),
    not from Chroma's vector query, which once answered from before an upload in the app (the new chunks missing)."""
    from asl_gpt.rag.store import ChromaStore

    class StaleQuery:  # a collection whose vector query knows none of the chunks
        def __init__(self, col):
            self.col = col

        def __getattr__(self, name):
            return getattr(self.col, name)

        def query(self, **kw):
            return {"ids": [[]], "documents": [[]], "metadatas": [[]], "distances": [[]]}

    settings = kb_factory().settings
    kb = kb_factory()
    kb.index()
    store = ChromaStore(settings.paths.state_dir, kb.store.name, embedding_model=kb.store.embedding_model,
                        wrap_collection=StaleQuery)
    stale = KnowledgeBase(settings, embeddings=HashEmbeddings(), store=store)
    write(kb_dir / "interpreters.md", DOC_C)
    stale.index()
    found = stale.search("qualified interpreters access right", min_relevance=0.0)
    assert found and found[0].source.endswith("interpreters.md")


def test_reader_sees_writes_of_another_process(kb_factory, kb_dir, tmp_path):
    import subprocess
    import sys

    reader = kb_factory()
    reader.index()
    assert not reader.search("qualified interpreters access right", min_relevance=0.3)
    write(kb_dir / "interpreters.md", DOC_C)
    code = f"""
import sys; sys.path.insert(0, {str(os.path.dirname(__file__))!r})
from test_rag_helpers import HashEmbeddings
from asl_gpt.config import load_settings
from asl_gpt.rag.index import KnowledgeBase
s = load_settings(env={{}}, paths={{"state_dir": {str(tmp_path / 'state')!r}, "knowledge_dir": {str(kb_dir)!r}}})
print(KnowledgeBase(s, embeddings=HashEmbeddings()).index().added)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "1", out.stderr
    hits = reader.search("qualified interpreters access right", min_relevance=0.3)
    assert hits and hits[0].title == "Interpreters"


def test_killed_midway_converges(kb_factory, kb_dir, monkeypatch):
    kb = kb_factory(embed_batch_size=1)
    write(kb_dir / "interpreters.md", DOC_C)
    real = kb.store.upsert
    calls = {"n": 0}

    def dying_upsert(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as if the process were killed between two batches
        return real(*a, **kw)

    monkeypatch.setattr(kb.store, "upsert", dying_upsert)
    with pytest.raises(KeyboardInterrupt):
        kb.index()
    monkeypatch.setattr(kb.store, "upsert", real)
    assert kb.store.count() == 2
    s = kb.index()
    assert s.chunks_embedded == 2 and s.chunks_total == 4
    s = kb.index()
    assert not s.changed and s.chunks_total == 4
    # an update killed after the new chunks were written but before the stale ones were deleted
    write(kb_dir / "interpreters.md", DOC_C.replace("access right", "legal right"))
    monkeypatch.setattr(kb.store, "delete", lambda ids: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        kb.index()
    monkeypatch.undo()
    assert kb.store.count() == 5  # old and new chunk of the changed file
    s = kb.index()
    assert s.updated == 1 and s.chunks_embedded == 0 and s.chunks_deleted == 1 and s.chunks_total == 4


def test_rebuild_reembeds_everything(kb_factory, kb_dir):
    kb = kb_factory()
    kb.index()
    s = kb.index(rebuild=True)
    assert s.added == 2 and s.chunks_embedded == 3 and s.chunks_total == 3


def test_unreadable_and_binary_files_are_skipped_not_fatal(kb_factory, kb_dir):
    write(kb_dir / "binary.md", "x").write_bytes(b"\x00\x00\x00")
    secret = write(kb_dir / "secret.md", "# Secret\n\ntext\n")
    os.chmod(secret, 0)
    try:
        kb = kb_factory()
        s = kb.index()
    finally:
        os.chmod(secret, 0o644)
    reasons = dict(s.skipped)
    assert "binary" in reasons[str((kb_dir / "binary.md").resolve())]
    if os.geteuid() != 0:  # root reads anything
        assert "unreadable" in reasons[str(secret.resolve())]
    assert s.added >= 2


def test_empty_folder_is_a_clear_error(kb_factory, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexStoreError, match="no documents to index"):
        kb_factory().index([tmp_path / "empty"])


def test_index_paths_only_touch_their_own_documents(kb_factory, kb_dir, tmp_path):
    kb = kb_factory()
    kb.index()
    other = tmp_path / "other"
    write(other / "c.md", DOC_C)
    s = kb.index([other])
    assert (s.added, s.removed, s.chunks_total) == (1, 0, 4)
    (other / "c.md").unlink()
    write(other / "keep.txt", "plain text note about ASL")
    s = kb.index([other])
    assert (s.added, s.removed, s.chunks_total) == (1, 1, 4)


def test_second_writer_gets_a_clear_message(kb_factory, kb_dir, tmp_path):
    kb = kb_factory()
    lock = tmp_path / "state" / "index.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "a+") as f:
        f.write("4242")
        f.flush()
        # another open file description = another process, as far as flock is concerned
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        with pytest.raises(IndexStoreError, match="being updated by process 4242"):
            kb.index()


def test_corrupt_index_is_reported_and_rebuild_recovers(kb_factory, kb_dir, tmp_path):
    kb = kb_factory()
    kb.index()
    kb.close()
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    db = tmp_path / "state" / "chroma" / "chroma.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    kb = kb_factory()
    with pytest.raises(IndexStoreError, match="rebuild"):
        kb.documents()
    s = kb.index(rebuild=True)
    assert s.added == 2 and s.chunks_total == 3


def test_other_embedding_model_requires_rebuild(kb_factory, kb_dir):
    kb_factory().index()
    kb = kb_factory()
    kb.embeddings.name = "another-model"
    kb.store.embedding_model = "another-model"
    with pytest.raises(IndexStoreError, match="--rebuild"):
        kb.search("letter j")


def test_reader_waits_then_reports_a_running_update(kb_factory, kb_dir, tmp_path):
    kb = kb_factory()
    kb.index()
    kb.read_wait_s = 0.5
    with open(tmp_path / "state" / "index.lock", "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        with pytest.raises(IndexStoreError, match="being updated"):
            kb.documents()
    assert len(kb.documents()) == 2


def test_threads_of_one_process_take_turns(kb_factory, kb_dir):
    import threading

    kb = kb_factory()
    kb.index()
    errors = []

    def reader():
        try:
            for _ in range(5):
                kb.search("letter j hook")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    write(kb_dir / "interpreters.md", DOC_C)
    assert kb.index().added == 1
    for t in threads:
        t.join()
    assert not errors
