"""An exponential moving average (EMA) of the weights, as timm's ``ModelEmaV3``.

The averaged copy is what is validated beside the raw weights; the bundle keeps
whichever validates better. Averaging smooths the last, noisy steps of a short
run. The decay is tied to the length of the run (``decay_for_steps``): a fixed
0.9999 averages over ten thousand steps, far more than a 10-epoch run on a small
folder has, and would keep the random start. timm's warm-up (``1 - (1 + step/γ)^-p``)
keeps the average close to the raw weights during the first steps.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

HORIZON_SHARE = 0.1  # the average spans about this share of the run's steps
MIN_HORIZON = 10


def decay_for_steps(total_steps: int) -> float:
    """The EMA decay for a run of ``total_steps`` optimiser steps: an average over ~10 % of them."""
    horizon = max(MIN_HORIZON, HORIZON_SHARE * max(1, total_steps))
    return 1.0 - 1.0 / horizon


class ModelEma:
    """EMA of ``model``'s parameters and floating-point buffers (batch-norm statistics); integer
    buffers are copied. Update after every optimiser step."""

    def __init__(self, model: nn.Module, decay: float, warmup_gamma: float = 1.0, warmup_power: float = 2 / 3) -> None:
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.warmup_gamma = warmup_gamma
        self.warmup_power = warmup_power
        self.step = 0

    def current_decay(self) -> float:
        """timm's warm-up: small at first, rising towards ``decay``."""
        warm = 1.0 - (1.0 + self.step / self.warmup_gamma) ** -self.warmup_power
        return max(0.0, min(self.decay, warm))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        d = self.current_decay()
        self.step += 1
        ema = list(self.module.parameters()) + [b for b in self.module.buffers() if b.is_floating_point()]
        raw = list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]
        torch._foreach_lerp_(ema, [r.detach() for r in raw], 1.0 - d)
        for e, r in zip(self.module.buffers(), model.buffers()):
            if not e.is_floating_point():
                e.copy_(r)

    def state_dict(self) -> dict:
        return {"module": self.module.state_dict(), "step": self.step, "decay": self.decay}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.step = int(state.get("step", 0))
        self.decay = float(state.get("decay", self.decay))


__all__ = ["ModelEma", "decay_for_steps"]
