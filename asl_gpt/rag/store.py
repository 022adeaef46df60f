"""The Chroma adapter (embedded persistent store or a `chroma run` server) and the single-writer lock.

Chroma's persistent client is not process-safe, and a reader's in-memory vector index goes stale when
another process writes. So: writers hold an exclusive `flock` on `<state_dir>/index.lock`; readers hold a
shared one while they query; every write bumps `<state_dir>/index.generation`, and a reader that sees a
new generation reopens its client before querying. Embeddings are always passed in explicitly: Chroma's
default embedding function downloads a model and is never used.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from asl_gpt.errors import Fix, IndexStoreError

log = logging.getLogger(__name__)


class IndexLock:
    """`flock` on a file in the state folder: one writer, or any number of readers, at a time."""

    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / "index.lock"
        self._thread_lock = threading.RLock()  # flock does not order the threads of one process

    @contextlib.contextmanager
    def write(self, wait_s: float = 2.0):
        with self._flock(fcntl.LOCK_EX, wait_s) as f:
            with contextlib.suppress(OSError):  # the holder's pid is for messages only (a full disk refuses it)
                f.seek(0)
                f.truncate()
                f.write(str(os.getpid()))
                f.flush()
            yield

    @contextlib.contextmanager
    def read(self, wait_s: float = 20.0):
        with self._flock(fcntl.LOCK_SH, wait_s):
            yield

    @contextlib.contextmanager
    def _flock(self, mode: int, wait_s: float, what: str = "updated"):
        if not self._thread_lock.acquire(timeout=max(wait_s, 0.01)):
            raise IndexStoreError(f"the index in {self.path.parent} is being {what} by this program; "
                              "try again when it has finished")
        try:
            with self._flock_file(mode, wait_s, what) as f:
                yield f
        finally:
            self._thread_lock.release()

    @contextlib.contextmanager
    def _flock_file(self, mode: int, wait_s: float, what: str):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            f = open(self.path, "a+")
        except OSError as e:
            if mode == fcntl.LOCK_EX or not _read_only(e):
                raise IndexStoreError(f"cannot write in the state folder {self.path.parent} ({e.strerror or e}): "
                                  "indexing needs it writable; set ASL_GPT_PATHS_STATE_DIR to a writable "
                                  "folder") from e
            # A read-only state folder: nobody can write the index, so reading needs no lock.
            log.info("the state folder %s is read-only: reading the index without a lock", self.path.parent)
            try:
                f = open(self.path)
            except OSError:
                yield None
                return
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(f.fileno(), mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        f.seek(0)
                        holder = f.read().strip()
                        who = f" by process {holder}" if holder.isdigit() else ""
                        raise IndexStoreError(f"the index in {self.path.parent} is being {what}{who}; "
                                          "try again when it has finished") from None
                    time.sleep(0.2)
            yield f
        finally:
            f.close()  # closing releases the lock


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict
    embedding: list[float] | None = None  # only when asked for (`all_chunks(embeddings=True)`)


class ChromaStore:
    """One collection, reached through the embedded persistent client or a server URL (same code path)."""

    def __init__(self, state_dir: Path, collection: str, url: str = "", embedding_model: str = "",
                 wrap_collection: Callable[[Any], Any] | None = None):
        """`wrap_collection`: every Chroma collection opened passes through it (the fault tests' seam: a collection
        that fails as Chroma does on a full disk)."""
        self.state_dir = Path(state_dir)
        self.url = url
        self.name = collection
        self.embedding_model = embedding_model
        self._wrap = wrap_collection
        self.persist_dir = self.state_dir / "chroma"
        self._gen_file = self.state_dir / "index.generation"
        self._client = None
        self._col = None
        self._generation = None
        self._on_copy = False  # reading a private copy of a read-only index
        self._copy_reads = False  # the disk is full: read a copy until the next write run

    # -- connection -------------------------------------------------------------------------------
    def _connect(self):
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if self.url:
            u = urlparse(self.url if "://" in self.url else f"http://{self.url}")
            try:
                client = chromadb.HttpClient(host=u.hostname or "127.0.0.1", port=u.port or 8000,
                                             ssl=u.scheme == "https", settings=settings)
                client.heartbeat()
            except Exception as e:  # chromadb raises assorted connection/value errors
                raise IndexStoreError(f"cannot reach the Chroma server at {self.url} ({type(e).__name__}); "
                                  "start it with `chroma run --path DIR --port PORT` or clear rag.chroma_url") from e
            return client
        path = self.persist_dir
        self._on_copy = path.is_dir() and (self._copy_reads or not writable(path))
        if self._on_copy:
            path = self._read_only_copy()
        try:
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=settings)
        except Exception as e:
            if _is_store_failure(e) and (_read_only(e) or _disk_full(e, self.persist_dir)):
                raise IndexStoreError(*self._describe(e, "opening the index")) from e
            raise IndexStoreError(f"the index in {self.persist_dir} is corrupt or unreadable ({type(e).__name__}: "
                              f"{str(e)[:120]})", Fix.REBUILD_INDEX) from e

    def _read_only_copy(self) -> Path:
        """Chroma opens its files for writing even to read: a read-only index is read from a private copy
        (made once per process and generation); writes are refused before they get here (the write lock)."""
        import tempfile

        key = (str(self.persist_dir), self.generation())
        copy = _READ_ONLY_COPIES.get(key)
        if copy is None or not copy.is_dir():
            copy = Path(tempfile.mkdtemp(prefix="asl-gpt-index-")) / "chroma"
            shutil.copytree(self.persist_dir, copy)
            _READ_ONLY_COPIES[key] = copy
            atexit.register(shutil.rmtree, copy.parent, True)
            log.warning("the index in %s is read-only: reading a copy of it in %s", self.persist_dir, copy)
        return copy

    def _collection(self, create: bool = False):
        """The collection, reopened if another process wrote since; None if absent and not `create`."""
        gen = self.generation()
        if self._client is not None and gen != self._generation and not self.url:
            self._copy_reads = False
            self._reset_client()
        if self._client is None:
            self._client = self._connect()
            self._col = None
        self._generation = gen
        if self._col is None:
            try:
                if create:
                    self._col = self._client.get_or_create_collection(
                        self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                        metadata={"embedding_model": self.embedding_model})
                else:
                    self._col = self._client.get_collection(self.name, embedding_function=None)
            except IndexStoreError:
                raise
            except Exception as e:
                if not create and _is_not_found(e):
                    return None
                if _is_store_failure(e) and (self.url or _read_only(e) or _disk_full(e, self.persist_dir)):
                    self._reset_client()
                    raise IndexStoreError(*self._describe(e, "opening the collection")) from e
                raise IndexStoreError(f"cannot open the collection {self.name!r} ({type(e).__name__}: {str(e)[:120]})",
                                  Fix.REBUILD_INDEX) from e
            if self._wrap is not None:
                self._col = self._wrap(self._col)
            built_with = (self._col.metadata or {}).get("embedding_model")
            if built_with and self.embedding_model and built_with != self.embedding_model:
                self._col = None
                raise IndexStoreError(f"the index was built with the embedding model {built_with!r}, the settings say "
                                  f"{self.embedding_model!r}", Fix.REBUILD_INDEX)
        return self._col

    def _reset_client(self):
        self._col = None
        self._client = None
        self._on_copy = False
        if not self.url:
            # The persistent client is cached per path inside chromadb; drop it to really reopen.
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient.clear_system_cache()

    @property
    def reading_copy(self) -> bool:
        """Are reads served from a private copy of the index (it is read-only, or its disk is full)?"""
        return self._on_copy or self._copy_reads

    def generation(self) -> str:
        try:
            return self._gen_file.read_text()
        except OSError:
            return ""

    def bump_generation(self) -> None:
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            tmp = self._gen_file.with_suffix(".tmp")
            tmp.write_text(uuid.uuid4().hex)
            os.replace(tmp, self._gen_file)
        except OSError as e:  # a full disk: the write that failed before this one is the error to report
            log.warning("could not mark the index as changed in %s: %s", self._gen_file, e)
        self._generation = self.generation()
        if self._on_copy or self._copy_reads:  # a writer works on the index itself, never on a copy
            self._copy_reads = False
            self._reset_client()

    def drop(self) -> None:
        """Delete the collection (and, for the embedded store, a corrupt folder) for a rebuild."""
        try:
            client = self._client or self._connect()
            with contextlib.suppress(Exception):
                client.delete_collection(self.name)
        except IndexStoreError:
            if self.url:
                raise
            log.warning("removing the unreadable index folder %s", self.persist_dir)
            self._reset_client()
            shutil.rmtree(self.persist_dir, ignore_errors=True)
        self._col = None
        self.bump_generation()

    def close(self) -> None:
        self._col = None
        self._client = None

    # -- data -------------------------------------------------------------------------------------
    # Every call below goes through `_guard`: Chroma failing (a server gone, a full or read-only disk)
    # becomes one IndexStoreError and a fresh client for the next call; a bug here stays what it is.
    @contextlib.contextmanager
    def _guard(self, doing: str):
        try:
            yield
        except IndexStoreError:
            raise
        except Exception as e:
            if not _is_store_failure(e):
                raise
            self._reset_client()
            raise IndexStoreError(*self._describe(e, doing)) from e

    def _read(self, doing: str, body):
        """`body()` under `_guard`; when the disk is full, Chroma cannot even read (it applies its log
        first): the read is retried on a private copy of the index, and later reads use it until a write."""
        try:
            with self._guard(doing):
                return body()
        except IndexStoreError as e:
            cause = e.__cause__
            if self.url or self._on_copy or not isinstance(cause, Exception) or not _disk_full(cause, self.persist_dir):
                raise
            log.warning("the disk of %s is full: reading a copy of the index until the next index run",
                        self.persist_dir)
            self._copy_reads = True
            with self._guard(doing):
                return body()

    def _describe(self, e: Exception, doing: str) -> tuple[str, Fix | None]:
        """(the problem, its fix) for Chroma or the disk failing."""
        detail = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:120] if str(e).strip() else ''}"
        if self.url:
            return (f"lost the Chroma server at {self.url} while {doing} ({detail}); is `chroma run` still "
                    "running? The next request reconnects"), None
        if _read_only(e):
            return (f"the index in {self.persist_dir} is read-only ({detail}): searching may still work, "
                    "indexing needs a writable folder (ASL_GPT_PATHS_STATE_DIR)"), None
        if _disk_full(e, self.persist_dir):
            return f"the disk of the index in {self.persist_dir} is full ({detail})", Fix.FREE_SPACE
        return f"the index in {self.persist_dir} failed while {doing} ({detail})", Fix.REBUILD_IF_PERSISTS

    def count(self) -> int:
        def body():
            col = self._collection()
            return 0 if col is None else col.count()

        return self._read("counting chunks", body)

    def ids_by_source(self) -> dict[str, dict[str, dict]]:
        """source -> {chunk id -> metadata} for everything stored (metadata only, no vectors)."""
        def body():
            out: dict[str, dict[str, dict]] = {}
            col = self._collection()
            for batch in self._pages(col, include=["metadatas"]) if col is not None else ():
                for cid, meta in zip(batch["ids"], batch["metadatas"]):
                    out.setdefault((meta or {}).get("source", ""), {})[cid] = meta or {}
            return out

        return self._read("listing documents", body)

    def all_chunks(self, embeddings: bool = False) -> list[StoredChunk]:
        """Every stored chunk (with its vector when `embeddings`)."""
        include = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])

        def body():
            chunks = []
            col = self._collection()
            for batch in self._pages(col, include=include) if col is not None else ():
                vecs = batch["embeddings"] if embeddings else [None] * len(batch["ids"])
                chunks += [StoredChunk(i, d or "", m or {}, None if v is None else list(v)) for i, d, m, v in
                           zip(batch["ids"], batch["documents"], batch["metadatas"], vecs)]
            return chunks

        return self._read("reading chunks", body)

    def get(self, ids: list[str]) -> list[StoredChunk]:
        """The chunks with these ids (text and metadata), those that exist."""
        def body():
            col = self._collection()
            if col is None or not ids:
                return []
            got = col.get(ids=ids, include=["documents", "metadatas"])
            return [StoredChunk(i, d or "", m or {}) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

        return self._read("reading chunks", body) if ids else []

    @staticmethod
    def _pages(col, include, page: int = 2000):
        offset = 0
        while True:
            batch = col.get(include=include, limit=page, offset=offset)
            if not batch["ids"]:
                return
            yield batch
            offset += len(batch["ids"])

    def _writable_collection(self, create: bool = True):
        col = self._collection(create=create)
        if self._on_copy:
            raise IndexStoreError(f"the index in {self.persist_dir} is read-only: it can be searched, not changed; "
                              "set ASL_GPT_PATHS_STATE_DIR to a writable folder to index")
        return col

    def upsert(self, ids: list[str], texts: list[str], embeddings: list[list[float]], metadatas: list[dict]) -> None:
        with self._guard("writing chunks"):
            col = self._writable_collection()
            step = min(5000, self._client.get_max_batch_size())
            for i in range(0, len(ids), step):
                col.upsert(ids=ids[i:i + step], documents=texts[i:i + step], embeddings=embeddings[i:i + step],
                           metadatas=metadatas[i:i + step])

    def update_metadata(self, ids: list[str], metadatas: list[dict]) -> None:
        if ids:
            with self._guard("writing metadata"):
                self._writable_collection().update(ids=ids, metadatas=metadatas)

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        with self._guard("deleting chunks"):
            col = self._writable_collection(create=False)
            if col is not None:
                for i in range(0, len(ids), 5000):
                    col.delete(ids=ids[i:i + 5000])

    def query(self, embedding: list[float], n: int) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks with their cosine similarity (1 - cosine distance), best first."""
        def body():
            col = self._collection()
            total = 0 if col is None else col.count()
            if total == 0:
                return []
            res = col.query(query_embeddings=[embedding], n_results=min(n, total),
                            include=["documents", "metadatas", "distances"])
            return [(StoredChunk(i, d or "", m or {}), 1.0 - float(dist)) for i, d, m, dist in
                    zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])]

        return self._read("searching", body)


