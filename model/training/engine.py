"""Fine-tuning on the user's own folders: ``train(config, control)`` is a generator of events.

The GUI worker, the CLI and the tests all iterate the same generator. Every
event is a frozen dataclass from ``model.core.events``; between any two training steps
the engine checks ``TrainControl`` (``model.core.train_control``; ``TrainConfig`` is in
``model.core.train_config``, both re-exported here) so pause, resume and stop act within one step.
Stopping still writes the best bundle and the last checkpoint.

Two modes:
- ``head``: a new classifier on the frozen backbone. The backbone's features are
  computed once (``model.training.features``), so epochs after the first cost almost nothing.
  Augmentation is off: the features are of the unaugmented images.
- ``full``: everything trains, optionally after ``warmup_epochs`` with the backbone
  frozen, and then at a lower learning rate for a pretrained backbone.

The run folder layout is described in ``model.training.checkpoint``.
"""

from __future__ import annotations

import random
from dataclasses import fields
from typing import Iterator

import numpy as np
import torch

from model.core.events import EpochMetrics
from model.core.train_config import DEFAULT_EPOCHS, MODES, TrainConfig, check_config
from model.core.train_control import TrainControl


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def start_network(variant: str, weights: str, class_names: list[str]):
    """(network with a head for ``class_names``, variant name, pretrained?, human source, notices)."""
    from model.nets.network import build_model, replace_head

    notices = []
    if weights == "auto":
        try:
            from model.nets.weights import is_imagenet_cached

            cached = is_imagenet_cached(variant)
        except ImportError:
            cached = False
        if not cached:
            notices.append(
                f"ImageNet weights for {variant.upper()} are not on disk, so training starts from random weights "
                "(download them first to fine-tune instead, which needs far less data)."
            )
            weights = "random"
        else:
            weights = "imagenet"
    if weights == "random":
        net = build_model(variant, num_classes=len(class_names))
        _quiet_head(net)
        return net, variant, False, "random weights", notices
    from model.nets.classifier import load_classifier  # imported only when pretrained weights are asked for

    clf = load_classifier(variant, weights)
    net = clf.model
    if list(clf.class_names) != list(class_names):
        replace_head(net, len(class_names))
        _quiet_head(net)
    return net, clf.variant.name, True, clf.source, notices


def _quiet_head(net) -> None:
    """Start a new head near zero: torchvision's uniform(±1/√classes) on 1280 features gives logits of
    several units, a first loss far above ln(classes), and early steps spent undoing it."""
    from model.nets.network import classifier_linear

    head = classifier_linear(net)
    torch.nn.init.normal_(head.weight, std=0.01)
    torch.nn.init.zeros_(head.bias)


def history_events(history: list[dict]) -> tuple[EpochMetrics, ...]:
    names = {f.name for f in fields(EpochMetrics)}
    return tuple(EpochMetrics(**{k: v for k, v in row.items() if k in names}) for row in history)


def train(config: TrainConfig, control: TrainControl | None = None) -> Iterator[object]:
    """Train as ``config`` says, yielding events; see ``model.core.events`` for what each one means."""
    from model.training.trainer import Trainer

    check_config(config)
    trainer = Trainer(config, control or TrainControl())
    yield from trainer.run()


__all__ = [
    "DEFAULT_EPOCHS", "MODES", "TrainConfig", "TrainControl", "check_config",
    "train", "start_network", "seed_everything", "history_events",
]
