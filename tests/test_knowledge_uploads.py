"""Uploads as the Knowledge tab shows them (issue 28 item 11): by file name, never the server's path, and removable
from the page; a source list says why a cited passage may show a lower relevance than an uncited one."""

from __future__ import annotations

from types import SimpleNamespace

from asl_gpt.app import knowledge as kn
from asl_gpt.app.chat import SOURCES_NOTE, sources_messages
from asl_gpt.app.status import StatusProbe
from asl_gpt.rag.sources import Source
from fakes import FakeServices


def _services(tmp_path):
    services = FakeServices(tmp_path / "state")
    up = tmp_path / "state" / "uploads"
    up.mkdir(parents=True)
    services.uploads_dir = lambda: up
    calls = []
    docs = [SimpleNamespace(source=str(up / "club.md"), path=str(up / "club.md"), title="Club", chunks=2),
            SimpleNamespace(source=str(tmp_path / "state" / "alphabet.md"), path="alphabet.md", title="ABC", chunks=3)]
    services.knowledge = lambda: SimpleNamespace(
        documents=lambda: list(docs), stats=lambda: SimpleNamespace(documents=2, chunks=5),
        index=lambda paths, rebuild=False, progress=None: calls.append(paths) or SimpleNamespace(
            added=0, updated=0, removed=1, unchanged=0, chunks_embedded=0, chunks_total=3, skipped=(), seconds=0.1))
    return services, up, calls


def test_uploads_are_listed_by_file_name_and_removable(tmp_path):
    services, up, calls = _services(tmp_path)
    (up / "club.md").write_text("# Club\n")
    table = kn.documents_table(services)
    assert ["club.md (uploaded)", "Club", 2] in table and str(up) not in str(table)
    assert kn.uploaded_names(services) == ["club.md"]
    probe = StatusProbe(services)
    assert "not an uploaded document" in kn.remove_upload(services, probe, "../alphabet.md")
    assert "not an uploaded document" in kn.remove_upload(services, probe, "other.md")
    msg = kn.remove_upload(services, probe, "club.md")
    assert msg.startswith("Removed club.md.") and "1 removed" in msg and str(up) not in msg
    assert not (up / "club.md").exists() and calls == [[up.resolve()]]  # the uploads folder is indexed again
    assert kn.uploaded_names(services) == []


def test_a_source_list_says_what_relevance_is_when_a_cited_passage_scored_lower():
    s = [Source(1, "a.md", "A", "", "first", 0.64), Source(2, "b.md", "B", "", "second", 0.45, True)]
    msgs = sources_messages(s)
    assert [m["metadata"]["title"] for m in msgs[1:]] == ["[1] A", "[2] B"]  # as numbered in the answer
    assert msgs[0]["content"] == SOURCES_NOTE and "not how much the answer used it" in SOURCES_NOTE
    assert sources_messages(s[:1])[0]["content"] == ""  # nothing to explain: no cited passage beside an uncited one
