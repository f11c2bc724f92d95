"""The registry of explanation methods, the CAM layer rule, and agreement with the ``grad-cam`` package."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.explain.attention import analyse_tensor
from model.explain.explainer import Explainer
from model.explain.layers import cam_layers, choose_cam_layer
from model.explain.methods import METHODS, get_method, method_names
from model.nets.network import build_model
from tests.model.attention_models import calibrated_b0


@pytest.fixture(scope="module")
def b0():
    return calibrated_b0()


@pytest.fixture(scope="module")
def explainer(b0):
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    return Explainer(b0, analyse_tensor(b0, x, target_classes=[2]))


def test_registry_lists_every_method_once_with_its_needs():
    assert method_names() == ("se", "change", "gradcam", "gradcam++", "scorecam", "random")
    assert method_names(per_block=True) == ("se", "change")
    assert [n for n, m in METHODS.items() if m.needs_gradients] == ["gradcam", "gradcam++"]
    assert all(m.label and m.description for m in METHODS.values())
    with pytest.raises(ValueError, match="unknown explanation method 'lime'"):
        get_method("lime")


def test_the_cli_map_choices_come_from_the_registry():
    from model.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    attention = sub.choices["attention"]
    choices = next(a.choices for a in attention._actions if a.dest == "map")
    assert tuple(choices) == method_names()


@pytest.mark.parametrize("size, index, grid", [(32, 3, (4, 4)), (64, 5, (4, 4)), (224, 8, (7, 7))])
def test_cam_layer_is_the_deepest_stage_with_a_grid_of_at_least_4(size, index, grid):
    model = build_model("b0", num_classes=3).eval()
    layers = cam_layers(model, (size, size))
    with torch.no_grad():  # the computed grids are the real ones
        a = torch.zeros(1, 3, size, size)
        for stage, layer in zip(model.features, [None, *layers]):
            a = stage(a)
            if layer is not None:
                assert tuple(a.shape[-2:]) == layer.grid and a.shape[1] == layer.channels
    chosen = choose_cam_layer(model, (size, size))
    assert (chosen.index, chosen.grid, chosen.name) == (index, grid, f"features.{index}")
    assert choose_cam_layer(model, (size, size), -1).index == 8  # the user's choice wins
    with pytest.raises(ValueError, match="no CAM layer features.0"):
        choose_cam_layer(model, (size, size), 0)


def test_every_map_states_its_grid_and_where_it_was_taken(explainer):
    for name in method_names():
        smap = explainer.map(name)
        assert smap.kind == name and smap.image.shape == (64, 64) and smap.grid == smap.raw.shape
        if METHODS[name].per_block:
            assert smap.block.depth == 10 and smap.grid == (4, 4)  # s5 b3: the deepest SE block at 4×4
        else:
            assert smap.layer is not None and smap.grid == smap.layer.grid
    assert explainer.map("gradcam").layer.index == 5
    assert explainer.map("scorecam").layer.index == 4  # same 4×4 grid, 80 channels instead of 112
    assert explainer.map("gradcam", layer=3).grid == (8, 8)


def _package_cam(cls, model, layer, x, target):
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    with cls(model=model, target_layers=[model.features[layer]]) as reference:
        return reference(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]


@pytest.mark.parametrize("name", ["gradcam++", "scorecam"])
def test_gradcam_plus_plus_and_score_cam_agree_with_the_grad_cam_package(b0, explainer, name):
    from pytorch_grad_cam import GradCAMPlusPlus, ScoreCAM

    cls = {"gradcam++": GradCAMPlusPlus, "scorecam": ScoreCAM}[name]
    for layer in (None, 3):
        ours = explainer.map(name, layer=layer)
        expected = _package_cam(cls, b0, ours.layer.index, explainer.x, 2)
        assert expected.std() > 0.05  # a real map, not a degenerate constant
        np.testing.assert_allclose(ours.image, expected, atol=2e-3)
    b0.zero_grad(set_to_none=True)
