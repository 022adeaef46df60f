"""Process helpers shared by the benchmarks and the tests: a free port, a `chroma run` server, stopping a child."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for the app, a `chroma run` server, or a port nothing listens on)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(port: int, data: Path, timeout_s: float = 90.0) -> subprocess.Popen:
    """`chroma run` on 127.0.0.1:`port` over `data`, once it answers its heartbeat (RuntimeError if it does not)."""
    import urllib.request

    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    proc = subprocess.Popen([exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`chroma run` did not start (exit {proc.poll()})") from None
            time.sleep(0.3)


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate a child, then kill it if it has not gone in 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
