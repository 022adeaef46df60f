"""Shared by the RAG tests: a deterministic bag-of-words embedding (no weights needed) and file helpers."""

from __future__ import annotations

import hashlib

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from asl_gpt.rag.correction import tokenize


class HashEmbeddings(Embeddings):
    """Each word hashes to a direction; texts sharing words get a high cosine similarity."""

    name = "hash-embeddings-test"

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.calls = 0  # texts embedded, to check that unchanged files are not re-embedded

    def _vec(self, text: str) -> list[float]:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in tokenize(text):
            h = int(hashlib.md5(w.encode()).hexdigest(), 16)
            v[h % self.dim] += 1.0 if (h >> 20) & 1 else -1.0
        n = np.linalg.norm(v)
        return (v / n if n else v).tolist()

    def embed_documents(self, texts):
        self.calls += len(texts)
        return [self._vec(t) for t in texts]

    def embed_query(self, text):
        return self._vec(text)


class RecordingChat(GenericFakeChatModel):
    """LangChain's fake chat model (streams word by word) that also records the prompts it was sent."""

    seen: list = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def fake_chat(*answers: str) -> RecordingChat:
    from langchain_core.messages import AIMessage

    return RecordingChat(messages=iter([AIMessage(content=a) for a in answers]), seen=[])


def write(path, text: str):
    """Create a file (and its folders) for a test document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_hash_embeddings_are_similar_for_shared_words():
    e = HashEmbeddings()
    a, b, c = (np.array(v) for v in e.embed_documents(["deaf culture etiquette", "etiquette of deaf culture",
                                                      "the letter j moves"]))
    assert a @ b > 0.8 and a @ c < 0.5
