"""Optimisation defaults that work without tuning: AdamW groups, warm-up + cosine, batch size.

The learning-rate schedule is a pure function of training progress measured in
epochs (``epoch + step / steps_per_epoch``), so it survives a resume, a change
of batch size after an out-of-memory error, and a longer ``--epochs`` on resume.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from model.core.variants import get_variant

MIN_LR_FACTOR = 0.01  # the cosine ends at 1% of the peak, not at zero: the last epoch still learns


class WarmupCosine:
    """Linear warm-up to the peak learning rate, then a cosine decay to ``MIN_LR_FACTOR``.

    Each param group carries ``lr_scale`` (e.g. 0.1 for a pretrained backbone);
    its learning rate is ``base_lr × lr_scale × factor(progress)``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, base_lr: float, epochs: int, warmup_epochs: float | None = None) -> None:
        self.optimizer = optimizer
        self.base_lr = float(base_lr)
        self.epochs = max(1, int(epochs))
        # A tenth of the run, at most one epoch: enough to stop AdamW's first steps from wrecking pretrained weights.
        self.warmup = min(1.0, 0.1 * self.epochs) if warmup_epochs is None else float(warmup_epochs)
        self.progress = 0.0

    def factor(self, progress: float) -> float:
        if self.warmup > 0 and progress < self.warmup:
            return max(progress / self.warmup, 1e-3)
        span = max(self.epochs - self.warmup, 1e-9)
        t = min(max((progress - self.warmup) / span, 0.0), 1.0)
        return MIN_LR_FACTOR + (1.0 - MIN_LR_FACTOR) * 0.5 * (1.0 + math.cos(math.pi * t))

    def set_progress(self, progress: float) -> float:
        """Set every group's learning rate for ``progress`` (in epochs); returns the head's rate."""
        self.progress = float(progress)
        f = self.factor(self.progress)
        for group in self.optimizer.param_groups:
            group["lr"] = self.base_lr * group.get("lr_scale", 1.0) * f
        return self.base_lr * f

    @property
    def lr(self) -> float:
        return self.base_lr * self.factor(self.progress)

    def state_dict(self) -> dict:
        return {"base_lr": self.base_lr, "epochs": self.epochs, "warmup": self.warmup, "progress": self.progress}

    def load_state_dict(self, state: dict) -> None:
        # epochs come from the (possibly extended) current run; the rest continues.
        self.base_lr = float(state["base_lr"])
        self.warmup = float(state["warmup"])
        self.progress = float(state["progress"])


def build_optimizer(model: nn.Module, lr: float, backbone_lr_scale: float, weight_decay: float = 0.05) -> torch.optim.AdamW:
    """AdamW with four groups: head/backbone × decayed/not. Norm weights and biases are not decayed."""
    groups: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        part = "backbone" if name.startswith("features.") else "head"
        groups.setdefault((part, p.ndim > 1), []).append(p)
    param_groups = [
        {
            "params": params,
            "lr": lr * (backbone_lr_scale if part == "backbone" else 1.0),
            "lr_scale": backbone_lr_scale if part == "backbone" else 1.0,
            "weight_decay": weight_decay if decay else 0.0,
            "name": f"{part}{'' if decay else '-no-decay'}",
        }
        for (part, decay), params in sorted(groups.items())
    ]
    # foreach: one fused kernel per group instead of one per tensor (fast on CPU and GPU alike).
    return torch.optim.AdamW(param_groups, lr=lr, weight_decay=weight_decay, foreach=True)


def default_lr(mode: str, pretrained: bool) -> float:
    """Peak learning rate: a linear head learns fast; a pretrained network wants gentler steps."""
    if mode == "head":
        return 3e-3
    return 1e-3 if pretrained else 2e-3


def auto_batch_size(variant: str, image_size: int, device: torch.device, num_train: int) -> int:
    """A batch size that fits the device: sized by the cost of one image relative to B0 at 224 px.

    On CUDA it is sized from free memory (about 45 MB per B0-224 image under mixed
    precision, measured); on the CPU a batch of ~32 B0-224 images keeps the cores busy.
    An out-of-memory error later still halves it.
    """
    v = get_variant(variant)
    rel = v.width_mult * v.depth_mult * (image_size / 224) ** 2  # activation memory ∝ width · depth · pixels
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        bs = int(0.6 * free / (45e6 * rel))
        cap = 256
    else:
        bs = int(32 / rel)
        cap = 128 if device.type == "cpu" else 64
    # Small data sets learn from the number of updates: keep at least ~20 steps per epoch.
    bs = min(bs, cap, max(8, num_train // 20))
    bs = 1 << (max(bs, 8).bit_length() - 1)  # a power of two in [8, cap]
    return max(2, min(bs, num_train))
