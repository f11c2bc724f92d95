"""Running the same training on several processes with torch.distributed.

``python -m model train …`` works unchanged under ``torchrun``: torchrun sets
RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR, and ``DistContext.from_env``
joins the process group (NCCL on CUDA, gloo on CPU). We do not schedule
anything ourselves; torchrun (and its rendezvous for multi-node) does.

The engine asks this module: which rank writes files (``is_main``), how to
wrap the model (DDP), how to add up metrics across ranks (``sum``), whether any
rank wants to stop (``any``, so that a stop on one rank stops all of them at the
same step), and, for validation, how to give every rank rank 0's batch-norm
statistics (``sync_buffers``) and everyone's outputs (``all_gather_object``).
Which samples each rank takes is ``model.training.sharding``'s business.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn


def launched_by_torchrun() -> bool:
    """torchrun (of any size, one process too) sets these for every worker it starts."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def is_main_process() -> bool:
    """Whether this process is rank 0 (or alone): the CLI prints only there, before any group is joined."""
    return not launched_by_torchrun() or int(os.environ["RANK"]) == 0


@dataclass
class DistContext:
    """This process's place in a (possibly one-process) training job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None  # None: not distributed

    @property
    def enabled(self) -> bool:
        """Whether this process joined a process group (under torchrun, even a group of one)."""
        return self.backend is not None

    @property
    def is_main(self) -> bool:
        """Only rank 0 writes checkpoints, metrics files and console output."""
        return self.rank == 0

    @classmethod
    def from_env(cls, device_type: str) -> "DistContext":
        """Join the process group torchrun prepared; a single process when not under torchrun."""
        if not launched_by_torchrun():
            return cls()
        backend = "nccl" if device_type == "cuda" else "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend=backend, timeout=timedelta(minutes=10))
        ctx = cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)), backend)
        if device_type == "cuda":
            torch.cuda.set_device(ctx.local_rank)
        return ctx

    def device_for(self, device: torch.device) -> torch.device:
        """Each rank owns one GPU (its local rank); CPU ranks share the CPU."""
        if self.enabled and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def wrap(self, model: nn.Module, device: torch.device, find_unused_parameters: bool = False) -> nn.Module:
        """DistributedDataParallel when distributed, the model itself otherwise.

        ``find_unused_parameters``: needed when parameters that required grad at wrapping
        time stop getting one (a backbone frozen for warm-up epochs); it costs a graph walk per step.
        """
        if not self.enabled:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused_parameters)

    def sync_buffers(self, model: nn.Module) -> None:
        """Give every rank rank 0's buffers (batch-norm running statistics), so all ranks evaluate
        the model rank 0 saves: each rank's last training steps updated them from its own shard."""
        if not self.enabled:
            return
        for buffer in model.buffers():
            dist.broadcast(buffer.data, src=0)

    def all_gather_object(self, obj) -> list:
        """Every rank's ``obj``, in rank order, on every rank."""
        if not self.enabled:
            return [obj]
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def _reduce(self, values: list[float], op) -> list[float]:
        if not self.enabled:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(t, op=op)
        return t.cpu().tolist()

    def _comm_device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over ranks (use for counts and loss×count, then divide)."""
        return self._reduce(values, dist.ReduceOp.SUM)

    def any(self, flag: bool) -> bool:
        """True on every rank if it is True on any rank (a stop request, say)."""
        return bool(self._reduce([1.0 if flag else 0.0], dist.ReduceOp.MAX)[0])

    def broadcast_object(self, obj):
        """Rank 0's value of ``obj`` on every rank."""
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group. Call it once the wrapped model is no longer referenced."""
        if self.enabled and dist.is_initialized():
            # A DDP wrapper left for the interpreter's shutdown (unreferenced, but in
            # a reference cycle) still holds the group; gloo then destroys its work
            # objects when Python is half gone and the process aborts (SIGABRT, ~1
            # run in 11 here). Collect it while Python is whole.
            gc.collect()
            dist.destroy_process_group()
