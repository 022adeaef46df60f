"""Embedders without weights: a switch of rag.embedding_model never mixes vectors, task prefixes, bundled folders."""

from __future__ import annotations

import hashlib
import io
import sys
import types
import zipfile

import numpy as np
import pytest

from asl_gpt.config import RagConfig, load_settings
from asl_gpt.errors import IndexStoreError
from asl_gpt.rag.bundle import BundledModel, assemble
from asl_gpt.rag.embeddings import EMBEDDERS, PrefixedEmbeddings, embedder_for
from asl_gpt.rag.index import KnowledgeBase, collection_name
from test_rag_helpers import HashEmbeddings, write


class OtherEmbeddings(HashEmbeddings):
    """Another model: another name and another dimension."""

    name = "other-embeddings-test"

    def __init__(self):
        super().__init__(dim=64)


def test_switching_the_embedder_uses_its_own_collection(tmp_path):
    write(tmp_path / "kb" / "letters.md", "# Letters\n\n## Z\n\nZ traces a zigzag with the index finger.\n")
    write(tmp_path / "kb" / "history.md", "# History\n\n## Schools\n\nThe American School for the Deaf opened in 1817.\n")
    settings = load_settings(env={}, paths={"state_dir": tmp_path / "state", "knowledge_dir": tmp_path / "kb"})
    first = KnowledgeBase(settings, embeddings=HashEmbeddings())
    assert first.index().chunks_embedded == 2

    other = KnowledgeBase(settings, embeddings=OtherEmbeddings())
    assert other.collection != first.collection
    assert other.is_empty()  # nothing of the first model's vectors is seen
    s = other.index()
    assert s.added == 2 and s.chunks_embedded == 2 and s.chunks_total == 2  # re-embedded, not reused
    assert {len(c.embedding) for c in other.store.all_chunks(embeddings=True)} == {64}
    assert other.search("zigzag index finger", min_relevance=0.1)[0].section == "Z"

    back = KnowledgeBase(settings, embeddings=HashEmbeddings())  # switching back finds its own index unchanged
    assert back.index().chunks_embedded == 0
    assert {len(c.embedding) for c in back.store.all_chunks(embeddings=True)} == {256}


def test_collection_names_are_valid_and_distinct(tmp_path):
    names = {collection_name("asl_gpt_knowledge", m) for m in EMBEDDERS}
    assert len(names) == len(EMBEDDERS) and collection_name("kb", RagConfig.embedding_model) == "kb"  # as before
    folder = tmp_path / "my model"
    folder.mkdir()
    names.add(collection_name("asl_gpt_knowledge", str(folder)))
    names.add(collection_name("x" * 60, "nomic-embed-text-v1.5"))
    for n in names:
        assert 3 <= len(n) <= 63 and n[0].isalnum() and n[-1].isalnum() and ".." not in n
        assert all(ch.isalnum() or ch in "._-" for ch in n)
    assert collection_name("kb", str(folder)) != collection_name("kb", str(tmp_path))


class RecordingBackend:
    def __init__(self):
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen += texts
        return [[1.0, 0.0] for _ in texts]


def test_nomic_adds_its_task_prefixes():
    nomic = EMBEDDERS["nomic-embed-text-v1.5"]
    backend = RecordingBackend()
    emb = PrefixedEmbeddings(nomic.name, backend, nomic.query_prefix, nomic.document_prefix)
    assert emb.embed_query("what is fingerspelling") == [1.0, 0.0]
    assert emb.embed_documents(["Fingerspelling spells words.", "The letter J"]) == [[1.0, 0.0]] * 2
    assert emb.embed_documents([]) == []
    assert backend.seen == ["search_query: what is fingerspelling", "search_document: Fingerspelling spells words.",
                            "search_document: The letter J"]


def test_unknown_embedder_is_one_clear_line(tmp_path):
    with pytest.raises(IndexStoreError, match="unknown embedding model 'no-such-embedder'"):
        embedder_for("no-such-embedder")
    gguf = tmp_path / "e.gguf"
    gguf.write_bytes(b"GGUF")
    assert embedder_for(str(gguf)).runtime == "llama.cpp" and embedder_for(str(tmp_path)).runtime == "sentence-transformers"


@pytest.fixture
def zip_parts(tmp_path, monkeypatch):
    """A zip archive of a model folder split into two fake 'registry packages'; the files' sha256s."""
    files = {"model/config.json": b'{"d": 2}', "model/weights.bin": bytes(range(256)) * 50, "model/junk.ini": b"x"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    blob = buf.getvalue()
    cut = len(blob) // 2
    for i, data in enumerate((blob[:cut], blob[cut:]), 1):
        pkg = tmp_path / f"zippart{i}"
        pkg.mkdir()
        (pkg / f"m.zip.{i:03d}").write_bytes(data)
        mod = types.ModuleType(f"zippart{i}")
        mod.__file__ = str(pkg / "__init__.py")
        monkeypatch.setitem(sys.modules, f"zippart{i}", mod)
    parts = (("zippart1", "m.zip.001"), ("zippart2", "m.zip.002"))
    shas = {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}
    return parts, hashlib.sha256(blob).hexdigest(), shas, files


def test_a_folder_is_taken_out_of_joined_zip_parts_and_verified(zip_parts, tmp_path):
    parts, sha, shas, files = zip_parts
    members = tuple((n, shas[n]) for n in ("model/config.json", "model/weights.bin"))
    spec = BundledModel("tiny-folder", parts, sha, "test", suffix="", members=members, strip="model/")
    out = assemble(spec, tmp_path / "cache", IndexStoreError)
    assert out.is_dir() and sorted(p.name for p in out.iterdir()) == ["config.json", "weights.bin"]
    assert (out / "weights.bin").read_bytes() == files["model/weights.bin"]
    mtime = (out / "weights.bin").stat().st_mtime_ns
    assert assemble(spec, tmp_path / "cache", IndexStoreError) == out  # the stamp: reused, not rebuilt
    assert (out / "weights.bin").stat().st_mtime_ns == mtime
    (out / "weights.bin").write_bytes(b"damaged")
    assert (assemble(spec, tmp_path / "cache", IndexStoreError) / "weights.bin").read_bytes() == files["model/weights.bin"]

    one = BundledModel("tiny-one", parts, sha, "test", suffix=".bin", members=(("model/weights.bin", shas["model/weights.bin"]),))
    assert assemble(one, tmp_path / "cache", IndexStoreError).read_bytes() == files["model/weights.bin"]


def test_a_member_with_the_wrong_sha256_is_refused_and_leaves_nothing(zip_parts, tmp_path):
    parts, sha, shas, _ = zip_parts
    spec = BundledModel("bad", parts, sha, "test", suffix="", members=(("model/config.json", "0" * 64),))
    with pytest.raises(IndexStoreError, match="model/config.json in bad has sha256"):
        assemble(spec, tmp_path / "cache", IndexStoreError)
    assert list((tmp_path / "cache").iterdir()) == []
    wrong_parts = BundledModel("bad", parts, "1" * 64, "test", suffix="", members=(("model/config.json", "0" * 64),))
    with pytest.raises(IndexStoreError, match="reinstall the packages zippart1 … zippart2"):
        assemble(wrong_parts, tmp_path / "cache", IndexStoreError)


def test_hash_embeddings_dimension_differs():  # the fakes above really are two models
    assert len(OtherEmbeddings().embed_query("a")) != len(HashEmbeddings().embed_query("a"))
    assert np.isclose(np.linalg.norm(OtherEmbeddings().embed_query("letter z")), 1.0)
