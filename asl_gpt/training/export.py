"""Checkpoint -> `models/<name>.tflite` (two fixed-shape signatures, no Flex ops) + its JSON contract.

Conversion goes through litert-torch (no TensorFlow needed). The signatures are the ones
asl_gpt.recognition.contract documents and asl_gpt.recognition.recognizer runs:
  encode(inputs[1, window, C], mask[1, window]) -> memory[1, S, E], memory_mask[1, S], confidence[1, 1]
  decode(memory[1, S, E], memory_mask[1, S], tokens int32[1, max_output + 1]) -> logits[1, L, V]
and, for letter-head models, the two that a user's calibration profile goes through:
  letters(inputs[1, window, C]) -> logits[1, window, n_letters]
  encode_letters(letters[1, window, n_letters], inputs, mask) -> as encode
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from asl_gpt.recognition.buffer import BufferOptions
from asl_gpt.recognition.contract import ModelContract
from asl_gpt.model.fingerspeller import Fingerspeller, load_checkpoint
from asl_gpt.recognition.tokenizer import Tokenizer

log = logging.getLogger(__name__)


class EncodeSignature(torch.nn.Module):
    def __init__(self, model: Fingerspeller):
        super().__init__()
        self.model = model

    def forward(self, inputs, mask):
        memory, memory_mask, conf = self.model.encode(inputs, mask)
        return {"memory": memory, "memory_mask": memory_mask, "confidence": torch.sigmoid(conf)}


class DecodeSignature(torch.nn.Module):
    def __init__(self, model: Fingerspeller):
        super().__init__()
        self.model = model

    def forward(self, memory, memory_mask, tokens):
        return {"logits": self.model.decode(memory, memory_mask, tokens.long())}


class LettersSignature(torch.nn.Module):
    def __init__(self, model: Fingerspeller):
        super().__init__()
        self.model = model

    def forward(self, inputs):
        return {"logits": self.model.letter_logits(inputs)}


class EncodeLettersSignature(torch.nn.Module):
    def __init__(self, model: Fingerspeller):
        super().__init__()
        self.model = model

    def forward(self, letters, inputs, mask):
        memory, memory_mask, conf = self.model.encode_letters(letters, inputs, mask)
        return {"memory": memory, "memory_mask": memory_mask, "confidence": torch.sigmoid(conf)}


def sample_inputs(model: Fingerspeller, seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic example inputs (half the window present) for tracing and parity checks."""
    c, tok = model.config, Tokenizer()
    g = np.random.default_rng(seed)
    x = g.normal(size=(1, c.window, c.n_features)).astype(np.float32)
    mask = np.ones((1, c.window), np.float32)
    mask[0, c.window // 2:] = 0.0
    x[0, c.window // 2:] = 0.0
    tokens = np.full((1, c.max_output + 1), tok.pad_id, np.int32)
    tokens[0, 0] = tok.sos_id
    tokens[0, 1:4] = g.integers(0, len(tok.symbols), 3)
    return {"inputs": x, "mask": mask, "tokens": tokens}


def convert(model: Fingerspeller, path: str | Path) -> Path:
    """Write the two-signature .tflite for `model` (eval mode) to `path`."""
    import litert_torch

    model = model.eval()
    s = sample_inputs(model)
    x, m = torch.from_numpy(s["inputs"]), torch.from_numpy(s["mask"])
    with torch.no_grad():
        memory, memory_mask, _ = model.encode(x, m)
    t0 = time.time()
    edge = (litert_torch.signature("encode", EncodeSignature(model), sample_kwargs={"inputs": x, "mask": m})
            .signature("decode", DecodeSignature(model),
                       sample_kwargs={"memory": memory, "memory_mask": memory_mask, "tokens": torch.from_numpy(s["tokens"])}))
    if model.has_letter_head:
        with torch.no_grad():
            letters = model.letter_logits(x)
        edge = (edge.signature("letters", LettersSignature(model), sample_kwargs={"inputs": x})
                .signature("encode_letters", EncodeLettersSignature(model),
                           sample_kwargs={"letters": letters, "inputs": x, "mask": m}))
    edge = edge.convert()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    edge.export(str(path))
    log.info("converted to %s in %.1f s (%.2f MB)", path, time.time() - t0, path.stat().st_size / 1e6)
    return path


@dataclass(frozen=True)
class Parity:
    memory: float  # max abs difference torch vs TFLite
    confidence: float
    logits: float
    letters: float = 0.0  # the letter signatures (0 when the model has none)

    @property
    def worst(self) -> float:
        return max(self.memory, self.confidence, self.logits, self.letters)


def parity(model: Fingerspeller, tflite_path: str | Path, seed: int = 0) -> Parity:
    """Run the same inputs through torch and the .tflite (LiteRT) and compare."""
    from ai_edge_litert.interpreter import Interpreter

    s = sample_inputs(model, seed)
    with torch.no_grad():
        mem, mm, conf = model.encode(torch.from_numpy(s["inputs"]), torch.from_numpy(s["mask"]))
        logits = model.decode(mem, mm, torch.from_numpy(s["tokens"]).long())
    it = Interpreter(model_path=str(tflite_path))
    enc = it.get_signature_runner("encode")(inputs=s["inputs"], mask=s["mask"])
    dec = it.get_signature_runner("decode")(memory=enc["memory"], memory_mask=enc["memory_mask"], tokens=s["tokens"])
    letters = 0.0
    if model.has_letter_head:
        with torch.no_grad():
            ref = model.letter_logits(torch.from_numpy(s["inputs"]))
            shifted = ref + torch.linspace(-1.0, 1.0, ref.shape[-1])  # evidence the head did not give
            ref_mem, _, ref_conf = model.encode_letters(shifted, torch.from_numpy(s["inputs"]), torch.from_numpy(s["mask"]))
        got = it.get_signature_runner("letters")(inputs=s["inputs"])["logits"]
        enc2 = it.get_signature_runner("encode_letters")(letters=shifted.numpy(), inputs=s["inputs"], mask=s["mask"])
        letters = max(float(np.abs(got - ref.numpy()).max()), float(np.abs(enc2["memory"] - ref_mem.numpy()).max()),
                      float(np.abs(enc2["confidence"] - torch.sigmoid(ref_conf).numpy()).max()))
    return Parity(float(np.abs(enc["memory"] - mem.numpy()).max()),
                  float(np.abs(enc["confidence"] - torch.sigmoid(conf).numpy()).max()),
                  float(np.abs(dec["logits"] - logits.numpy()).max()), letters)


def export(checkpoint: str | Path, out: str | Path, metadata: dict | None = None,
           min_confidence: float = BufferOptions.min_confidence) -> tuple[Path, Path, Parity]:
    """`out` is models/<name> (suffix optional) -> (.tflite, .json, parity figures)."""
    model, ckpt = load_checkpoint(checkpoint)
    out = Path(out)
    out = out.with_suffix("") if out.suffix in (".tflite", ".json") else out
    tflite, contract_path = out.with_suffix(".tflite"), out.with_suffix(".json")
    convert(model, tflite)
    p = parity(model, tflite)
    if p.worst > 1e-3:
        raise RuntimeError(f"TFLite output differs from torch by {p.worst:.2e}: conversion is not faithful")
    c = model.config
    meta = {"preset_config": c.to_dict(), "parameters": model.n_params(), "trained_steps": ckpt.get("step"),
            "validation": ckpt.get("val"), "parity_max_abs_diff": p.worst, "model_card": "MODEL_CARD.md",
            **(metadata or {})}
    ModelContract(name=out.name, columns=c.columns, window=c.window, max_output=c.max_output,
                  tokenizer=Tokenizer(), min_confidence=min_confidence, metadata=meta,
                  feature_kind=c.features, n_letters=c.n_letters if model.has_letter_head else 0).save(contract_path)
    log.info("wrote %s and %s (parity %.1e)", tflite, contract_path, p.worst)
    return tflite, contract_path, p
