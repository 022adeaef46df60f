"""Average the weights of several checkpoints of one run (the shipped model is such an average: single
checkpoints move from one validation to the next on real signers; their mean is steadier and the less
arbitrary choice than the best single step).

    python -m asl_gpt.training.average OUT.pt var/train/RUN/s3000.pt var/train/RUN/s3250.pt ...
"""

from __future__ import annotations

import sys
from pathlib import Path

from asl_gpt.model.fingerspeller import load_checkpoint, save_checkpoint


def average_checkpoints(paths: list[Path], out: Path) -> Path:
    """Mean of the floating-point tensors (integer buffers from the first); the config must be the same."""
    if not paths:
        raise ValueError("no checkpoints to average")
    model, first = load_checkpoint(paths[0])
    total = {k: v.clone().double() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    for p in paths[1:]:
        other, ckpt = load_checkpoint(p)
        if ckpt["config"] != first["config"]:
            raise ValueError(f"{p} has another model config than {paths[0]}")
        for k, v in other.state_dict().items():
            if v.is_floating_point():
                total[k] += v.double()
    state = {k: (v / len(paths)).to(model.state_dict()[k].dtype) if v.is_floating_point() else v for k, v in total.items()}
    model.load_state_dict(state)
    save_checkpoint(out, model, step=first.get("step"), averaged=[str(p) for p in paths])
    return out


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python -m asl_gpt.training.average OUT.pt CHECKPOINT.pt ...")
    print(average_checkpoints([Path(p) for p in sys.argv[2:]], Path(sys.argv[1])))
