"""The competition's 59-symbol character vocabulary plus named special ids.

Ids 0..58 are the characters of `character_to_prediction_index.json` (space = 0); PAD, SOS and EOS
follow them. The mapping travels inside every model's JSON contract, so a model never depends on
this module's copy; this copy is the default for training and tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# The competition's vocabulary, in id order (Apache-2.0, kaggle-format/character_to_prediction_index.json).
DEFAULT_SYMBOLS = " !#$%&'()*+,-./0123456789:;=?@[_abcdefghijklmnopqrstuvwxyz~"


@dataclass(frozen=True)
class Tokenizer:
    symbols: str = DEFAULT_SYMBOLS  # id i is symbols[i]

    @property
    def pad_id(self) -> int:
        return len(self.symbols)

    @property
    def sos_id(self) -> int:
        return len(self.symbols) + 1

    @property
    def eos_id(self) -> int:
        return len(self.symbols) + 2

    @property
    def vocab_size(self) -> int:
        """Output classes including PAD, SOS and EOS."""
        return len(self.symbols) + 3

    def normalise(self, text: str) -> str:
        """Lowercase and drop characters outside the vocabulary (the competition's phrases are lowercase)."""
        return "".join(c for c in text.lower() if c in self.symbols)

    def encode(self, text: str) -> list[int]:
        """Character ids of `text`, without SOS/EOS; unknown characters are dropped."""
        index = {c: i for i, c in enumerate(self.symbols)}
        return [index[c] for c in self.normalise(text)]

    def decode(self, ids) -> str:
        """Text of ids, stopping at EOS and skipping PAD/SOS."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos_id:
                break
            if 0 <= i < len(self.symbols):
                out.append(self.symbols[i])
        return "".join(out)

    def to_json(self) -> dict:
        return {
            "vocabulary": {c: i for i, c in enumerate(self.symbols)},
            "special_ids": {"pad": self.pad_id, "sos": self.sos_id, "eos": self.eos_id},
        }

    @classmethod
    def from_json(cls, d: dict) -> "Tokenizer":
        vocab = d["vocabulary"]
        ordered = sorted(vocab.items(), key=lambda kv: kv[1])
        if [i for _, i in ordered] != list(range(len(ordered))):
            raise ValueError("vocabulary ids must be 0..N-1 without gaps")
        tok = cls("".join(c for c, _ in ordered))
        specials = d.get("special_ids", {})
        expected = {"pad": tok.pad_id, "sos": tok.sos_id, "eos": tok.eos_id}
        if specials and specials != expected:
            raise ValueError(f"special ids {specials} do not follow the vocabulary (expected {expected})")
        return tok

    @classmethod
    def from_file(cls, path: str | Path) -> "Tokenizer":
        """Load a bare `character_to_prediction_index.json`."""
        return cls.from_json({"vocabulary": json.loads(Path(path).read_text())})
