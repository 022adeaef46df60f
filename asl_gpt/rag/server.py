"""The embedded llama.cpp server (xllamacpp) in a child process of its own, on 127.0.0.1 and a free port.

A process of its own, so that a crash or a kill of llama.cpp ends one answer, not the app.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from asl_gpt.errors import LLMError

log = logging.getLogger(__name__)


def _serve(model_path: str, threads: int, ctx: int, nice: int = 0, batch_threads: int = 0, parallel: int = 1,
           seed: int = 0) -> None:
    """The embedded server's own process (`python -c`, see `EmbeddedServer.start`): llama.cpp's server on
    127.0.0.1, one JSON line on stdout with its address (or the error), then it serves until stdin closes
    (the app stopped it, or the app is gone). `nice`: its lower CPU priority (llm.embedded_nice). `parallel`:
    questions answered at once (llm.embedded_parallel), each in a slot of `ctx` tokens of its own. `seed`: the
    sampling seed of requests that send none (llm.seed); with greedy defaults below, the same prompt gets the same
    answer."""
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
    p = local_params(xlc, model_path, threads, batch_threads)
    # Slots answer at once, their tokens batched together (continuous batching). Without a unified KV cache
    # llama.cpp divides n_ctx among the slots: each gets `ctx`. A request goes to the idle slot whose cached
    # prompt it shares most of (slot_prompt_similarity), so a follow-up finds its conversation; a slot taken
    # over by another conversation is kept in llama.cpp's host-memory prompt cache (cache_ram_mib) and loaded
    # back from there.
    p.n_parallel = max(1, parallel)
    p.n_ctx = ctx * p.n_parallel
    p.kv_unified = False
    # With several slots, waiting threads sleep instead of spinning (llama.cpp polls at 50 by default): a batch is
    # then a few tokens, many short steps each, and on two busy cores a spinning thread held the core its partner
    # needed (4 answers at once, 2 batch threads: 170 s for all; sleeping: 44 s; one at a time: 42 s; docs/load.md).
    if p.n_parallel > 1:
        p.cpuparams.poll = 0
        p.cpuparams_batch.poll = 0
    p.cache_prompt = True  # follow-ups reuse their conversation's prompt (conversation.py extends it)
    # Deterministic by default for clients that send no sampling settings (ours send llm.temperature and llm.seed).
    p.sampling.temp = 0.0
    p.sampling.seed = seed
    try:
        server = xlc.Server(p)
    except Exception as e:  # noqa: BLE001 - xllamacpp raises plain RuntimeError/ValueError
        say(error=f"{type(e).__name__}: {e}")
        return
    say(ready=server.listening_address)
    sys.stdin.read()  # returns at EOF
    del server  # xllamacpp stops the HTTP server and frees the model when the object goes


def local_params(xlc, model_path: str, threads: int, batch_threads: int = 0):
    """llama.cpp's parameters for a model served on 127.0.0.1 only, on a port it picks, quietly (no web UI, no
    logging), with `threads` writing and `batch_threads` reading prompts: the LLM here, the nomic embedder
    (embeddings.py). `xlc`: the imported xllamacpp."""
    p = xlc.CommonParams()
    p.model.path = str(model_path)
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = batch_threads or threads
    p.hostnames = ["127.0.0.1"]
    p.port = 0  # the server picks a free port
    p.ui = False
    p.verbosity = 0
    return p


def healthy(base_url: str, timeout_s: float) -> bool:
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
                 nice: int = 0, batch_threads: int = 0, parallel: int = 1, seed: int = 0):
        self.model_path = Path(model_path)
        self.seed = seed
        self.parallel = parallel
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
        code = ("import sys; from asl_gpt.rag.server import _serve; "
                "_serve(sys.argv[1], *map(int, sys.argv[2:]))")
        t0 = time.perf_counter()
        args = [str(self.model_path), *map(str, (self.threads, self.ctx, self.nice, self.batch_threads, self.parallel,
                                                 self.seed))]
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
        while not healthy(self.base_url, timeout_s=2):
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
