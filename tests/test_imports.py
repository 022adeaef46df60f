"""What importing and the recognition path load, as the README claims: the recognition path never
imports torch (only training, export and the answer side's embeddings do), and importing the settings
reads nothing (the home folder is read when settings are made)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# `asl-gpt recognize` and `live`, and what the app's camera runs: MediaPipe + LiteRT, never torch.
RECOGNITION_MODULES = ["asl_gpt.cli", "asl_gpt.commands.recognize", "asl_gpt.commands.live", "asl_gpt.recognition.recognizer",
                       "asl_gpt.recognition.pipeline", "asl_gpt.recognition.streaming", "asl_gpt.landmarks.holistic", "asl_gpt.landmarks.video",
                       "asl_gpt.app.live", "asl_gpt.app.camera"]
HEAVY = ("torch", "sentence_transformers", "transformers", "litert_torch")


def _loaded_after(code: str, tmp_path: Path, timeout: int = 300) -> dict:
    """Run `code` in a fresh interpreter; returns which HEAVY modules it loaded and what it printed."""
    probe = f"\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    env = {**os.environ, "ASL_GPT_PATHS_STATE_DIR": str(tmp_path / "state")}
    p = subprocess.run([sys.executable, "-c", code + probe], capture_output=True, text=True, timeout=timeout, env=env)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return {"heavy": json.loads(p.stdout.strip().splitlines()[-1]), "stdout": p.stdout}


def test_recognition_modules_do_not_import_torch(tmp_path):
    pytest.importorskip("mediapipe")
    out = _loaded_after("".join(f"import {m}\n" for m in RECOGNITION_MODULES), tmp_path)
    assert out["heavy"] == []


@pytest.mark.slow
def test_recognize_command_does_not_import_torch(tmp_path, signing_videos):
    """The whole `asl-gpt recognize` path: MediaPipe on a real video, the shipped model, decoding."""
    code = ("import contextlib, io\n"
            "from asl_gpt.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['recognize', {str(signing_videos['SOUP'])!r}, '--json', '--no-progress']) == 0\n")
    assert _loaded_after(code, tmp_path)["heavy"] == []


def test_settings_read_the_home_folder_when_made_not_when_imported(tmp_path, monkeypatch):
    from asl_gpt.config import PathsConfig, load_settings

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ASL_GPT_PATHS_STATE_DIR", raising=False)
    assert PathsConfig().state_dir == tmp_path / ".asl_gpt"
    assert load_settings(env={}).paths.state_dir == tmp_path / ".asl_gpt"