_READ_ONLY_COPIES: dict[tuple[str, str], Path] = {}  # (index folder, generation) -> its private copy


def writable(folder: Path) -> bool:
    """Can this process write the index's files? (access(2) says no on a read-only mount, even to root.)"""
    files = [folder, *(p for p in (folder / "chroma.sqlite3",) if p.exists())]
    return all(os.access(p, os.W_OK) for p in files)


def _is_store_failure(e: BaseException) -> bool:
    """Chroma, its transport or the disk failing (not a bug in this program)."""
    if isinstance(e, (OSError, TimeoutError)):
        return True
    return type(e).__module__.split(".")[0] in ("chromadb", "httpx", "httpcore", "sqlite3")


def _read_only(e: BaseException) -> bool:
    errno_ = getattr(e, "errno", None)
    text = str(e).lower()
    return errno_ in (errno.EROFS, errno.EACCES, errno.EPERM) or "read-only" in text or "readonly" in text


def _disk_full(e: BaseException, folder: Path) -> bool:
    if getattr(e, "errno", None) == errno.ENOSPC or "disk is full" in str(e).lower() or "no space" in str(e).lower():
        return True
    try:  # Chroma's own errors do not say so ("Failed to apply logs to the metadata segment")
        return shutil.disk_usage(folder if folder.exists() else folder.parent).free < 8 * 2**20
    except OSError:
        return False


def _is_not_found(e: Exception) -> bool:
    name = type(e).__name__
    return "NotFound" in name or "does not exist" in str(e).lower() or "not found" in str(e).lower()
