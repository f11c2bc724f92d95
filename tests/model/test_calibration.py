"""Temperature scaling, ECE and the EMA of the weights."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from model.training.calibration import calibrated_probs, expected_calibration_error, fit_temperature, reliability_bins
from model.training.ema import ModelEma, decay_for_steps


def test_temperature_lowers_the_nll_of_an_overconfident_toy_model():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (400,), generator=g)
    logits = torch.randn(400, 4, generator=g)
    logits[torch.arange(400), labels] += 1.5  # right about 70 % of the time …
    logits = logits * 6  # … but far too sure of itself
    t = fit_temperature(logits, labels)
    assert t > 2
    before = F.cross_entropy(logits, labels)
    after = F.cross_entropy(logits / t, labels)
    assert after < before - 0.5
    assert expected_calibration_error(calibrated_probs(logits, t), labels) < expected_calibration_error(logits.softmax(1), labels)
    # Predictions never change.
    assert torch.equal(calibrated_probs(logits, t).argmax(1), logits.argmax(1))


def test_ece_matches_a_hand_worked_example():
    probs = torch.tensor(
        [
            [0.90, 0.05, 0.05],  # right, conf 0.9  → bin (0.867, 0.933]
            [0.05, 0.90, 0.05],  # wrong, conf 0.9  → same bin: accuracy 0.5
            [0.65, 0.20, 0.15],  # right, conf 0.65 → bin (0.6, 0.667]
            [0.35, 0.33, 0.32],  # right, conf 0.35 → bin (0.333, 0.4]
        ]
    )
    labels = torch.tensor([0, 0, 0, 0])
    # 2/4·|0.5 − 0.9| + 1/4·|1 − 0.65| + 1/4·|1 − 0.35| = 0.2 + 0.0875 + 0.1625
    assert expected_calibration_error(probs, labels) == pytest.approx(0.45, abs=1e-6)
    bins = reliability_bins(probs, labels)
    assert len(bins.counts) == 15 and sum(bins.counts) == 4
    assert bins.counts[13] == 2 and bins.accuracy[13] == pytest.approx(0.5)
    assert bins.to_dict()["accuracy"][0] is None  # empty bins are null in JSON


def test_a_validation_set_without_mistakes_does_not_make_every_answer_certain():
    # Every answer right with a clear margin: the plain NLL keeps falling as T → 0, which would
    # make the model's future mistakes read "100 %". The prior keeps T near where the data stop saying.
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 10, (300,), generator=g)
    logits = torch.randn(300, 10, generator=g)
    logits[torch.arange(300), labels] += 6
    assert (logits.argmax(1) == labels).all()
    assert fit_temperature(logits, labels) > 0.3
    # With mistakes in the data the prior hardly matters: the fit is the NLL's optimum within 5 %.
    noisy = labels.clone()
    noisy[:60] = (noisy[:60] + 1) % 10
    log_ts = torch.linspace(-3, 3, 601)
    best = log_ts[torch.stack([F.cross_entropy(logits / t.exp(), noisy) for t in log_ts]).argmin()].exp()
    assert fit_temperature(logits, noisy) == pytest.approx(float(best), rel=0.05)


def test_temperature_without_data_is_one():
    assert fit_temperature(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)) == 1.0


def test_ema_decay_follows_the_run_length_and_the_average_follows_the_weights():
    assert decay_for_steps(300) == pytest.approx(1 - 1 / 30)
    assert decay_for_steps(10_000) > decay_for_steps(300)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ema = ModelEma(net, decay=0.9)
    assert ema.current_decay() == 0.0  # timm's warm-up: the first update copies
    with torch.no_grad():
        net[0].weight.add_(1.0)
    before = ema.module[0].weight.clone()
    ema.update(net)
    assert torch.allclose(ema.module[0].weight, net[0].weight)
    for _ in range(50):
        ema.update(net)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    ema.update(net)
    gap = (net[0].weight.detach() - ema.module[0].weight).abs().max()
    assert 0.5 < float(gap) < 1.0  # moved towards the new weights by at most 1 − decay … plus warm-up
    assert not torch.equal(before, ema.module[0].weight)
    assert all(not p.requires_grad for p in ema.module.parameters())
    state = ema.state_dict()
    other = ModelEma(net, decay=0.5)
    other.load_state_dict(state)
    assert other.step == ema.step and other.decay == 0.9
