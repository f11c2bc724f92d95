"""Shared by the Attention page tests: a real Predictor around a small calibrated random B0, and class folders."""

from __future__ import annotations

from model.nets.classifier import Classifier
from model.core.variants import get_variant
from tests.model.attention_models import calibrated_b0

PREP = get_variant("b0").eval_preprocessing.at_size(64)
CLASSES = ["cat", "dog", "fish", "bird", "frog", "newt"]
TIMEOUT = 60_000


def make_predictor():
    """A real ``Predictor`` (torch runtime, CPU) on a random B0 at 64 px whose BatchNorm statistics are
    calibrated, so its gates and maps are not flat (tests/model/attention_models.py)."""
    from model.inference.predict import Predictor

    classifier = Classifier(calibrated_b0(), get_variant("b0"), CLASSES, PREP, "calibrated random weights")
    return Predictor.from_classifier(classifier, "cpu", runtime="torch")


def class_folder(image_factory, per_class: int = 2):
    """data/cat (reddish noise) and data/dog (bluish noise) under tmp_path; returns the data folder."""
    for k in range(per_class):
        image_factory(f"data/cat/{k}.png", size=(72, 64), color=(220, 40, 40), seed=k)
        last = image_factory(f"data/dog/{k}.png", size=(72, 64), color=(40, 60, 220), seed=10 + k)
    return last.parent.parent
