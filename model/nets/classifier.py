"""A ready-to-use classifier: network, class names and the preprocessing it expects.

``load_classifier`` is the one place that turns "variant + weights choice" or
"a bundle file" into a network in eval mode on the CPU. The predictor, the
attention views, evaluation and export all start from a ``Classifier``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from model.core.variants import Preprocessing, Variant, get_variant
from model.nets.weights import (
    ProgressCallback,
    WeightsFile,
    imagenet_weights_enum,
    load_imagenet_weights,
    load_weights_file,
)

RANDOM_WEIGHTS_SEED = 0


@dataclass
class Classifier:
    """A network in eval mode on the CPU and what is needed to use it."""

    model: nn.Module
    variant: Variant
    class_names: list[str]
    preprocessing: Preprocessing
    source: str  # for people: "ImageNet weights", "random weights", "run <run folder>", "bundle pets.pt", …
    temperature: float = 1.0  # calibration: probabilities are softmax(logits / temperature)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def imagenet_class_names(variant: str | Variant = "b0") -> list[str]:
    """The 1000 ImageNet category names from torchvision's weight metadata."""
    return list(imagenet_weights_enum(variant).meta["categories"])


def _model_from(wf: WeightsFile, v: Variant) -> nn.Module:
    from model.nets.network import build_empty_model

    # The weights were checked key by key, so assign them straight into an empty
    # network instead of paying for a random initialisation first.
    net = build_empty_model(v, num_classes=wf.num_classes)
    net.load_state_dict(wf.state_dict, strict=True, assign=True)
    return net.eval()


def _class_names_for(wf: WeightsFile, v: Variant) -> list[str]:
    if wf.class_names is not None:
        return list(wf.class_names)
    if wf.num_classes == 1000:
        return imagenet_class_names(v)
    return [f"class {i}" for i in range(wf.num_classes)]


def random_model(v: Variant) -> nn.Module:
    """The variant with random weights, the same ones on every call.

    Seeded so that random-weight predictions are reproducible, and so that the
    weights hash to one ONNX graph cache entry (model.inference.runtime) that is exported
    once, rather than a new 20–260 MB graph on every load.
    """
    import torch

    from model.nets.network import build_model

    with torch.random.fork_rng(devices=[]):  # leave the caller's random state as it was
        torch.manual_seed(RANDOM_WEIGHTS_SEED)
        return build_model(v).eval()


def load_classifier(
    variant: str | Variant = "b0",
    weights: str | os.PathLike = "imagenet",
    *,
    bundle: str | os.PathLike | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Classifier:
    """Build a classifier from a variant and a weights choice, or from a bundle.

    ``weights`` is ``"imagenet"`` (from the cache, downloaded when missing with
    ``progress``/``cancel`` passed through; ``WeightsOfflineError`` offline),
    ``"random"`` (seeded: the same weights every time), or the path of a
    ``.pth``/``.pt`` state dict or bundle made for ``variant``. With ``bundle``
    the bundle's own variant, classes and preprocessing are used and
    ``variant``/``weights`` are ignored.
    """
    from model.core.model_names import bundle_title
    from model.nets.bundle import load_bundle

    if bundle is not None:
        b = load_bundle(bundle)
        return Classifier(
            b.build_model(), get_variant(b.variant), list(b.class_names), b.preprocessing, bundle_title(bundle), b.temperature
        )

    v = variant if isinstance(variant, Variant) else get_variant(variant)
    # A str is a keyword or a path; a Path object is always a path.
    choice = weights if isinstance(weights, str) else None
    if choice == "random":
        return Classifier(random_model(v), v, imagenet_class_names(v), v.eval_preprocessing, "random weights")
    if choice == "imagenet":
        wf = load_imagenet_weights(v, progress=progress, cancel=cancel)
        return Classifier(_model_from(wf, v), v, imagenet_class_names(v), v.eval_preprocessing, "ImageNet weights")

    wf = load_weights_file(weights, v)
    what = "bundle" if wf.is_bundle else "weights file"
    return Classifier(
        _model_from(wf, v),
        v,
        _class_names_for(wf, v),
        wf.preprocessing or v.eval_preprocessing,
        f"{what} {Path(weights).name}",
    )
