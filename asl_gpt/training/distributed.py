"""Training on several processes: DistributedDataParallel under `torchrun` (gloo on CPU, NCCL on GPUs).

`torchrun --nproc_per_node N -m asl_gpt.cli train ...` starts N copies of the command with RANK,
WORLD_SIZE and LOCAL_RANK set; each builds the same model, DistributedDataParallel keeps them equal
(weights broadcast from rank 0 at the start, gradients averaged every step), each draws its own
batches (its own synthetic stream, or its own share of the competition's files), and only rank 0
validates and writes checkpoints and logs. Without torchrun this is one process and changes nothing.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rank:
    rank: int = 0  # this process among all of them
    world: int = 1  # processes in all (1: no distribution)
    local: int = 0  # this process on its machine (its GPU on a multi-GPU machine)

    @property
    def main(self) -> bool:
        """The process that validates and writes checkpoints and logs."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def setup(device: str) -> tuple[Rank, str]:
    """(this process's rank, its device) from torchrun's environment; joins the process group when there is
    more than one process: NCCL for CUDA, gloo otherwise. A 'cuda' device becomes this process's own GPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    r = Rank(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not r.distributed:
        return r, device
    cuda = device.startswith("cuda")
    if cuda:
        device = f"cuda:{r.local}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    log.info("rank %d of %d on %s", r.rank, r.world, device)
    return r, device


def wrap(model: torch.nn.Module, r: Rank, device: str) -> torch.nn.Module:
    """The model DDP-wrapped when distributed (its forward averages gradients), else itself."""
    if not r.distributed:
        return model
    ids = [torch.device(device).index] if device.startswith("cuda") else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def any_rank(flag: bool, r: Rank) -> bool:
    """True on every process when it is true on any (a time budget reached on one stops them all together)."""
    if not r.distributed:
        return flag
    t = torch.tensor([float(flag)], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier(r: Rank) -> None:
    if r.distributed:
        dist.barrier()


def cleanup(r: Rank) -> None:
    if r.distributed and dist.is_initialized():
        dist.destroy_process_group()
