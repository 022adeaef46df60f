"""The app's collaborators, built from settings: the recognizer, a landmark extractor per stream,
the knowledge base and the assistant. Everything heavy is loaded lazily and at most once, so the
app starts at once and shows what is missing (no model yet, no index, LLM down) instead of failing.

The UI only sees the Protocols below (`Services` is its type: asl_gpt.app.ui.build_demo,
LiveRegistry, StatusProbe); unit tests pass fakes, the product passes `build_services()`.
The assistant and knowledge base are the same objects `asl-gpt ask` and `asl-gpt index` use.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import numpy as np

from asl_gpt.errors import AslGptError

log = logging.getLogger(__name__)

Extractor = Callable[[np.ndarray], np.ndarray]  # uint8 RGB -> float32[543, 3]


class ChatBackend(Protocol):
    """What the chat needs: `asl_gpt.rag.chain.Assistant` implements it."""

    def ask_stream(self, question: str, history=None, raw: str | None = None) -> Iterator[Any]: ...
    def validate(self, question: str) -> str: ...  # InputError for an empty or oversized question
    def correct_query(self, raw: str) -> Any: ...  # -> Correction(raw, corrected, changes)
    def check_llm(self, start: bool = True) -> Any: ...  # -> LLMStatus(ok, endpoint, model, message)
    def warm_up(self) -> None: ...  # start the LLM ahead of the first question


class KnowledgeBackend(Protocol):
    """What the Knowledge tab needs: `asl_gpt.rag.index.KnowledgeBase` implements it."""

    def index(self, paths=None, rebuild: bool = False, progress=False) -> Any: ...  # -> IndexSummary
    def documents(self) -> list[Any]: ...  # -> [DocumentInfo(source, path, title, chunks)]
    def stats(self) -> Any: ...  # -> IndexStats(documents, chunks, location, collection, embedding_model)


class Services(Protocol):
    settings: Any

    def recognizer(self) -> Any: ...  # Recognizer; raises ModelError with a one-line reason
    def new_extractor(self) -> Extractor: ...  # one per stream (Holistic tracks across frames)
    def assistant(self) -> ChatBackend: ...
    def knowledge(self) -> KnowledgeBackend: ...
    def uploads_dir(self) -> Path: ...
    def close(self) -> None: ...


class _Lazy:
    """A value built once on first use. A failure is remembered (its message shown) and retried on
    request or after `retry_after_s` (a model that lands while the app runs is picked up)."""

    def __init__(self, build: Callable[[], Any], retry_after_s: float = 15.0):
        self._build = build
        self._lock = threading.Lock()
        self._value = None
        self._error: AslGptError | None = None
        self._failed_at = 0.0
        self.retry_after_s = retry_after_s

    def get(self, retry: bool = False):
        import time

        with self._lock:
            stale = self._error is not None and time.monotonic() - self._failed_at > self.retry_after_s
            if self._value is None and (self._error is None or retry or stale):
                try:
                    self._value = self._build()
                    self._error = None
                except AslGptError as e:
                    self._error = e
                    self._failed_at = time.monotonic()
            if self._error is not None:
                raise self._error
            return self._value

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def peek(self):
        return self._value


@dataclass
class AppServices:
    """The product's services (see `build_services`)."""

    settings: Any

    def __post_init__(self):
        self._recognizer = _Lazy(self._load_recognizer)
        self._kb = _Lazy(self._load_kb)
        self._assistant = _Lazy(self._load_assistant)

    # -- recognition ----------------------------------------------------------------------------
    def _load_recognizer(self):
        from asl_gpt.recognition.recognizer import build_recognizer

        return build_recognizer(self.settings)

    def recognizer(self, retry: bool = False):
        return self._recognizer.get(retry)

    def new_extractor(self) -> Extractor:
        from asl_gpt.landmarks.holistic import HolisticExtractor, needs_face

        try:  # the face mesh only when the model reads it (without a model nothing reads it)
            face = needs_face(self.recognizer().contract.columns)
        except AslGptError:
            face = False
        return HolisticExtractor(face=face)

    # -- knowledge and answers --------------------------------------------------------------------
    def _load_kb(self):
        from asl_gpt.rag.index import KnowledgeBase

        return KnowledgeBase(self.settings)

    def _load_assistant(self):
        from asl_gpt.rag.chain import build_assistant

        return build_assistant(self.settings, kb=self.knowledge())

    def knowledge(self) -> KnowledgeBackend:
        return self._kb.get()

    def assistant(self) -> ChatBackend:
        return self._assistant.get()

    def uploads_dir(self) -> Path:
        d = Path(self.settings.paths.state_dir) / "uploads"
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a read-only or full state folder: one line, the rest of the app goes on
            raise AslGptError(f"cannot create the uploads folder {d} ({e.strerror or e}): set "
                              "ASL_GPT_PATHS_STATE_DIR to a writable folder") from e
        return d

    def close(self) -> None:
        a = self._assistant.peek()
        if a is not None:
            a.close()  # stops the embedded LLM server and closes the index


def build_services(settings) -> AppServices:
    return AppServices(settings)
