"""The Chroma server path: a real `chroma run` started by the test, the same KnowledgeBase code, real embeddings."""

from __future__ import annotations

import pytest

from asl_gpt.benchmarks.procs import free_port, start_chroma, stop_process
from asl_gpt.config import load_settings
from asl_gpt.errors import IndexStoreError
from asl_gpt.rag.index import KnowledgeBase
from test_rag_helpers import write

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = free_port()
    proc = start_chroma(port, tmp_path_factory.mktemp("chroma-server"), timeout_s=60)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def test_index_and_search_through_a_chroma_server(chroma_server, tmp_path):
    kb_dir = tmp_path / "kb"
    write(kb_dir / "alphabet.md", "# The manual alphabet\n\n## J and Z\n\nJ and Z are the two letters that move: "
                                  "J traces a hook with the pinky, Z traces a zigzag with the index finger.\n")
    write(kb_dir / "history.md", "# Deaf history\n\n## Gallaudet University\n\nGallaudet University in Washington "
                                 "was chartered in 1864 and is the university for deaf students.\n")
    s = load_settings(env={}, paths={"state_dir": tmp_path / "state", "knowledge_dir": kb_dir},
                      rag={"chroma_url": chroma_server})
    kb = KnowledgeBase(s)
    first = kb.index()
    assert (first.added, first.chunks_total) == (2, 2)
    again = KnowledgeBase(s).index()  # a second client: same server state, nothing to do
    assert not again.changed and again.unchanged == 2
    hits = kb.search("which letters of the alphabet move?")
    assert hits and hits[0].title == "The manual alphabet"
    assert kb.stats().location == chroma_server
    assert not (tmp_path / "state" / "chroma").exists()  # nothing written to the embedded store


def test_unreachable_chroma_server_is_one_clear_error(tmp_path, port):
    s = load_settings(env={}, paths={"state_dir": tmp_path / "state"},
                      rag={"chroma_url": f"http://127.0.0.1:{port}"})
    with pytest.raises(IndexStoreError, match="cannot reach the Chroma server"):
        KnowledgeBase(s).documents()
