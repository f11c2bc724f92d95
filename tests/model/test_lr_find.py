"""The learning-rate finder on a toy problem, and fastai's suggestions on hand-made curves."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from model.core.events import LRFinderResult, LRFinderStep
from model.training.lr_find import suggest_steepest, suggest_valley, sweep


def _toy_step():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    torch.manual_seed(0)
    net = torch.nn.Linear(8, 2)
    opt = torch.optim.SGD(net.parameters(), lr=1e-6)

    def step(lr: float) -> float:
        for group in opt.param_groups:
            group["lr"] = lr
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step


def test_the_sweep_gives_a_curve_and_a_suggestion_where_the_loss_falls():
    events = list(sweep(_toy_step(), start_lr=1e-4, end_lr=1e3, num_steps=80))
    steps = [e for e in events if isinstance(e, LRFinderStep)]
    result = events[-1]
    assert isinstance(result, LRFinderResult)
    assert steps and steps[0].step == 1
    assert list(result.lrs) == sorted(result.lrs)  # exponentially growing
    assert result.lrs[1] / result.lrs[0] > 1.1
    assert len(result.lrs) == len(result.losses) >= 10
    assert 1e-4 <= result.suggestion <= 1e3 and result.suggestion == result.valley
    # At the suggested rate the loss is falling: below where the sweep started.
    i = list(result.lrs).index(result.suggestion)
    assert result.losses[i] < result.losses[0]
    assert 1e-2 < result.suggestion < 1e2


def test_the_sweep_stops_when_the_loss_explodes():
    losses = iter([1.0] * 10 + [10.0 ** k for k in range(1, 60)])
    events = list(sweep(lambda lr: next(losses), num_steps=100))
    assert len([e for e in events if isinstance(e, LRFinderStep)]) < 30


def test_suggestions_on_a_hand_made_curve():
    lrs = [10 ** (-6 + 6 * i / 59) for i in range(60)]
    # flat, then falling between 1e-4 and 1e-2, then exploding
    losses = [2.0 if lr < 1e-4 else 2.0 - 0.5 * math.log10(lr / 1e-4) if lr < 1e-2 else 1.0 + (lr - 1e-2) * 50 for lr in lrs]
    assert 1e-4 <= suggest_valley(lrs, losses) <= 1e-2
    assert 1e-4 <= suggest_steepest(lrs, losses) <= 1e-2
