"""The knowledge base: incremental indexing of document folders into Chroma, and hybrid search.

Chroma is the storage (chunks, metadata, embeddings); a search runs over the corpus loaded into memory
(`retrieval.SearchIndex`: BM25 and the nearest chunks by cosine over the embeddings), Chroma's own vector
query only for a corpus stored without embeddings.

Incremental by content: chunk ids are derived from each file's chunks, so a file whose expected ids
equal the stored ids for its path is unchanged (nothing is embedded), a changed file gets only its new
chunks embedded and its stale ones deleted (new first, then stale: a killed run leaves extra chunks
that the next run removes), and stored paths under the indexed folders that no longer exist are removed.
The state is read back from the collection's own metadata, never from a side manifest, so an
interrupted run converges on the next one.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from asl_gpt.errors import IndexStoreError
from asl_gpt.rag.documents import TEXT_SUFFIXES, Chunk, SkipDocument, chunk_document, discover, load_document
from asl_gpt.rag.correction import pairs_of, vocabulary_of
from asl_gpt.rag.questions import acronyms_of
from asl_gpt.rag.retrieval import Passage, SearchIndex, fuse, preferred
from asl_gpt.rag.sources import display_path
from asl_gpt.rag.store import ChromaStore, IndexLock

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass(frozen=True)
class IndexSummary:
    added: int = 0  # files new to the index
    updated: int = 0  # files whose content changed
    removed: int = 0  # files gone from disk, removed from the index
    unchanged: int = 0
    chunks_embedded: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0  # in the collection after the run
    skipped: tuple[tuple[str, str], ...] = ()  # (path, reason) for files that could not be read
    seconds: float = 0.0  # the whole run
    embed_seconds: float = 0.0  # embedding and writing the new chunks (model loading excluded)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class DocumentInfo:
    source: str  # absolute path (the key in the index)
    path: str  # shown to people: relative to the project when inside it
    title: str
    chunks: int


@dataclass(frozen=True)
class IndexStats:
    documents: int
    chunks: int
    location: str  # folder of the embedded store, or the server URL
    collection: str
    embedding_model: str


@dataclass
class _Corpus:
    generation: str
    count: int
    keyword: SearchIndex  # BM25 and the embeddings, in memory: both searches run over it
    vocabulary: Counter = field(default_factory=Counter)
    pairs: Counter = field(default_factory=Counter)  # adjacent word pairs ("deaf", "president"): phrase correction
    texts: dict = field(default_factory=dict)  # chunk id -> (section, text): definitions and headings looked up in all
    preferred: dict = field(default_factory=dict)  # query -> ids of chunks answering it by form (retrieval.preferred)
    acronyms: frozenset = frozenset()  # abbreviations the documents introduce ("rid" for RID): names, however typed
    documents: int = 0  # documents the chunks come from: a refusal says how many were searched


class KnowledgeBase:
    """Index and search the documents. One per process is enough; it is safe to share between threads."""

    def __init__(self, settings, embeddings=None, store: ChromaStore | None = None):
        self.settings = settings
        self.rag = settings.rag
        self._embeddings = embeddings  # injected in tests; else loaded on first use
        state = Path(settings.paths.state_dir)
        # `store`: injected by the fault tests; else the embedder's collection
        self.collection = store.name if store is not None else collection_name(self.rag.collection,
                                                                               self._embedding_name())
        self.store = store or ChromaStore(state, self.collection, self.rag.chroma_url, self._embedding_name())
        self.lock = IndexLock(state)
        self._corpus: _Corpus | None = None
        self.read_wait_s = 20.0  # how long a query waits for a running index update before giving up

    def _embedding_name(self) -> str:
        return getattr(self._embeddings, "name", None) or self.rag.embedding_model

    @property
    def embeddings(self):
        if self._embeddings is None:
            from asl_gpt.rag.embeddings import load_embeddings

            self._embeddings = load_embeddings(self.rag.embedding_model, Path(self.settings.paths.state_dir) / "models")
        return self._embeddings

    # -- indexing ---------------------------------------------------------------------------------
    def index(self, paths: list[str | Path] | None = None, rebuild: bool = False,
              progress: bool | Progress = False) -> IndexSummary:
        """Bring the index in line with the files under `paths` (default: the knowledge folder)."""
        t0 = time.perf_counter()
        roots = [Path(p).expanduser().resolve() for p in (paths or [self.settings.paths.knowledge_dir])]
        with self.lock.write():
            # Bumped before the first write as well as after the last: a run killed in between (no
            # `finally`) still tells every reader that the index changed under it.
            self.store.bump_generation()
            if rebuild:
                self.store.drop()
            try:
                return self._index(roots, progress, t0)
            finally:
                self.store.bump_generation()  # readers reopen even after a partial run
                self._corpus = None

    def _index(self, roots: list[Path], progress, t0: float) -> IndexSummary:
        files, skipped = discover(roots)
        existing = self.store.ids_by_source()
        under = [s for s in existing if _is_under(s, roots)]
        if not files and not under:
            exts = ", ".join(sorted(set(TEXT_SUFFIXES)))
            raise IndexStoreError(f"no documents to index in {', '.join(map(str, roots))} (looked for {exts} files)")
        skipped = [(str(p), why) for p, why in skipped]
        counts = Counter()
        to_embed: list[Chunk] = []
        stale: list[str] = []
        meta_ids, meta_vals = [], []
        for path in files:
            try:
                doc = load_document(path)
            except SkipDocument as e:
                log.info("skipping %s: %s", path, e)  # reported in the summary
                skipped.append((str(path), str(e)))
                continue  # whatever was indexed from it stays: nothing is lost
            chunks = chunk_document(doc, self.rag.chunk_size, self.rag.chunk_overlap)
            old = existing.get(doc.source, {})
            new_ids = {c.id for c in chunks}
            if set(old) == new_ids:
                counts["unchanged"] += 1
                for c in chunks:  # same chunks, different bytes elsewhere (e.g. trailing spaces)
                    if old[c.id].get("file_hash") != doc.content_hash:
                        meta_ids.append(c.id)
                        meta_vals.append(c.metadata)
                continue
            counts["updated" if old else "added"] += 1
            to_embed += [c for c in chunks if c.id not in old]
            stale += [cid for cid in old if cid not in new_ids]
        present = {str(p) for p in files} | {p for p, _ in skipped}
        for source in under:
            if source not in present:
                counts["removed"] += 1
                stale += list(existing[source])
        embed_s = self._embed_and_write(to_embed, progress)
        self.store.update_metadata(meta_ids, meta_vals)
        self.store.delete(stale)
        summary = IndexSummary(added=counts["added"], updated=counts["updated"], removed=counts["removed"],
                               unchanged=counts["unchanged"], chunks_embedded=len(to_embed), chunks_deleted=len(stale),
                               chunks_total=self.store.count(), skipped=tuple(skipped),
                               seconds=time.perf_counter() - t0, embed_seconds=embed_s)
        log.info("indexed: %s", summary)
        return summary

    def _embed_and_write(self, chunks: list[Chunk], progress) -> float:
        if not chunks:
            return 0.0
        embeddings = self.embeddings  # load the model before the clock starts
        t0 = time.perf_counter()
        bar = None
        if progress is True:
            from tqdm import tqdm

            bar = tqdm(total=len(chunks), unit="chunk", desc="embedding")
        step = max(1, self.rag.embed_batch_size)
        try:
            for i in range(0, len(chunks), step):
                batch = chunks[i:i + step]
                vecs = embeddings.embed_documents([c.embed_text for c in batch])
                self.store.upsert([c.id for c in batch], [c.text for c in batch], vecs, [c.metadata for c in batch])
                if bar is not None:
                    bar.update(len(batch))
                elif callable(progress):
                    progress(i + len(batch), len(chunks))
        finally:
            if bar is not None:
                bar.close()
        return time.perf_counter() - t0

    # -- reading ----------------------------------------------------------------------------------
    def _read(self):
        # The embedded store needs the shared lock (a writer in another process); a server does not.
        import contextlib

        return contextlib.nullcontext() if self.rag.chroma_url else self.lock.read(wait_s=self.read_wait_s)

    def documents(self) -> list[DocumentInfo]:
        with self._read():
            by_source = self.store.ids_by_source()
        docs = []
        for source, chunks in sorted(by_source.items()):
            title = next(iter(chunks.values()), {}).get("title", "")
            docs.append(DocumentInfo(source, display_path(source), title, len(chunks)))
        return docs

    def stats(self) -> IndexStats:
        with self._read():
            by_source = self.store.ids_by_source()
        return IndexStats(documents=len(by_source), chunks=sum(len(v) for v in by_source.values()),
                          location=self.rag.chroma_url or str(self.store.persist_dir),
                          collection=self.collection, embedding_model=self._embedding_name())

    def is_empty(self) -> bool:
        with self._read():
            return self.store.count() == 0

    def _load_corpus(self) -> _Corpus:
        """BM25 index, embeddings and vocabulary of all chunks; reloaded when the index changed."""
        gen = self.store.generation()
        count = self.store.count()
        c = self._corpus
        if c is not None and c.generation == gen and c.count == count:
            return c
        ids, texts, vecs, parts, sources = [], [], [], {}, set()
        for chunk in self.store.all_chunks(embeddings=True):
            ids.append(chunk.id)
            sources.add(chunk.metadata.get("source", ""))
            texts.append(Chunk(chunk.id, chunk.text, chunk.metadata).embed_text)
            vecs.append(chunk.embedding)
            parts[chunk.id] = (str(chunk.metadata.get("section", "")), chunk.text)
        emb = np.asarray(vecs, dtype=np.float32) if vecs else None
        self._corpus = _Corpus(gen, count, SearchIndex(ids, texts, emb), vocabulary_of(texts), pairs_of(texts), parts,
                               acronyms=frozenset(acronyms_of(texts)), documents=len(sources))
        return self._corpus

    def vocabulary(self) -> Counter:
        """Word counts of the indexed text (the corrector's domain lexicon)."""
        with self._read():
            return self._load_corpus().vocabulary

    def acronyms(self) -> frozenset[str]:
        """The abbreviations the indexed text introduces in parentheses, lower-cased: "rid" names the RID, however
        typed (questions.acronyms_of)."""
        with self._read():
            return self._load_corpus().acronyms

    def document_count(self) -> int:
        """How many documents the loaded corpus holds (what `stats().documents` counts, without listing the store)."""
        with self._read():
            return self._load_corpus().documents

    def word_pairs(self) -> Counter:
        """Counts of adjacent word pairs in the indexed text (the corrector's phrases)."""
        with self._read():
            return self._load_corpus().pairs

    def search(self, query: str, k: int | None = None, min_relevance: float | None = None,
               hybrid: bool | None = None) -> list[Passage]:
        """The best `k` passages whose cosine similarity reaches `min_relevance`, best first."""
        k = self.rag.k if k is None else k
        floor = self.rag.min_relevance if min_relevance is None else min_relevance
        hybrid = self.rag.hybrid if hybrid is None else hybrid
        qvec = np.asarray(self.embeddings.embed_query(query), dtype=np.float32)
        with self._read():
            # Nearest chunks from the embeddings in memory (exact, and as current as the keyword index: in the
            # app a search right after an upload once missed the new chunks through Chroma's own vector query);
            # Chroma's query only for a corpus without embeddings.
            corpus = self._load_corpus()  # once per search: each load checks the index's generation and count
            near = corpus.keyword.nearest(qvec, self.rag.fetch_k)
            if near is None:
                dense = self.store.query(qvec.tolist(), self.rag.fetch_k)
            else:
                got = {c.id: c for c in self.store.get([cid for cid, _ in near])}
                dense = [(got[cid], score) for cid, score in near if cid in got]
            by_id = {c.id: (c, s) for c, s in dense}
            order = [c.id for c, _ in dense]
            if hybrid and dense:
                keyword = corpus.keyword.top(query, self.rag.fetch_k)
                missing = [cid for cid in keyword if cid not in by_id]
                if missing:  # keyword-only candidates: their text from the store, their cosine from memory
                    for chunk in self.store.get(missing):
                        score = corpus.keyword.cosine(chunk.id, qvec)
                        if score is not None:
                            by_id[chunk.id] = (chunk, score)
                order = fuse(order, [c for c in keyword if c in by_id])
            first: list[str] = []
            if dense:
                if query not in corpus.preferred:
                    if len(corpus.preferred) > 1000:
                        corpus.preferred.clear()
                    corpus.preferred[query] = preferred(query, corpus.texts)
                first = corpus.preferred[query][:1]  # one: the others still come by similarity
                for chunk in self.store.get([cid for cid in first if cid not in by_id]) if first else []:
                    score = corpus.keyword.cosine(chunk.id, qvec)
                    by_id[chunk.id] = (chunk, score if score is not None else -1.0)
                first = [cid for cid in first if cid in by_id]
                order = first + [cid for cid in order if cid not in first]
        defining = set(first[:1])
        passages = []
        for cid in order:
            chunk, score = by_id[cid]
            if score < floor:
                continue
            m = chunk.metadata
            passages.append(Passage(cid, chunk.text, m.get("source", ""), m.get("title", ""), m.get("section", ""),
                                    int(m.get("position", 0)), float(score)))
            if len(passages) >= k:
                break
        # Fusion decides which passages make it; the best-scoring one comes first, where small models look
        # (after a passage that answers by its form: the definition asked for, the letter's own section).
        return sorted(passages, key=lambda p: (p.id not in defining, -p.score))

    def passages_with(self, word: str, n: int = 1) -> list[Passage]:
        """The `n` chunks that hold `word` best by BM25 (chunks without the word itself are left out), scored by
        their cosine similarity to the word: for a name or term that the dense search missed."""
        qvec = np.asarray(self.embeddings.embed_query(word), dtype=np.float32)
        with self._read():
            corpus = self._load_corpus()
            ids = corpus.keyword.top(word, n)
            chunks = self.store.get(ids) if ids else []
        out = []
        for chunk in chunks:
            m = chunk.metadata
            score = corpus.keyword.cosine(chunk.id, qvec)
            out.append(Passage(chunk.id, chunk.text, m.get("source", ""), m.get("title", ""), m.get("section", ""),
                               int(m.get("position", 0)), float(score if score is not None else 0.0)))
        return out

    def close(self) -> None:
        self.store.close()
        self._corpus = None


def collection_name(base: str, embedding_model: str) -> str:
    """The collection of one embedder, so that switching rag.embedding_model finds its own vectors (or an empty index
    to build), never vectors of another model: `base` for the default embedder (indexes built before stay valid),
    `base-MODEL` for any other. Chroma allows 3-63 characters of letters, digits, `.`, `_` and `-`, starting and
    ending with a letter or digit. (The collection also records its model: a mismatch is refused, store.py.)"""
    import hashlib
    import re

    from asl_gpt.config import RagConfig

    if embedding_model == RagConfig.embedding_model:
        return base
    p = Path(os.path.expanduser(embedding_model))
    tag = re.sub(r"[^a-z0-9.]+", "-", (p.name if p.exists() else embedding_model).lower()).strip(".-")[:24] or "model"
    if p.exists():  # a path: its name alone is not unique
        tag = f"{tag}-{hashlib.sha256(str(p.resolve()).encode()).hexdigest()[:8]}"
    return f"{base[:62 - len(tag)]}-{tag}".replace("..", "-")


def _is_under(source: str, roots: list[Path]) -> bool:
    for root in roots:
        r = str(root)
        if source == r or source.startswith(r.rstrip(os.sep) + os.sep):
            return True
    return False
