"""Fine-tuning on the user's own folders: ``train(config, control)`` is a generator of events.

The GUI worker, the CLI and the tests all iterate the same generator. Every
event is a frozen dataclass from ``model.core.events``; between any two training steps
the engine checks ``TrainControl`` so pause, resume and stop act within one step.
Stopping still writes the best bundle and the last checkpoint.

Two modes, and ``auto`` (the default: head on a pretrained backbone, full on
random weights; ``model.training.auto``):
- ``head``: a new classifier on the frozen backbone. The backbone's features are
  computed once (``model.training.features``), so epochs after the first cost almost nothing.
  Augmentation is off: the features are of the unaugmented images.
- ``full``: everything trains, optionally after ``warmup_epochs`` with the backbone
  frozen, and then at a lower learning rate for a pretrained backbone.

The run folder layout is described in ``model.training.checkpoint``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from model.core.errors import StudioError
from model.core.events import EpochMetrics

MODES = ("auto", "head", "full")
DEFAULT_EPOCHS = 10


@dataclass
class TrainConfig:
    """What to train and how. ``None`` means "choose a good default" (or, on resume, "as before")."""

    data_dir: str | Path
    out_dir: str | Path
    variant: str = "b0"
    weights: str = "auto"  # "auto" (ImageNet if on disk, else random) | "imagenet" | "random" | a file path
    mode: str = "auto"  # "auto" (head when pretrained, full when random) | "head" | "full"
    epochs: int | None = None  # default 10; on resume, more than before extends the run
    batch_size: int | None = None  # None: sized for the device
    lr: float | None = None  # peak learning rate of the head; None: by mode and weights
    image_size: int | None = None  # None: the variant's native resolution
    val_dir: str | Path | None = None
    val_split: float = 0.2
    seed: int = 0
    device: str = "auto"
    resume: bool = False
    patience: int | None = None  # early stopping after this many epochs without a better val accuracy
    warmup_epochs: int | None = None  # full mode: epochs with a frozen backbone first (None: 1 if pretrained)
    backbone_lr_scale: float | None = None  # full mode: backbone LR / head LR (None: 0.1 pretrained, 1 random)
    augment: str | bool = "light"  # full mode: "none" | "light" | "standard" | "strong" (model.training.augment)
    flip: bool = False  # random horizontal flips (full mode); off: wrong for digits, text, anything with a handedness
    balance: str = "auto"  # class imbalance: "auto" (a remedy beyond 3:1) | "sampler" | "loss" | "off"
    ema: str = "auto"  # EMA of the weights: "auto" (full mode) | "on" | "off"
    calibrate: bool = True  # fit a temperature on the validation set after training
    tensorboard: bool | None = None  # event files beside metrics.csv; None: when tensorboard is installed
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    num_workers: int | None = None  # DataLoader workers (None: the device's speed policy)
    feature_cache: str = "auto"  # head mode: "auto" | "memory" | "disk"
    dropout: float | None = None  # dropout before the classifier while training (None: the variant's)

    def to_dict(self) -> dict:
        return {f.name: (str(v) if isinstance(v, Path) else v) for f in fields(self) for v in [getattr(self, f.name)]}


class TrainControl:
    """Pause, resume and stop a running ``train`` generator from another thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused run so it can stop

    @property
    def paused(self) -> bool:
        return not self._running.is_set() and not self._stop.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self) -> None:
        while not self._running.wait(0.2):
            pass


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


def check_config(config: TrainConfig) -> None:
    """Refuse settings that cannot work, with one sentence each, before anything heavy happens."""
    problems = [
        (config.mode not in MODES, f"Unknown training mode {config.mode!r}: use 'auto', 'head' or 'full'."),
        (
            not isinstance(config.augment, bool) and config.augment not in ("none", "light", "standard", "strong"),
            f"Unknown augmentation {config.augment!r}: use none, light, standard or strong.",
        ),
        (config.balance not in ("auto", "sampler", "loss", "off"), "The class balancing must be auto, sampler, loss or off."),
        (config.ema not in ("auto", "on", "off"), "The weight averaging (EMA) must be auto, on or off."),
        (config.epochs is not None and config.epochs < 1, "The number of epochs must be at least 1."),
        (config.batch_size is not None and config.batch_size < 2, "The batch size must be at least 2 (batch norm needs two images)."),
        (config.image_size is not None and config.image_size < 16, "The image size must be at least 16 pixels."),
        (config.lr is not None and not config.lr > 0, "The learning rate must be a positive number."),
        (config.patience is not None and config.patience < 1, "The patience must be at least 1 epoch."),
        (config.warmup_epochs is not None and config.warmup_epochs < 0, "Warm-up epochs cannot be negative."),
        (config.dropout is not None and not 0 <= config.dropout < 1, "The dropout rate must be at least 0 and below 1."),
        (config.feature_cache not in ("auto", "memory", "disk"), "The feature cache must be 'auto', 'memory' or 'disk'."),
    ]
    for bad, message in problems:
        if bad:
            raise StudioError(message)
    data, out = Path(config.data_dir).expanduser().resolve(), Path(config.out_dir).expanduser().resolve()
    if out == data or data in out.parents:
        raise StudioError(f"The output folder {out} is inside the dataset: choose a folder outside {data}.")


def train(config: TrainConfig, control: TrainControl | None = None) -> Iterator[object]:
    """Train as ``config`` says, yielding events; see ``model.core.events`` for what each one means."""
    from model.training.trainer import Trainer

    check_config(config)
    trainer = Trainer(config, control or TrainControl())
    yield from trainer.run()


__all__ = ["TrainConfig", "TrainControl", "train", "start_network", "seed_everything", "history_events"]
