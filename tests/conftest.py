"""Shared fixtures. Real data is read from ../shared/data (or $ASL_GPT_PATHS_DATA_DIR); tests that need
it skip with a reason where it is absent (a user's fresh clone). CI always has it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from shared_builds import build_once, perturbed

from asl_gpt.config import load_settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = load_settings().paths.data_dir
    if not d.is_dir():
        pytest.skip(f"real data folder {d} is absent (set ASL_GPT_PATHS_DATA_DIR to a copy of shared/data)")
    return d


@pytest.fixture(scope="session")
def signing_videos(data_dir) -> dict[str, Path]:
    vids = {p.stem: p for p in sorted((data_dir / "signing-video").glob("*.mp4"))}
    if not vids:
        pytest.skip(f"no signing videos in {data_dir / 'signing-video'}")
    return vids


@pytest.fixture(scope="session")
def bank(data_dir):
    """The real handshape bank (letters/, massey/ and the committed public-domain photos)."""
    from asl_gpt.training.handshapes import load_bank

    return load_bank(data_dir)


@pytest.fixture(scope="session")
def body(data_dir):
    """The real Holistic upper body the synthesiser places hands in front of."""
    from asl_gpt.training.synth import load_body_frames

    return load_body_frames(data_dir)


@pytest.fixture(scope="session")
def test_output() -> Path:
    """Screenshots and other artefacts that a person may want to look at after a run."""
    d = Path(os.environ.get("ASL_GPT_TEST_OUTPUT", REPO / "test-output"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny, untrained model exported to TFLite once for the whole test run (path stem; .tflite and .json
    beside, the checkpoint `tiny.pt` and the export's parity `parity.json` too).

    It honours the contract, so the runtime can be tested end to end without the shipped model.
    """
    pytest.importorskip("torch", reason="the training extra (torch) exports the test model")
    pytest.importorskip("litert_torch", reason="litert-torch exports the test model")

    def build(d: Path) -> None:
        import torch

        from asl_gpt.model.fingerspeller import Fingerspeller, save_checkpoint
        from asl_gpt.model.presets import get_preset
        from asl_gpt.training.export import export

        torch.manual_seed(0)
        save_checkpoint(d / "tiny.pt", Fingerspeller(get_preset("tiny")), step=1)
        _, _, parity = export(d / "tiny.pt", d / "tiny", {"training_data": "none (untrained test model)"},
                              min_confidence=0.0)
        (d / "parity.json").write_text(json.dumps({"worst": parity.worst}))

    return build_once(tmp_path_factory, "tiny-model", build) / "tiny"


@pytest.fixture(scope="session")
def tiny_hand_model(tmp_path_factory) -> Path:
    """The shipped kind of model (signing-hand features, a letter head) in the tiny size, its norms perturbed
    (shared_builds.perturbed), exported once for the whole run: path stem, with `t.pt` and `parity.json` beside."""
    pytest.importorskip("torch", reason="the training extra (torch) exports the test model")
    pytest.importorskip("litert_torch", reason="litert-torch exports the test model")

    def build(d: Path) -> None:
        from asl_gpt.model.fingerspeller import save_checkpoint
        from asl_gpt.training.export import export

        save_checkpoint(d / "t.pt", perturbed("tiny_hand"), step=1)
        _, _, parity = export(d / "t.pt", d / "t", {"training_data": "none (test)"})
        (d / "parity.json").write_text(json.dumps({"worst": parity.worst}))

    return build_once(tmp_path_factory, "tiny-hand-model", build) / "t"


@pytest.fixture(scope="session")
def indexed_state(tmp_path_factory) -> Path:
    """A state dir holding the knowledge folder's index, built once for the whole run by the app's own first-start
    indexing (start_initial_index); each user copies it (`shutil.copytree`) rather than embed the same documents
    again (about 55 s of CPU each)."""
    from asl_gpt.app.knowledge import start_initial_index
    from asl_gpt.app.services import build_services
    from asl_gpt.app.status import StatusProbe

    def build(d: Path) -> None:
        services = build_services(load_settings(paths={"state_dir": d}))
        try:
            start_initial_index(services, StatusProbe(services)).join()
            assert services.knowledge().stats().documents, "the first start indexed nothing"
        finally:
            services.close()

    return build_once(tmp_path_factory, "indexed-state", build)


@pytest.fixture(scope="session")
def shipped():
    """The shipped model (models/default), loaded once; its letter signatures are what profiles adapt."""
    from asl_gpt.recognition.recognizer import load_recognizer

    rec = load_recognizer("default", load_settings().paths.models_dir)
    if not rec.calibratable:
        pytest.skip("the shipped model exposes no letter signatures")
    return rec


# -- the fakes (tests/fakes.py), for tests that need one as it is; subclass them from `fakes` -------------
@pytest.fixture
def fake_recognizer():
    """Reads every segment as "hello" at confidence 0.9."""
    from fakes import FakeRecognizer

    return FakeRecognizer()


@pytest.fixture
def fake_extractor():
    """Finds a hand in a frame whose top-left pixel is bright (fakes.frame)."""
    from fakes import FakeExtractor

    return FakeExtractor()


@pytest.fixture
def embeddings():
    """Deterministic bag-of-words embeddings: no weights needed."""
    from fakes import HashEmbeddings

    return HashEmbeddings()


@pytest.fixture
def kb(settings, embeddings):
    """A knowledge base indexed over the `settings` fixture of the test's module, with the fake embeddings."""
    from asl_gpt.rag.index import KnowledgeBase

    kb = KnowledgeBase(settings, embeddings=embeddings)
    kb.index()
    return kb


@pytest.fixture
def port() -> int:
    """A free TCP port on 127.0.0.1 (asl_gpt.benchmarks.procs.free_port, as the benchmarks take theirs)."""
    from asl_gpt.benchmarks.procs import free_port

    return free_port()
