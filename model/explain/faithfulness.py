"""How far to trust a saliency map: deletion and insertion curves and their AUC (RISE, Petsiuk et al. 2018).

Deletion removes the pixels the map rates most important first, replacing them
with the baseline, and tracks the probability of the explained class; a faithful
map makes it fall fast (low AUC). Insertion starts from the baseline and puts
the most important pixels back first; a faithful map makes the probability rise
fast (high AUC).

The baseline is the constant mean colour (zero in the network's normalised
input), as RISE's deletion uses. RISE starts insertion from a blurred copy
instead, but a blur does not remove what small or blocky images show: on a B0
trained on digits at 64 px the fully blurred image (σ = 1/16 of the side) kept
p(class) at 0.91 on average, so every map, the random one included, scored the
same insertion AUC (0.90). The constant image scores 0.10 there, chance for ten
classes, so both curves start from no evidence. Both use ``STEPS`` equal steps of
the pixel ranking (so ``STEPS + 1`` points from 0 % to 100 %), as RISE and the
``grad-cam`` package's metrics do, and all the perturbed images of one map go
through the network in a few batches.

Random maps scored the same way are the baseline: a map whose deletion AUC is
not below theirs, or whose insertion AUC is not above it, carries no evidence
about the prediction. The baseline is the mean of a few draws at the map's grid,
in antithetic pairs (``random_grids``), because any single draw prefers some
cells, and a preference for the centre looks like evidence on centred objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

STEPS = 20
BATCH = 42  # perturbed images per forward pass: both curves of one map (2 × 21) in a single batch


@dataclass(frozen=True)
class Faithfulness:
    """Deletion and insertion curves of one map for one class, and their areas."""

    fractions: np.ndarray  # [STEPS + 1] share of pixels removed (deletion) or inserted (insertion)
    deletion: np.ndarray  # [STEPS + 1] p(target) as the most important pixels are replaced by the baseline
    insertion: np.ndarray  # [STEPS + 1] p(target) as they are put back into the baseline
    target: int

    @property
    def deletion_auc(self) -> float:
        return auc(self.fractions, self.deletion)

    @property
    def insertion_auc(self) -> float:
        return auc(self.fractions, self.insertion)

    def to_dict(self) -> dict:
        return {"deletion_auc": self.deletion_auc, "insertion_auc": self.insertion_auc}


def auc(x: np.ndarray, y: np.ndarray) -> float:
    """Area under the curve (trapezoid rule); with x from 0 to 1 it is the curve's mean height."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def constant_baseline(x: torch.Tensor) -> torch.Tensor:
    """The image with no evidence left: the mean colour everywhere (zero in the normalised input)."""
    return torch.zeros_like(x)


def pixel_order(saliency: np.ndarray, seed: int = 0) -> np.ndarray:
    """Flat pixel indices, most important first; ties (flat areas, zeros after ReLU) in a seeded random order,
    so a flat region is not removed from the top down."""
    values = np.asarray(saliency, np.float64).ravel()
    tie_break = np.random.default_rng(seed).random(values.size)
    return np.lexsort((tie_break, -values))


def perturbation_masks(order: np.ndarray, size: tuple[int, int], steps: int = STEPS) -> torch.Tensor:
    """[steps + 1, 1, H, W] masks: mask k is 1 on the first k/steps of ``order`` (the pixels taken so far)."""
    n = size[0] * size[1]
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    counts = np.round(np.linspace(0, n, steps + 1)).astype(np.int64)
    masks = rank[None, :] < counts[:, None]
    return torch.from_numpy(masks.reshape(steps + 1, 1, *size).astype(np.float32))


def probabilities(model: nn.Module, images: torch.Tensor, target: int, batch_size: int = BATCH) -> np.ndarray:
    """p(target) of every image, in batches, without autograd."""
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start : start + batch_size]).float()
            out.append(torch.softmax(logits, dim=1)[:, target].cpu())
    return torch.cat(out).numpy().astype(np.float64)


