"""Greedy decoding against a "logits" interface, and the confidence that goes with it. Pure numpy.

The decoder is any callable `step(tokens int32[1, L]) -> logits float32[1, L, V]` (the TFLite
`decode` signature with its memory bound, or a torch model in training). Tokens start as
[SOS, PAD, PAD, ...]; position i's logits choose token i + 1, until EOS or L - 1 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Step = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Decoded:
    ids: tuple[int, ...]  # character ids, without SOS/EOS
    token_probs: tuple[float, ...]  # softmax probability of each chosen id (EOS included when reached)

    @property
    def token_confidence(self) -> float:
        """Geometric mean of the chosen tokens' probabilities (EOS included); 0.0 when nothing was decoded."""
        if not self.token_probs:
            return 0.0
        return float(np.exp(np.mean(np.log(np.clip(self.token_probs, 1e-9, 1.0)))))


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def greedy_decode(step: Step, length: int, sos_id: int, eos_id: int, pad_id: int,
                  n_symbols: int) -> Decoded:
    """Decode up to `length - 1` characters; special ids other than EOS are never emitted."""
    tokens = np.full((1, length), pad_id, dtype=np.int32)
    tokens[0, 0] = sos_id
    ids: list[int] = []
    probs: list[float] = []
    for i in range(length - 1):
        logits = np.asarray(step(tokens))[0, i]
        p = softmax(logits.astype(np.float64))
        allowed = p.copy()
        allowed[n_symbols:] = 0.0  # PAD / SOS are never outputs ...
        allowed[eos_id] = p[eos_id]  # ... EOS is
        nxt = int(np.argmax(allowed))
        probs.append(float(p[nxt]))
        if nxt == eos_id:
            break
        ids.append(nxt)
        tokens[0, i + 1] = nxt
    return Decoded(tuple(ids), tuple(probs))
