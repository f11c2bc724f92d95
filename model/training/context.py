"""``RunContext``: what the epoch loops of a training run work with, resolved once by setup.

The loops in ``model.training.epochs`` receive this instead of the ``Trainer``, so
they depend on a handful of typed fields rather than on the whole run, and the
trainer, the setup and the loops no longer import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from model.core.train_control import TrainControl
from model.core.variants import Preprocessing
from model.nets.device import SpeedPolicy
from model.training.distributed import DistContext
from model.training.loop import BatchSize, Stepper
from model.training.schedule import WarmupCosine
from model.training.settings import RunSettings

if TYPE_CHECKING:
    from model.training.quality import RunQuality

Samples = list[tuple[Path, int]]  # (image path, class index)


@dataclass
class RunContext:
    """The resolved pieces of one run that the epoch loops read (and the run's trainer shares)."""

    settings: RunSettings
    control: TrainControl
    dist: DistContext
    device: torch.device
    policy: SpeedPolicy
    prep: Preprocessing
    net: torch.nn.Module
    stepper: Stepper | None  # None once the run is over: it holds the DDP wrapper, which must go first
    schedule: WarmupCosine
    batch_size: BatchSize  # shared and halved on out-of-memory
    workers: int  # DataLoader worker processes
    train_samples: Samples
    val_samples: Samples
    feature_cache: str  # head mode: "auto" | "memory" | "disk", as this run was asked
    cache_dir: Path  # head mode: where features go when they do not fit in memory
    quality: "RunQuality | None" = None  # balance, EMA and mixing (model.training.quality)

    def stop_requested(self) -> bool:
        """Whether to stop now. Distributed, a stop on any rank is a stop on all, agreed at the same step."""
        if self.dist.any(self.control.stopped):
            self.control.stop()
            return True
        return False


__all__ = ["RunContext", "Samples"]