def faithfulness(
    model: nn.Module,
    x: torch.Tensor,
    saliency: np.ndarray,
    target: int,
    *,
    steps: int = STEPS,
    baseline: torch.Tensor | None = None,
    seed: int = 0,
    batch_size: int = BATCH,
) -> Faithfulness:
    """Deletion and insertion curves of ``saliency`` [H, W] (any scale, higher = more important) for image
    ``x`` [1, 3, H, W] and class ``target``, on the model's device; the model must be in eval mode."""
    size = tuple(int(s) for s in x.shape[-2:])
    if tuple(saliency.shape) != size:
        raise ValueError(f"the map is {saliency.shape}, the image {size}: upsample the map first")
    if baseline is None:
        baseline = constant_baseline(x)
    masks = perturbation_masks(pixel_order(saliency, seed), size, steps).to(x.device, x.dtype)
    deleted = x * (1 - masks) + baseline * masks
    inserted = baseline * (1 - masks) + x * masks
    p = probabilities(model, torch.cat([deleted, inserted]), target, batch_size)
    return Faithfulness(np.linspace(0.0, 1.0, steps + 1), p[: steps + 1], p[steps + 1 :], int(target))


RANDOM_DRAWS = 4  # two antithetic pairs: the baseline's scoring costs four maps' worth of forward passes


def random_grids(grid: tuple[int, int], draws: int = RANDOM_DRAWS, seed: int = 0) -> list[torch.Tensor]:
    """``draws`` baseline maps at their own grid, in antithetic pairs: seeded uniform noise, then its reverse
    ranking (1 − noise), so that averaged over a pair every cell is ranked in the middle.

    One draw alone is not "no evidence" but one fixed, arbitrary map: seed 0's 4×4 grid ranks three of the
    four centre cells among its top five, and on centred digits that map "beat" Grad-CAM on insertion
    (0.49 against 0.44) although eight other draws average 0.40.
    """
    rng = np.random.default_rng(seed)
    grids: list[np.ndarray] = []
    while len(grids) < draws:
        noise = rng.random(grid).astype(np.float32)
        grids += [noise, 1.0 - noise]
    return [torch.from_numpy(g) for g in grids[:draws]]


def random_grid(grid: tuple[int, int], seed: int = 0) -> torch.Tensor:
    """The first of the baseline's draws (the one a GUI shows)."""
    return random_grids(grid, 1, seed)[0]


def random_saliency(grid: tuple[int, int], size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """The baseline map upsampled to ``size``, like a CAM of that grid."""
    from model.explain.attention_views import upsample

    return upsample(random_grid(grid, seed), size).numpy()


def mean_faithfulness(scores: list[Faithfulness]) -> Faithfulness:
    """The mean curves of several scores of one image and class (their AUCs are the mean AUCs)."""
    first = scores[0]
    return Faithfulness(first.fractions, np.mean([s.deletion for s in scores], axis=0),
                        np.mean([s.insertion for s in scores], axis=0), first.target)


def random_faithfulness(
    model: nn.Module,
    x: torch.Tensor,
    grid: tuple[int, int],
    target: int,
    *,
    draws: int = RANDOM_DRAWS,
    seed: int = 0,
    steps: int = STEPS,
    batch_size: int = BATCH,
) -> Faithfulness:
    """What a map without evidence scores for ``x`` and ``target``: the mean curves of ``draws`` random maps
    at ``grid`` (``random_grids``), each upsampled to the image like a CAM of that grid."""
    from model.explain.attention_views import upsample

    size = tuple(int(s) for s in x.shape[-2:])
    return mean_faithfulness([
        faithfulness(model, x, upsample(noise, size).numpy(), target, steps=steps, seed=seed, batch_size=batch_size)
        for noise in random_grids(grid, draws, seed)
    ])
