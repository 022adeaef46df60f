"""The JSON contract that travels beside every `models/<name>.tflite`.

A model file alone is not usable: the runtime must know which landmark columns it reads, its fixed
window, its vocabulary and special ids, the names of its signatures and what its confidence
means. This module reads and writes that JSON and checks it; it imports neither torch nor LiteRT.

The TFLite file holds two signatures (fixed shapes: dynamic lengths do not convert):
  encode(inputs float32[1, window, C], mask float32[1, window])
      -> memory float32[1, S, D], memory_mask float32[1, S], confidence float32[1, 1]
  decode(memory float32[1, S, D], memory_mask float32[1, S], tokens int32[1, L])
      -> logits float32[1, L, vocab_size]
with L = max_output + 1 (SOS then up to max_output characters). Greedy decoding runs the decode
signature once per output character (asl_gpt.recognition.decoding). A model with a per-frame letter head also
exposes it, so that a user's calibration profile (asl_gpt.recognition.calibration) can adjust its evidence:
  letters(inputs float32[1, window, C]) -> logits float32[1, window, n_letters]
  encode_letters(letters float32[1, window, n_letters], inputs, mask) -> as encode
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from asl_gpt.recognition import features as feats
from asl_gpt.recognition.buffer import BufferOptions
from asl_gpt.recognition.features import FeatureSpec
from asl_gpt.landmarks import layout
from asl_gpt.recognition.tokenizer import Tokenizer

FORMAT = "asl-gpt-fingerspelling/1"


_NORMALISATION = {
    feats.COLUMNS: "per-axis mean/std over present values, NaN->0 (asl_gpt.recognition.features)",
    feats.SIGNING_HAND: "signing hand (raised), mirrored to a right hand, true proportions (x, z times the frame's "
                        "width/height), palm-frame invariants + presence, height, motion (asl_gpt.recognition.features)",
}


class ContractError(ValueError):
    """The model's JSON is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class ModelContract:
    name: str  # model name, the file stem
    columns: tuple[str, ...]  # input columns in order (competition names)
    window: int  # fixed number of input frames
    max_output: int  # most characters the decoder emits
    tokenizer: Tokenizer = field(default_factory=Tokenizer)
    confidence: str = "probability that the transcript is right, from the confidence head, 0..1"
    min_confidence: float = BufferOptions.min_confidence  # the threshold the model was calibrated for; the buffer's default
    metadata: dict = field(default_factory=dict, compare=False)  # training data, metrics, card link
    feature_kind: str = feats.COLUMNS  # how columns become model input (asl_gpt.recognition.features.KINDS)
    n_letters: int = 0  # classes of the letters/encode_letters signatures (a..z); 0: not calibratable

    @property
    def features(self) -> FeatureSpec:
        return FeatureSpec(self.columns, self.window, self.feature_kind)

    @property
    def tokens_len(self) -> int:
        return self.max_output + 1

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "name": self.name,
            "input": {"columns": list(self.columns), "window": self.window, "features": self.feature_kind,
                      "n_features": self.features.n_features, "normalisation": _NORMALISATION[self.feature_kind]},
            "output": {"max_output": self.max_output, **self.tokenizer.to_json()},
            "signatures": {
                "encode": {"inputs": ["inputs", "mask"], "outputs": ["memory", "memory_mask", "confidence"]},
                "decode": {"inputs": ["memory", "memory_mask", "tokens"], "outputs": ["logits"]},
                **({"letters": {"inputs": ["inputs"], "outputs": ["logits"], "n_letters": self.n_letters},
                    "encode_letters": {"inputs": ["letters", "inputs", "mask"],
                                       "outputs": ["memory", "memory_mask", "confidence"]}}
                   if self.n_letters else {}),
            },
            "confidence": {"meaning": self.confidence, "min_confidence": self.min_confidence},
            "metadata": self.metadata,
        }

    @classmethod
    def from_json(cls, d: dict, name: str | None = None) -> "ModelContract":
        try:
            if d.get("format") != FORMAT:
                raise ContractError(f"unknown contract format {d.get('format')!r} (expected {FORMAT!r})")
            columns = tuple(d["input"]["columns"])
            for c in columns:
                layout.parse_column(c)
            window = int(d["input"]["window"])
            max_output = int(d["output"]["max_output"])
            tok = Tokenizer.from_json(d["output"])
            conf = d.get("confidence", {})
            kind = d["input"].get("features", feats.COLUMNS)
            n_letters = int(d.get("signatures", {}).get("letters", {}).get("n_letters", 0))
            if kind not in feats.KINDS:
                raise ContractError(f"unknown input features {kind!r} (this version knows {', '.join(feats.KINDS)}): "
                                    "the model needs a newer asl-gpt")
        except ContractError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            raise ContractError(f"malformed model contract: {e}") from e
        if window <= 0 or max_output <= 0 or not columns:
            raise ContractError("model contract needs columns, a positive window and max_output")
        return cls(
            name=name or d.get("name", "model"),
            columns=columns,
            window=window,
            max_output=max_output,
            tokenizer=tok,
            confidence=conf.get("meaning", cls.confidence),
            min_confidence=float(conf.get("min_confidence", BufferOptions.min_confidence)),
            metadata=d.get("metadata", {}),
            feature_kind=kind,
            n_letters=n_letters,
        )

    @classmethod
    def load(cls, path: str | Path) -> "ModelContract":
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except FileNotFoundError:
            raise ContractError(f"model contract not found: {path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ContractError(f"model contract {path} is not readable JSON: {e}") from None
        return cls.from_json(d, name=path.stem)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n")
