"""The fast classification path (ONNX Runtime, threaded decode) against the plain torchvision recipe."""

import numpy as np
import pytest
import torch
import torchvision.models as tvm
from PIL import Image

from model.classifier import Classifier, imagenet_class_names
from model.predict import Predictor
from model.variants import get_variant
from tests.model.test_predict import calibrated_b0

B0 = get_variant("b0")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Photo-like JPEGs (smooth gradients plus texture) at a camera-ish size."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(4):
        y, x = np.mgrid[0:480, 0:640]
        base = np.stack([(x + 40 * i) % 256, (y * 0.5 + 60 * i) % 256, (x + y) % 256], -1)
        arr = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        path = folder / f"p{i}.jpg"
        Image.fromarray(arr).save(path, quality=90)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def classifier():
    return Classifier(calibrated_b0(), B0, imagenet_class_names("b0"), B0.eval_preprocessing, "test")


def _reference(model, paths):
    """The recipe a Python user would write, with the same weights."""
    tf = tvm.EfficientNet_B0_Weights.DEFAULT.transforms()
    with torch.no_grad():
        return [model(tf(Image.open(p).convert("RGB"))[None]).softmax(1)[0] for p in paths]


def _dense(prediction, classes=1000):
    probs = torch.zeros(classes)
    probs[torch.tensor(prediction.indices)] = torch.tensor(prediction.scores)
    return probs


def test_exact_fast_path_equals_the_reference_within_1e_4(classifier, photos):
    predictor = Predictor.from_classifier(classifier, device="cpu", exact=True)
    assert predictor.runner.name == "onnx"
    ours = predictor.predict(photos, top_k=1000)
    for mine, ref in zip(ours, _reference(classifier.model, photos), strict=True):
        assert float((_dense(mine) - ref).abs().max()) < 1e-4


def test_draft_decoding_stays_close_to_the_reference(classifier, photos):
    # Reduced-scale JPEG decoding changes pixels slightly; probabilities must stay close.
    ours = Predictor.from_classifier(classifier, device="cpu").predict(photos, top_k=1000)
    diffs = [float((_dense(m) - r).abs().max()) for m, r in zip(ours, _reference(classifier.model, photos))]
    assert max(diffs) < 1e-2
