"""SE recording and the attention views: block counts, shapes, hooks, unmodified records, Grad-CAM."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.ops.misc import SqueezeExcitation

from model.explain.attention import SERecorder, analyse_image, analyse_tensor, se_blocks, se_spatial_map
from model.core.errors import ImageError
from model.nets.network import build_model
from model.core.variants import get_variant
from tests.model.attention_models import calibrated_b0, hook_count

EXPECTED_BLOCKS = {"b0": 16, "b1": 23, "b2": 23, "b3": 26, "b4": 32, "b5": 39, "b6": 45, "b7": 55}


@pytest.fixture(scope="module")
def b0():
    return calibrated_b0()


@pytest.fixture(scope="module")
def batch():
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def result(b0, batch):
    """One analysis shared by the read-only tests (views are cached on it, which they may observe)."""
    return analyse_tensor(b0, batch)


@pytest.mark.parametrize("variant", list(EXPECTED_BLOCKS))
def test_block_count_per_variant(variant):
    with torch.device("meta"):  # no weights allocated: B7 is read in milliseconds
        model = build_model(variant)
    blocks = se_blocks(model)
    assert len(blocks) == EXPECTED_BLOCKS[variant]
    assert [b.depth for b in blocks] == list(range(len(blocks)))
    assert blocks[0].stage == 1 and blocks[-1].stage == 7


def test_block_names_after_a_forward_pass(b0, result):
    names = [b.name for b in result.blocks]
    assert names[0] == "stage 1 · block 1 · 32 ch · 32×32"
    assert "stage 4 · block 2 · 480 ch · 4×4" in names
    assert names[-1] == "stage 7 · block 1 · 1152 ch · 2×2"
    assert result.blocks[0].file_stem == "00_stage1_block1"
    assert result.blocks[15].file_stem == "15_stage7_block1"
    # Before a forward pass the grid is unknown and the name says nothing about it.
    assert se_blocks(b0)[0].name == "stage 1 · block 1 · 32 ch"


def test_shapes_gate_range_and_logits(b0, batch, result):
    assert result.num_blocks == 16 and result.batch_size == 2
    for block, s, u in zip(result.blocks, result.excitations, result.inputs):
        assert s.shape == (2, block.channels) and s.dtype == np.float32
        assert tuple(u.shape) == (2, block.channels, *block.grid)
        assert (s > 0).all() and (s < 1).all()
    with torch.no_grad():
        expected = b0(batch).numpy()
    np.testing.assert_allclose(result.logits, expected, rtol=1e-5, atol=1e-5)
    assert result.gradcam.shape == (2, 4, 4)  # features.5: at 64 px the last stage is only 2×2 (issue 17)
    assert result.target_classes == expected.argmax(axis=1).tolist()
    assert sum(c.probability for c in result.top_classes(0, k=6)) == pytest.approx(1.0)


def test_hooks_are_removed_after_analysis(b0, batch):
    before = hook_count(b0)
    analyse_tensor(b0, batch)
    assert hook_count(b0) == before
    assert not b0.training


def test_hooks_are_removed_when_the_forward_pass_raises(b0, batch):
    def explode(module, args, output):
        raise RuntimeError("boom mid-forward")

    trap = b0.features[4].register_forward_hook(explode)
    try:
        before = hook_count(b0)
        with pytest.raises(RuntimeError, match="boom"):
            analyse_tensor(b0, batch)
        assert hook_count(b0) == before
        recorder = SERecorder(b0)
        with pytest.raises(RuntimeError, match="boom"), recorder, torch.no_grad():
            b0(batch)
        assert hook_count(b0) == before and not recorder.attached
        assert recorder.excitations[0] is not None and recorder.excitations[-1] is None
    finally:
        trap.remove()


def test_records_match_a_manual_recomputation(b0, batch):
    """s, U and M from the hooks equal a recomputation from each block's own input."""
    block_inputs = {}
    handles = [
        stage_block.register_forward_pre_hook(lambda m, args, i=i: block_inputs.__setitem__(i, args[0].clone()))
        for i, stage_block in enumerate(b for stage in b0.features[1:8] for b in stage)
    ]
    try:
        result = analyse_tensor(b0, batch)
    finally:
        for h in handles:
            h.remove()
    mbconvs = [b for stage in b0.features[1:8] for b in stage]
    with torch.no_grad():
        for depth, mbconv in enumerate(mbconvs):
            layers = list(mbconv.block)
            se_at = next(k for k, layer in enumerate(layers) if isinstance(layer, SqueezeExcitation))
            u = nn.Sequential(*layers[:se_at])(block_inputs[depth])
            s = layers[se_at]._scale(u).flatten(1)
            np.testing.assert_allclose(result.inputs[depth], u.numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(result.excitations[depth], s.numpy(), rtol=1e-5, atol=1e-6)
            manual = torch.relu((s[:, :, None, None] * u).sum(1))[1]
            np.testing.assert_allclose(result.spatial_map(depth, i=1).raw, manual.numpy(), rtol=1e-4, atol=1e-5)


def test_recorded_input_is_a_copy_that_in_place_ops_cannot_change():
    class InPlaceAfterSE(nn.Module):
        """Like MBConv's ``result += input``: a tensor the SE saw is changed in place afterwards."""

        def __init__(self):
            super().__init__()
            self.se = SqueezeExcitation(4, 2)

        def forward(self, u):
            out = self.se(u)
            u += 1000.0
            return out

    toy = InPlaceAfterSE().eval()
    u = torch.rand(1, 4, 3, 3)
    original = u.clone()
    with SERecorder(toy) as rec, torch.no_grad():
        toy(u)
    assert u.min() >= 1000  # the in-place add happened …
    torch.testing.assert_close(rec.inputs[0], original)  # … and the record kept the values the SE saw


def test_one_spatial_map_per_block_normalised_and_cached(result):
    maps = result.spatial_maps(i=0)
    assert len(maps) == result.num_blocks
    for block, m in zip(result.blocks, maps):
        assert m.block == block and m.raw.shape == block.grid and m.image.shape == (64, 64)
        assert m.image.min() >= 0 and m.image.max() <= 1
        slack = 1e-5 * float(np.abs(m.raw).max()) + 1e-7  # float32 rounding of the blend
        assert m.raw.min() - slack <= m.vmin <= m.vmax <= m.raw.max() + slack
        if m.vmax > m.vmin:
            assert m.image.max() == pytest.approx(1.0)
    assert result.spatial_map(3) is result.spatial_map(3)  # a slider revisiting a block pays nothing


def test_what_se_changed_uses_centred_gates(result):
    s = torch.from_numpy(result.excitations[5][:1])
    u = torch.from_numpy(result.inputs[5][:1])
    expected = torch.relu(((s - s.mean()).view(1, -1, 1, 1) * u).sum(1))[0]
    changed = result.spatial_map(5, kind="change")
    np.testing.assert_allclose(changed.raw, expected.numpy(), rtol=1e-4, atol=1e-5)
    assert not np.allclose(changed.raw, result.spatial_map(5).raw)
    with pytest.raises(ValueError):
        result.spatial_map(5, kind="nonsense")


def test_se_spatial_map_on_known_numbers():
    s = torch.tensor([[0.2, 0.8]])
    u = torch.tensor([[[[1.0, -1.0]], [[2.0, -3.0]]]])  # [1, 2, 1, 2]
    torch.testing.assert_close(se_spatial_map(s, u), torch.tensor([[[1.8, 0.0]]]))
    # centred gates (-0.3, 0.3): 0.3·(2 − 1) = 0.3 and 0.3·(−3 + 1) < 0 → 0
    torch.testing.assert_close(se_spatial_map(s, u, centred=True), torch.tensor([[[0.3, 0.0]]]))


def test_gradcam_agrees_with_the_grad_cam_package(b0):
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    x = torch.randn(2, 3, 96, 96, generator=torch.Generator().manual_seed(7))  # a 3×3 last-stage grid
    # At the last stage (chosen explicitly: 3×3 is below the default's 4×4) and at the default stage (6×6).
    for targets, layer in ((None, -1), ([4, 1], -1), ([4, 1], None)):
        result = analyse_tensor(b0, x, target_classes=targets, cam_layer=layer)
        assert result.cam_layer.index == (8 if layer == -1 else 5)
        assert result.gradcam_map().grid == ((3, 3) if layer == -1 else (6, 6))
        chosen = result.target_classes
        with GradCAM(model=b0, target_layers=[b0.features[result.cam_layer.index]]) as reference:
            expected = reference(input_tensor=x, targets=[ClassifierOutputTarget(c) for c in chosen])
        for i in range(2):
            assert expected[i].std() > 0.05  # a real map, not a degenerate constant
            np.testing.assert_allclose(result.gradcam_map(i).image, expected[i], atol=1e-4)
    assert result.target_classes == [4, 1]
    b0.zero_grad(set_to_none=True)


def test_gate_map_layout_and_hover_lookup(result):
    gates = result.gate_map(i=1)
    assert gates.values.shape == (16, 1152) and gates.order == "sorted"
    for row, block in enumerate(result.blocks):
        s = result.excitation(row, i=1)
        assert set(gates.channels[row].tolist()) == set(range(block.channels))  # no channel dropped
        np.testing.assert_array_equal(gates.values[row], s[gates.channels[row]])
        assert (np.diff(gates.values[row]) <= 0).all()  # sorted high to low
    plain = result.gate_map(i=1, order="channel", width=64)
    assert plain.values.shape == (16, 64)
    assert (np.diff(plain.channels[15]) >= 0).all()
    # Hovering pixel (x, y) of a 640×160 rendering: row y // 10, cell x // 10 of 64.
    cell = plain.cell_at_pixel(125, 47, 640, 160)
    assert cell.block == result.blocks[4]
    assert cell.channel == plain.channels[4, 12]
    assert cell.value == pytest.approx(float(result.excitation(4, i=1)[cell.channel]))
    assert plain.cell_at_pixel(640, 0, 640, 160) is None


def test_spatial_map_hover_value(result):
    m = result.spatial_map(2)  # 16×16 grid shown at 64×64
    assert m.grid_cell(63.9, 0) == (0, 15)
    assert m.value_at(9, 5) == pytest.approx(float(m.raw[1, 2]))


def test_analyse_image_from_a_file_and_a_bad_file(b0, image_factory, tmp_path):
    prep = get_variant("b0").eval_preprocessing.at_size(64)
    path = image_factory("photo.png", size=(80, 64), seed=3)
    result = analyse_image(b0, path, preprocessing=prep, class_names=list("abcdef"), target_class=2)
    assert result.images.shape == (1, 64, 64, 3) and result.images.dtype == np.uint8
    assert result.target_classes == [2] and result.top_classes(0, 1)[0].label in "abcdef"
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not really a jpeg")
    with pytest.raises(ImageError):
        analyse_image(b0, bad, preprocessing=prep)


def test_a_model_in_training_mode_is_analysed_in_eval_mode_and_restored(b0, batch):
    expected = analyse_tensor(b0, batch)
    b0.train()
    try:
        result = analyse_tensor(b0, batch)
        assert b0.training  # put back as it was
    finally:
        b0.eval()
    np.testing.assert_array_equal(result.logits, expected.logits)  # dropout and batch statistics were off
