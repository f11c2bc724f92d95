"""SE ablation per block: which blocks' gating an answer depends on.

For each SE block in turn, its gates s are replaced — by their mean over the
block's channels (``mode="mean"``: the block still scales its input, but no
longer favours any channel) or by 1 (``mode="one"``: no gating at all) — and
the network is run again. The change in the explained class's probability,
``confidence_drop = p(target) − p(target with that block ablated)``, and
whether the top-1 class changes, measure what that block's gating contributes.

All ablations of a batch run in a few forward passes: the batch is repeated
once per block and the hook of block b rewrites only the copy meant for b, and
only in the ablating thread's own passes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch import nn

from model.explain.se_recorder import BlockInfo, se_blocks, se_modules

ABLATION_MODES = ("mean", "one")
MAX_BATCH = 64  # images per forward pass (the batch × the blocks of one chunk)


@dataclass(frozen=True)
class BlockAblation:
    """One block's ablation for one image."""

    block: BlockInfo
    probability: float  # p(target) with this block ablated
    confidence_drop: float  # p(target) − probability
    top1_changed: bool

    def to_dict(self) -> dict:
        return {"block": self.block.name, "confidence_drop": self.confidence_drop, "top1_changed": self.top1_changed}


@dataclass(frozen=True)
class Ablation:
    """Every block's ablation for one image, in depth order."""

    mode: str
    target: int
    probability: float  # p(target) without ablation
    top1: int  # predicted class without ablation
    blocks: list[BlockAblation]

    @property
    def drops(self) -> np.ndarray:
        return np.array([b.confidence_drop for b in self.blocks], np.float64)

    @property
    def most_important(self) -> BlockAblation:
        """The block whose ablation lowers the target's probability the most."""
        return self.blocks[int(np.argmax(self.drops))]


def _replace_gates(mode: str, rows: slice, owner: int, module: nn.Module, args: tuple,
                   output: torch.Tensor) -> torch.Tensor | None:
    # A hook sees every forward pass of its module, whichever thread runs it: the Attention page scores
    # maps on one thread while it ablates on another, and those passes must stay untouched.
    if threading.get_ident() != owner:
        return None
    out = output.clone()
    part = out[rows]
    out[rows] = part.mean(dim=1, keepdim=True).expand_as(part) if mode == "mean" else torch.ones_like(part)
    return out


def ablation_probabilities(
    model: nn.Module, x: torch.Tensor, *, mode: str = "mean", max_batch: int = MAX_BATCH
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax outputs of ``x`` [N, 3, H, W] without ablation ([N, K]) and with each block ablated ([B, N, K])."""
    if mode not in ABLATION_MODES:
        raise ValueError(f"mode must be one of {ABLATION_MODES}, not {mode!r}")
    modules = [se for _, se in se_modules(model)]
    n = len(x)
    per_pass = max(1, max_batch // n - 1)
    ablated, base = [], None
    with torch.no_grad():
        for start in range(0, len(modules), per_pass):
            chunk = modules[start : start + per_pass]
            handles = [
                se.scale_activation.register_forward_hook(
                    partial(_replace_gates, mode, slice(k * n, (k + 1) * n), threading.get_ident()))
                for k, se in enumerate(chunk)
            ]
            try:
                # The last n rows stay unablated: p(target) is compared within one batch, so batch-size
                # dependent rounding cannot show up as a drop.
                probs = torch.softmax(model(x.repeat(len(chunk) + 1, 1, 1, 1)).float(), dim=1)
            finally:
                for handle in handles:
                    handle.remove()
            base = probs[-n:] if base is None else base
            ablated.append(probs[:-n].view(len(chunk), n, -1))
    return base.cpu(), torch.cat(ablated).cpu()


def ablate_blocks(model: nn.Module, x: torch.Tensor, target: int | None = None, *, mode: str = "mean",
                  blocks: list[BlockInfo] | None = None) -> Ablation:
    """Ablate every SE block in turn for one image ``x`` [1, 3, H, W]; ``target`` defaults to the prediction.

    The model must be in eval mode; ``blocks`` (with their grids) label the result.
    """
    base, ablated = ablation_probabilities(model, x[:1], mode=mode)
    top1 = int(base[0].argmax())
    target = top1 if target is None else int(target)
    p = float(base[0, target])
    blocks = blocks or se_blocks(model)
    rows = [
        BlockAblation(block, float(probs[0, target]), p - float(probs[0, target]), int(probs[0].argmax()) != top1)
        for block, probs in zip(blocks, ablated)
    ]
    return Ablation(mode, target, p, top1, rows)


def batch_drops(model: nn.Module, x: torch.Tensor, targets: list[int], *, mode: str = "mean") -> np.ndarray:
    """[N, B] confidence drop of every image of a batch for every block (for the per-class mean curves)."""
    base, ablated = ablation_probabilities(model, x, mode=mode)
    index = torch.as_tensor(targets).view(-1, 1)
    p = base.gather(1, index)[:, 0]  # [N]
    p_ablated = ablated.gather(2, index.view(1, -1, 1).expand(ablated.shape[0], -1, 1))[..., 0]  # [B, N]
    return (p[None, :] - p_ablated).T.numpy().astype(np.float64)
