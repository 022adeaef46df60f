"""The live sessions of one app: one per browser tab, keyed by Gradio's session hash, and the camera
socket's tokens that lead to them (asl_gpt.app.camera)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from asl_gpt.app.live import LiveOptions, LiveSession
from asl_gpt.app.services import Services
from asl_gpt.errors import AslGptError


@dataclass
class LiveRegistry:
    """Live sessions keyed by Gradio's session hash; each browser tab gets its own, dropped on unload."""

    services: Services
    options: LiveOptions = LiveOptions()
    _sessions: dict[str, LiveSession] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)  # camera-socket token -> session key
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self, key: str) -> str:
        """An unguessable token that lets this session's page open its camera socket."""
        with self._lock:
            for t, k in self._tokens.items():
                if k == key:
                    return t
            t = secrets.token_urlsafe(24)
            self._tokens[t] = key
            return t

    def by_token(self, token: str) -> LiveSession | None:
        """The live session a camera socket's token belongs to (None: unknown or dropped)."""
        with self._lock:
            key = self._tokens.get(token)
        return self.get(key) if key is not None else None

    def get(self, key: str) -> LiveSession:
        with self._lock:
            s = self._sessions.get(key)
            if s is None:
                s = self._sessions[key] = self._new()
            return s

    def _new(self) -> LiveSession:
        from asl_gpt.recognition.pipeline import buffer_options, stream_options

        settings = self.services.settings
        try:
            rec, err = self.services.recognizer(), ""
        except AslGptError as e:
            rec, err = None, str(e)
        return LiveSession(rec, self.services.new_extractor, stream_options(settings), buffer_options(settings, rec),
                           self.options,
                           model_error=err)

    def sessions(self) -> list[LiveSession]:
        """The live sessions now (for benchmarks and tests)."""
        with self._lock:
            return list(self._sessions.values())

    def drop(self, key: str) -> None:
        with self._lock:
            s = self._sessions.pop(key, None)
            self._tokens = {t: k for t, k in self._tokens.items() if k != key}
        if s is not None:
            s.close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def close(self) -> None:
        with self._lock:
            keys = list(self._sessions)
        for key in keys:
            self.drop(key)
