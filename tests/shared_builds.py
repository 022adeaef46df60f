"""Test artefacts built once per test run and shared by every pytest-xdist worker: exporting a model to LiteRT
takes tens of seconds, and each worker would otherwise convert the same tiny model again."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import Callable


def build_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name`, shared by this run's workers: the first to ask builds it (`build(folder)`), the others
    wait for it. A build that failed leaves no folder, so the next to ask tries again and fails the same way."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's own folder, above each worker's
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def perturbed(preset: str, seed: int = 0):
    """A Fingerspeller whose norms are not at their initial values (gamma != 1, beta != 0, real BatchNorm
    statistics), so that exporting and recovering them exercises the folds."""
    import torch

    from asl_gpt.model.fingerspeller import Fingerspeller
    from asl_gpt.model.presets import get_preset

    torch.manual_seed(seed)
    m = Fingerspeller(get_preset(preset))
    with torch.no_grad():
        for name, p in m.named_parameters():
            if "norm" in name or ".bn." in name or name.endswith("stem.1.weight") or name.endswith("stem.1.bias"):
                p.add_(torch.randn_like(p) * 0.2)
        for name, b in m.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b) * 0.3)
            elif name.endswith("running_var") or name.endswith("letters.std"):
                b.copy_(torch.rand_like(b) + 0.5)
            elif name.endswith("letters.mean"):
                b.copy_(torch.randn_like(b))
    return m.eval()
