"""A learning-rate finder: a short exponential sweep of the learning rate and a suggestion.

As fastai's ``lr_find``: train for up to ``num_steps`` steps while the learning
rate grows exponentially from ``start_lr`` to ``end_lr``, record the smoothed loss
(an exponential average, debiased), and stop once the loss exceeds four times its
best. Two suggestions come from the curve: ``valley`` (fastai's default: the
middle of the longest stretch where the loss keeps falling) and ``steepest``
(where the loss falls fastest against log LR). ``lr_find(config)`` runs it on a
user's data set with the same settings ``train`` would use; its weights are
thrown away afterwards.
"""

from __future__ import annotations

import math
from typing import Callable, Iterator

import numpy as np

from model.core.events import LRFinderStep, LRFinderResult

START_LR, END_LR, NUM_STEPS = 1e-6, 1.0, 100
SMOOTHING = 0.98
STOP_FACTOR = 4.0


def suggest_valley(lrs: list[float], losses: list[float]) -> float:
    """fastai's ``valley``: the longest run of falling losses, then a point 1/2 of the way into it."""
    n = len(losses)
    if n < 2:
        return lrs[0] if lrs else START_LR
    lds = [1] * n  # longest decreasing subsequence ending at i
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max(0, min(n - 1, max_start + int(sections) + int(sections / 2)))
    return float(lrs[idx])


def suggest_steepest(lrs: list[float], losses: list[float]) -> float:
    """fastai's ``steep``: where d(loss)/d(log10 lr) is most negative."""
    if len(losses) < 3:
        return lrs[0] if lrs else START_LR
    grads = np.gradient(np.asarray(losses, dtype=np.float64), np.log10(np.asarray(lrs, dtype=np.float64)))
    return float(lrs[int(np.argmin(grads))])


def sweep(
    step: Callable[[float], float],
    start_lr: float = START_LR,
    end_lr: float = END_LR,
    num_steps: int = NUM_STEPS,
    stopped: Callable[[], bool] = lambda: False,
) -> Iterator[object]:
    """Call ``step(lr)`` (one training step at that rate, returning its loss) for exponentially growing
    rates; yields ``LRFinderStep`` per step and finally one ``LRFinderResult``."""
    lrs: list[float] = []
    losses: list[float] = []
    avg, best = 0.0, math.inf
    for i in range(num_steps):
        if stopped():
            break
        lr = start_lr * (end_lr / start_lr) ** (i / max(1, num_steps - 1))
        loss = float(step(lr))
        if not math.isfinite(loss):
            break
        avg = SMOOTHING * avg + (1 - SMOOTHING) * loss
        smooth = avg / (1 - SMOOTHING ** (i + 1))
        lrs.append(lr)
        losses.append(smooth)
        best = min(best, smooth)
        yield LRFinderStep(i + 1, num_steps, lr, smooth)
        if smooth > STOP_FACTOR * best and i > 5:
            break
    # The last points, where the loss explodes, only stretch the plot; fastai trims them too.
    keep = max(1, len(lrs) - 3) if len(lrs) > 10 else len(lrs)
    lrs, losses = lrs[:keep], losses[:keep]
    valley = suggest_valley(lrs, losses) if lrs else start_lr
    steepest = suggest_steepest(lrs, losses) if lrs else start_lr
    yield LRFinderResult(tuple(lrs), tuple(losses), valley, valley, steepest)


def lr_find(config, control=None, num_steps: int = NUM_STEPS) -> Iterator[object]:
    """The sweep on ``config``'s data with ``config``'s network, mode, augmentation and batch size."""
    from model.training.lr_find_run import SweepRun

    run = SweepRun(config, control)
    yield from run.setup()
    yield from sweep(run.step, num_steps=num_steps, stopped=run.stopped)


__all__ = ["lr_find", "suggest_steepest", "suggest_valley", "sweep"]
