"""Shared by the RAG tests: a fake chat model and file helpers (the embeddings are tests/fakes.py's)."""

from __future__ import annotations

import numpy as np
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from fakes import HashEmbeddings  # noqa: F401 - the RAG tests import it from here too


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


def settings_with_docs(tmp_path, docs: dict[str, str], **rag):
    """Settings over a knowledge folder of `docs` (file name -> text) in tmp_path, with these rag settings."""
    from asl_gpt.config import load_settings

    for name, text in docs.items():
        write(tmp_path / "kb" / name, text)
    return load_settings(env={}, paths={"state_dir": tmp_path / "state", "knowledge_dir": tmp_path / "kb"}, rag=rag)
