"""What a training run is asked to do: ``TrainConfig`` and the checks that need no torch.

It lives in the torch-free core so the UI can build and validate a config on its own
thread (the form, the CLI's argument parser) before torch is even imported; the
engine (``model.training``) receives it as is.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, fields
from pathlib import Path

from model.core.errors import StudioError

MODES = ("auto", "head", "full")  # auto: head when the backbone is pretrained, full when random
AUGMENT_PRESETS = ("none", "light", "standard", "strong")  # model.training.augment
BALANCE_CHOICES = ("auto", "sampler", "loss", "off")  # model.training.balance
EMA_CHOICES = ("auto", "on", "off")  # model.training.ema
DEFAULT_EPOCHS = 10
FEATURE_CACHES = ("auto", "memory", "disk")


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
    augment: str | bool = "light"  # full mode: "none" | "light" | "standard" | "strong" (True/False: standard/none)
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


def check_config(config: TrainConfig) -> None:
    """Refuse settings that cannot work, with one sentence each, before anything heavy happens."""
    problems = [
        (config.mode not in MODES, f"Unknown training mode {config.mode!r}: use 'auto', 'head' or 'full'."),
        (
            not isinstance(config.augment, bool) and config.augment not in AUGMENT_PRESETS,
            f"Unknown augmentation {config.augment!r}: use none, light, standard or strong.",
        ),
        (config.balance not in BALANCE_CHOICES, "The class balancing must be auto, sampler, loss or off."),
        (config.ema not in EMA_CHOICES, "The weight averaging (EMA) must be auto, on or off."),
        (config.epochs is not None and config.epochs < 1, "The number of epochs must be at least 1."),
        (config.batch_size is not None and config.batch_size < 2, "The batch size must be at least 2 (batch norm needs two images)."),
        (config.image_size is not None and config.image_size < 16, "The image size must be at least 16 pixels."),
        (config.lr is not None and not 0 < config.lr < math.inf, "The learning rate must be a positive (finite) number."),
        (config.patience is not None and config.patience < 1, "The patience must be at least 1 epoch."),
        (config.warmup_epochs is not None and config.warmup_epochs < 0, "Warm-up epochs cannot be negative."),
        (config.dropout is not None and not 0 <= config.dropout < 1, "The dropout rate must be at least 0 and below 1."),
        (config.feature_cache not in FEATURE_CACHES, "The feature cache must be 'auto', 'memory' or 'disk'."),
    ]
    for bad, message in problems:
        if bad:
            raise StudioError(message)
    data, out = Path(config.data_dir).expanduser().resolve(), Path(config.out_dir).expanduser().resolve()
    if out == data or data in out.parents:
        raise StudioError(f"The output folder {out} is inside the dataset: choose a folder outside {data}.")


__all__ = [
    "AUGMENT_PRESETS", "BALANCE_CHOICES", "DEFAULT_EPOCHS", "EMA_CHOICES", "FEATURE_CACHES", "MODES", "TrainConfig", "check_config",
]
