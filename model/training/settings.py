"""``RunSettings``: every setting of a run with its default filled in, typed and frozen.

A ``TrainConfig`` says what the user asked for (``None``: "choose for me");
setup turns it into ``RunSettings`` once, and from then on the run reads typed
fields. The bundle and the checkpoint store the settings as a plain dict (their
on-disk format, readable with ``weights_only=True``): ``to_dict`` and
``from_dict`` convert at that boundary, and ``from_dict`` is the one place that
casts what a file holds, filling in keys that older runs did not write.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from model.core.errors import BundleError
from model.core.states import TrainMode
from model.core.train_config import DEFAULT_EPOCHS, TrainConfig
from model.core.variants import get_variant
from model.training.augment import preset_name
from model.training.auto import resolve_mode
from model.training.schedule import default_lr

# Settings a resumed run takes from the new request when it gives them; the rest come from the checkpoint.
RESUMABLE_OVERRIDES = ("epochs", "device", "num_workers", "patience", "batch_size")


@dataclass(frozen=True)
class RunSettings:
    """A run's resolved settings; the field order is the on-disk order of the bundle's ``config``."""

    data_dir: str
    out_dir: str
    variant: str
    weights: str
    mode: TrainMode
    epochs: int
    batch_size: int
    lr: float
    image_size: int
    val_dir: str | None
    val_split: float
    seed: int
    device: str
    resume: bool
    patience: int | None
    warmup_epochs: int
    backbone_lr_scale: float
    augment: str  # a preset of model.training.augment
    flip: bool
    balance: str  # "auto" | "sampler" | "loss" | "off"
    ema: str  # "auto" | "on" | "off"
    calibrate: bool
    tensorboard: bool | None
    weight_decay: float
    label_smoothing: float
    num_workers: int | None
    feature_cache: str
    dropout: float | None
    pretrained: bool
    weights_source: str

    @property
    def trains_backbone(self) -> bool:
        return self.mode is TrainMode.FULL

    @property
    def augments(self) -> bool:
        """Head mode trains on features of unaugmented images, whatever ``augment`` says."""
        return self.trains_backbone and self.augment != "none"

    def backbone_frozen(self, epoch: int) -> bool:
        return not self.trains_backbone or epoch <= self.warmup_epochs

    def to_dict(self) -> dict[str, Any]:
        """Plain values only (the mode as its text), as bundles and checkpoints store them."""
        return {f.name: (str(v) if isinstance(v, TrainMode) else v) for f in fields(self) for v in [getattr(self, f.name)]}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> "RunSettings":
        """The settings a bundle or checkpoint stored, typed; a ``BundleError`` if they make no sense."""
        defaults = TrainConfig("", "")
        d = {f.name: saved.get(f.name, getattr(defaults, f.name, None)) for f in fields(cls)}
        try:
            variant = get_variant(str(d["variant"]))
            return cls(
                data_dir=str(d["data_dir"]), out_dir=str(d["out_dir"]), variant=variant.name, weights=str(d["weights"]),
                mode=TrainMode(d["mode"]), epochs=int(d["epochs"] or DEFAULT_EPOCHS), batch_size=int(d["batch_size"] or 0),
                lr=float(d["lr"]), image_size=int(d["image_size"] or variant.resolution),
                val_dir=_optional(str, d["val_dir"]), val_split=float(d["val_split"]), seed=int(d["seed"]),
                device=str(d["device"]), resume=bool(d["resume"]), patience=_optional(int, d["patience"]),
                warmup_epochs=int(d["warmup_epochs"] or 0), backbone_lr_scale=float(d["backbone_lr_scale"]),
                augment=preset_name(d["augment"]), weight_decay=float(d["weight_decay"]), label_smoothing=float(d["label_smoothing"]),
                num_workers=_optional(int, d["num_workers"]), feature_cache=str(d["feature_cache"]),
                dropout=_optional(float, d["dropout"]), pretrained=bool(d["pretrained"]),
                weights_source=str(d["weights_source"] or d["weights"]),
                # Runs from before these settings: flips were always on, the rest did not exist.
                flip=bool(saved.get("flip", True)), balance=str(d["balance"]), ema=str(d["ema"]),
                calibrate=bool(d["calibrate"]), tensorboard=_optional(bool, d["tensorboard"]),
            )
        except (TypeError, ValueError, KeyError) as e:
            raise BundleError(f"The run's saved settings are damaged ({e}): start a new run.") from None


def _optional(kind, value):
    return None if value is None else kind(value)


def new_request(config: TrainConfig) -> TrainConfig:
    """A new run's request with what needs no network or device filled in (variant name, epochs, image size)."""
    variant = get_variant(config.variant)
    return replace(
        config,
        data_dir=str(config.data_dir),
        out_dir=str(config.out_dir),
        val_dir=None if config.val_dir is None else str(config.val_dir),
        variant=variant.name,
        epochs=config.epochs or DEFAULT_EPOCHS,
        image_size=config.image_size or variant.resolution,
    )


def resumed(saved: RunSettings, config: TrainConfig) -> RunSettings:
    """The saved settings, with the few a resume may change taken from ``config``."""
    overrides = {name: getattr(config, name) for name in RESUMABLE_OVERRIDES if getattr(config, name) is not None}
    overrides["data_dir"] = str(config.data_dir)
    if config.val_dir is not None:
        overrides["val_dir"] = str(config.val_dir)
    return replace(saved, **overrides)


def resolve(request: TrainConfig, *, variant: str, pretrained: bool, weights_source: str, batch_size: int) -> RunSettings:
    """A new run's settings: the request, what building the network and sizing the batch decided, and
    the defaults that depend on them (learning rate, warm-up, backbone learning-rate scale)."""
    mode = TrainMode(resolve_mode(request.mode, pretrained, weights_source)[0])
    full_pretrained = pretrained and mode is TrainMode.FULL
    values = {f.name: getattr(request, f.name) for f in fields(TrainConfig)}
    values.update(
        augment=preset_name(request.augment),
        variant=variant,
        mode=mode,
        batch_size=int(batch_size),
        lr=float(request.lr) if request.lr is not None else default_lr(str(mode), pretrained),
        warmup_epochs=request.warmup_epochs if request.warmup_epochs is not None else (1 if full_pretrained and request.epochs >= 3 else 0),
        backbone_lr_scale=float(request.backbone_lr_scale) if request.backbone_lr_scale is not None else (0.1 if pretrained else 1.0),
        pretrained=pretrained,
        weights_source=weights_source,
    )
    return RunSettings(**values)


__all__ = ["RESUMABLE_OVERRIDES", "RunSettings", "new_request", "resolve", "resumed"]
