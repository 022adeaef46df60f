"""`python app.py` serves the app (and says so); the process is always killed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_app_py_serves_the_page(tmp_path, port):
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ASL_GPT_PATHS_STATE_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--port", str(port), "--no-initial-index"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    body = r.read().decode("utf-8", "replace")
                    break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read()
        assert "ASL GPT" in body
    finally:
        proc.kill()
        out = proc.communicate(timeout=30)[0]
    assert f"ASL GPT on http://127.0.0.1:{port}" in out
