"""Export parity (torch vs TFLite through LiteRT) on the tiny preset, and the shipped default model
loading through the runtime."""

import json

import numpy as np
import pytest

from asl_gpt.config import load_settings
from asl_gpt.recognition.contract import ModelContract


def _parity(stem) -> float:
    return json.loads((stem.parent / "parity.json").read_text())["worst"]


@pytest.mark.slow
def test_export_parity_and_contract(tiny_model):
    tflite = tiny_model.with_suffix(".tflite")
    assert _parity(tiny_model) < 1e-4
    c = ModelContract.load(tiny_model.with_suffix(".json"))
    assert c.window == 32 and c.max_output == 15 and len(c.columns) == 162
    assert c.metadata["training_data"] == "none (untrained test model)" and c.metadata["parameters"] > 0
    # no Flex (SELECT_TF_OPS) custom ops: LiteRT could not run them
    assert b"Flex" not in tflite.read_bytes()


@pytest.mark.slow
def test_exported_model_runs_in_the_runtime(tiny_model):
    from asl_gpt.model.fingerspeller import greedy_decode, load_checkpoint
    from asl_gpt.recognition.recognizer import load_recognizer
    from asl_gpt.recognition.tokenizer import Tokenizer

    tflite = tiny_model.with_suffix(".tflite")
    rec = load_recognizer(tflite, tflite.parent)
    rng = np.random.default_rng(0)
    frames = np.full((40, 543, 3), np.nan, np.float32)
    frames[:, 522:543] = rng.uniform(0.3, 0.6, (40, 21, 3))
    frames[:, 489:522] = rng.uniform(0.2, 0.9, (40, 33, 3))
    h = rec.recognize(frames)
    assert 0.0 <= h.confidence <= 1.0 and len(h.text) <= 15
    # the same greedy transcript as torch
    import torch

    from asl_gpt.recognition import features

    model, _ = load_checkpoint(tflite.with_name("tiny.pt"))
    x, m = features.prepare(frames, rec.contract.features)
    tok = Tokenizer()
    ids, conf = greedy_decode(model, torch.from_numpy(x[None]), torch.from_numpy(m[None]), tok.sos_id, tok.eos_id, 59)
    assert tok.decode(ids[0]) == h.text
    assert float(conf[0]) == pytest.approx(h.confidence, abs=1e-4)


@pytest.mark.slow
def test_signing_hand_model_exports_and_reads_the_same_in_the_runtime(tiny_hand_model):
    """The shipped kind of model: its contract names its features, and LiteRT reads what torch reads,
    the frame's aspect included (the letter head is part of the exported encoder)."""
    torch = pytest.importorskip("torch")
    from asl_gpt.recognition import features
    from asl_gpt.model.fingerspeller import greedy_decode, load_checkpoint
    from asl_gpt.recognition.recognizer import load_recognizer
    from asl_gpt.recognition.tokenizer import Tokenizer

    tflite, contract_path = tiny_hand_model.with_suffix(".tflite"), tiny_hand_model.with_suffix(".json")
    model, _ = load_checkpoint(tiny_hand_model.with_suffix(".pt"))
    assert _parity(tiny_hand_model) < 1e-4
    c = ModelContract.load(contract_path)
    assert c.feature_kind == features.SIGNING_HAND and c.features.n_features == features.HAND_FEATURES
    assert json.loads(contract_path.read_text())["input"]["features"] == "signing_hand"
    rec = load_recognizer(tflite, tflite.parent, word_weight=0.0)
    rng = np.random.default_rng(0)
    frames = np.full((40, 543, 3), np.nan, np.float32)
    frames[:, 522:543] = rng.uniform(0.3, 0.4, (40, 21, 3))  # the right hand, near the shoulders
    frames[:, 489 + 11] = (0.6, 0.45, 0.0)
    frames[:, 489 + 12] = (0.3, 0.45, 0.0)
    h = rec.recognize(frames, aspect=16 / 9)
    x, m = features.prepare(frames, c.features, 16 / 9)
    tok = Tokenizer()
    ids, conf = greedy_decode(model.eval(), torch.from_numpy(x[None]), torch.from_numpy(m[None]), tok.sos_id, tok.eos_id, 59)
    assert tok.decode(ids[0]) == h.text == h.raw_text
    assert float(conf[0]) == pytest.approx(h.confidence, abs=1e-4)


def test_shipped_default_model_loads_in_the_runtime():
    """models/default.{tflite,json}: the contract is complete and the runtime (no torch) runs it."""
    settings = load_settings()
    models = settings.paths.models_dir
    if not (models / "default.tflite").is_file():
        pytest.fail("models/default.tflite is missing: the project ships a default model")
    from asl_gpt.recognition.recognizer import load_recognizer

    rec = load_recognizer("default", models)
    c = rec.contract
    assert c.tokenizer.vocab_size == 62 and c.max_output == 31
    for key in ("training_data", "held_out_evaluation", "parameters", "model_card"):
        assert key in c.metadata, f"default.json metadata lacks {key}"
    assert (models / c.metadata["model_card"]).is_file()
    frames = np.full((30, 543, 3), np.nan, np.float32)
    assert rec.recognize(frames).text == ""  # no hands: nothing to read
    json.dumps(c.to_json())


def test_model_benchmark_prints_time_and_size(capsys):
    from asl_gpt.cli import main

    if not (load_settings().paths.models_dir / "default.tflite").is_file():
        pytest.fail("models/default.tflite is missing")
    assert main(["bench", "model", "--repeat", "3"]) == 0
    out = capsys.readouterr().out
    assert " MB" in out and "one window" in out and "ms" in out
