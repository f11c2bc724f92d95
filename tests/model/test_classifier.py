"""load_classifier's random weights: the same on every load, and the caller's random state untouched."""

from __future__ import annotations

import torch

from model.nets.classifier import load_classifier


def test_random_weights_are_the_same_on_every_load_and_leave_the_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = load_classifier("b0", "random")
    assert torch.equal(torch.rand(3), expected_next)  # loading drew nothing from the caller's generator
    second = load_classifier("b0", "random")
    a, b = first.model.state_dict(), second.model.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert first.source == "random weights" and not first.model.training
    # Still random-looking, not a constant: the head's weights are spread out.
    assert float(first.model.classifier[-1].weight.detach().std()) > 0
