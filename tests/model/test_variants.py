import math

import pytest
import torchvision.models as tvm

from model.core.errors import StudioError
from model.nets.network import build_model, count_parameters, replace_head, set_backbone_trainable
from model.core.variants import ALPHA, BETA, GAMMA, VARIANT_NAMES, VARIANTS, get_variant

EXPECTED_PARAMS = {
    "b0": 5_288_548, "b1": 7_794_184, "b2": 9_109_994, "b3": 12_233_232,
    "b4": 19_341_616, "b5": 30_389_784, "b6": 43_040_704, "b7": 66_347_960,
}


def test_table_covers_b0_to_b7_in_order():
    assert VARIANT_NAMES == ("b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7")


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_params_match_torchvision_metadata(name):
    assert VARIANTS[name].params == EXPECTED_PARAMS[name]


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_the_torch_free_table_matches_torchvisions_weight_metadata(name):
    # model.core copies these facts so that it needs no torch; this catches a torchvision that changes them.
    weights = getattr(tvm, f"EfficientNet_{name.upper()}_Weights").DEFAULT
    meta, recipe, v = weights.meta, weights.transforms(), VARIANTS[name]
    assert v.params == meta["num_params"] and v.gflops == pytest.approx(meta["_ops"])
    assert v.top1 == pytest.approx(meta["_metrics"]["ImageNet-1K"]["acc@1"])
    assert v.top5 == pytest.approx(meta["_metrics"]["ImageNet-1K"]["acc@5"])
    assert v.download_mb == pytest.approx(meta["_file_size"])
    prep = v.eval_preprocessing
    assert (prep.resize_size, prep.crop_size) == (recipe.resize_size[0], recipe.crop_size[0])
    assert prep.interpolation == recipe.interpolation.value
    assert prep.mean == pytest.approx(tuple(recipe.mean)) and prep.std == pytest.approx(tuple(recipe.std))


@pytest.mark.parametrize("name", ["b0", "b3"])
def test_params_match_a_built_network(name):
    # Build (random weights, fast) and count: the table must describe the real network.
    assert count_parameters(build_model(name)) == EXPECTED_PARAMS[name]


def test_metadata_is_monotone_in_phi():
    vs = [VARIANTS[n] for n in VARIANT_NAMES]
    assert all(a.gflops < b.gflops for a, b in zip(vs, vs[1:]))
    assert all(a.phi < b.phi for a, b in zip(vs, vs[1:]))
    assert vs[0].top1 == pytest.approx(77.692)
    assert vs[0].phi == pytest.approx(0.0)


def test_phi_is_computed_from_the_multipliers():
    b3 = VARIANTS["b3"]
    logs = [math.log(ALPHA), math.log(BETA), math.log(GAMMA)]
    mults = [1.4, 1.2, 300 / 224]
    expected = sum(math.log(m) * l for m, l in zip(mults, logs)) / sum(l * l for l in logs)
    assert b3.phi == pytest.approx(expected)
    assert b3.phi_depth == pytest.approx(math.log(1.4) / math.log(1.2))


def test_eval_preprocessing_comes_from_torchvision_weights():
    b1 = VARIANTS["b1"].eval_preprocessing
    t = tvm.EfficientNet_B1_Weights.DEFAULT.transforms()
    assert (b1.crop_size, b1.resize_size) == (t.crop_size[0], t.resize_size[0])
    assert b1.interpolation == t.interpolation.value


def test_get_variant_accepts_spellings_and_refuses_unknown():
    assert get_variant("B3") is VARIANTS["b3"]
    assert get_variant("efficientnet_b7") is VARIANTS["b7"]
    with pytest.raises(StudioError, match="b0"):
        get_variant("b9")


def test_replace_head_and_freeze():
    m = build_model("b0")
    replace_head(m, 3)
    assert m.classifier[-1].out_features == 3
    set_backbone_trainable(m, False)
    assert not any(p.requires_grad for p in m.features.parameters())
    assert all(p.requires_grad for p in m.classifier.parameters())
