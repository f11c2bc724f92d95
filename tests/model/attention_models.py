"""Small random EfficientNets that behave numerically like trained ones, for the attention tests."""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from model.nets.network import build_model


@lru_cache(maxsize=2)  # one shared model per test session: building and calibrating costs ~1 s
def calibrated_b0(num_classes: int = 6, seed: int = 0) -> nn.Module:
    """Random B0 whose BatchNorm statistics come from random images.

    With fresh running statistics (mean 0, variance 1) activations shrink to
    ~1e-6 by the last stage and every class scores alike; two train-mode
    passes make the random network's activations, gates and Grad-CAM non-trivial.
    Tests must not change the returned model (it is shared).
    """
    torch.manual_seed(seed)
    model = build_model("b0", num_classes=num_classes)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the calibration passes
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, 3, 64, 64))
    return model.eval()


def hook_count(model: nn.Module) -> int:
    """Forward hooks and pre-hooks registered anywhere in ``model``."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
