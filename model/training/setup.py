"""Setting a training run up, one stage per thing it resolves.

``Trainer`` calls them in this order, after ``model.training.run_folder.open_resume``:
the data (``read_data``: scan, split), the network and the settings that depend on
it (``start_run_network``), the device (``place``: device, processes, loader
workers, batch size) and the optimisation (``build_optimisation``: optimiser,
schedule, stepper). The stages that report something to the user are generators
of ``Notice``/``SkippedFile`` events that return what they resolved.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generator

import numpy as np
import torch

from model.core.errors import DatasetError, StudioError
from model.core.events import Notice, SkippedFile
from model.core.train_config import TrainConfig
from model.nets.device import SpeedPolicy, resolve_device, speed_policy
from model.nets.network import set_head_dropout
from model.training.checkpoint import Checkpoint, split_from_dict, split_to_dict
from model.training.context import Samples
from model.training.data import scan_dataset, split_dataset
from model.training.distributed import DistContext
from model.training.loaders import fits_in_cache, memory_budget_bytes
from model.training.loop import Stepper
from model.training.schedule import WarmupCosine, auto_batch_size, build_optimizer
from model.training.settings import RunSettings, resolve

Events = Generator[object, None, Any]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class RunData:
    """The classes and the training/validation samples, with the split as the checkpoint records it."""

    class_names: list[str]
    train: Samples
    val: Samples
    split_record: dict[str, Any]
    test_dir: Path | None = None  # test/ beside train/: set aside, scored once at the end
    num_test: int = 0


def read_data(data_dir: str, val_dir: str | None, val_split: float, seed: int, ckpt: Checkpoint | None) -> Events:
    """Scan the dataset and split it (a resumed run keeps its split); returns ``RunData``."""
    scan = scan_dataset(data_dir, val_dir)
    for path, reason in scan.skipped:
        yield SkippedFile(str(path), reason)
    for w in scan.warnings:
        yield Notice(w, "warning")
    root = Path(data_dir)
    if ckpt is not None:
        if ckpt.bundle.class_names != scan.class_names:
            raise DatasetError(
                f"The classes in {root} changed since this run started ({', '.join(ckpt.bundle.class_names)}): "
                "start a new run instead of resuming."
            )
        train, val = split_from_dict(ckpt.split, root)
    else:
        split = split_dataset(scan, val_split, seed)
        for w in split.warnings:
            yield Notice(w, "warning")
        train, val = split.train, split.val
    return RunData(scan.class_names, train, val, split_to_dict(train, val, root), scan.test_dir, scan.num_test)


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


def start_run_network(request: TrainConfig, class_names: list[str]) -> Events:
    """A new run's network and its settings (learning rate and the rest resolved for the weights it got);
    returns (network, settings). The batch size stays as asked (0: automatic) until ``place`` sizes it."""
    net, variant, pretrained, source, notices = start_network(request.variant, request.weights, class_names)
    for n in notices:
        yield Notice(n, "warning")
    settings = resolve(request, variant=variant, pretrained=pretrained, weights_source=source, batch_size=request.batch_size or 0)
    return net, settings


def mode_notices(settings: RunSettings) -> Generator[Notice, None, None]:
    if not settings.trains_backbone and not settings.pretrained:
        yield Notice("Head mode on random weights learns little: the frozen backbone knows nothing yet; use full mode.", "warning")
    if not settings.trains_backbone:
        yield Notice("Head mode trains on features of the unaugmented images: augmentation is off (full mode augments).")


@dataclass(frozen=True)
class Placement:
    """Where and how wide the run computes: device, processes, its speed policy, loader workers, batch size."""

    device: torch.device
    dist: DistContext
    policy: SpeedPolicy
    workers: int
    batch_size: int  # global: all processes together


def place(settings: RunSettings, ckpt: Checkpoint | None, num_train: int, num_val: int) -> Events:
    """Resolve the device, join the process group under torchrun, pick loader workers and the batch size;
    returns a ``Placement``."""
    device = resolve_device(settings.device)
    dist = DistContext.from_env(device.type)
    device = dist.device_for(device)
    policy = speed_policy(device)
    # cuDNN autotuning (torch.backends.cudnn.benchmark) stays off: on an H200 it cost 39 s before
    # B0's first step and again for every new batch shape (the last batch, validation), and the
    # kernels it picked were no faster (5,049 against 5,063 images/s; bench/gpu_training.py).
    workers = policy.loader_workers if settings.num_workers is None else settings.num_workers
    if settings.num_workers is None and device.type == "cpu" and settings.trains_backbone:
        # Images decoded once into memory need no worker processes, which would only take cores from compute.
        if fits_in_cache(num_train, num_val, settings.image_size, memory_budget_bytes()):
            workers = 0
    bs = settings.batch_size or (ckpt.batch_size if ckpt else 0)
    # --batch-size is the global batch; the automatic one is what fits one device, on each rank.
    bs = bs or auto_batch_size(settings.variant, settings.image_size, device, num_train) * dist.world_size
    if settings.trains_backbone and bs < 2 * dist.world_size:
        raise StudioError(
            f"With {dist.world_size} processes the batch size must be at least {2 * dist.world_size} "
            "in full mode (batch norm needs two images on each process)."
        )
    if dist.enabled:
        n = dist.world_size
        yield Notice(
            f"Distributed training on {n} process{'es' if n > 1 else ''} ({dist.backend}): "
            f"each takes its share of every batch of {bs} images; rank 0 writes the run folder."
        )
    return Placement(device, dist, policy, workers, int(bs))


@dataclass
class Optimisation:
    """The network on its device, what updates it, and the stepper that runs it."""

    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: WarmupCosine
    stepper: Stepper


def build_optimisation(settings: RunSettings, net: torch.nn.Module, where: Placement, prep, quality=None) -> Optimisation:
    """Move the network to the device and build its optimiser, schedule and stepper (DDP-wrapped when distributed);
    ``quality`` (a ``model.training.quality.RunQuality``) adds class weights to the loss and mixup/cutmix."""
    if settings.dropout is not None:
        set_head_dropout(net, settings.dropout)
    net = net.to(where.device)
    if where.policy.channels_last:
        net = net.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(net, settings.lr, settings.backbone_lr_scale, settings.weight_decay)
    schedule = WarmupCosine(optimizer, settings.lr, settings.epochs)
    module = net if settings.trains_backbone else net.classifier
    # A backbone frozen for warm-up epochs has parameters that stop getting gradients.
    wrapped = where.dist.wrap(module, where.device, find_unused_parameters=settings.trains_backbone and settings.warmup_epochs > 0)
    stepper = Stepper(
        module, where.device, where.policy, prep, optimizer, settings.label_smoothing, train_module=wrapped,
        class_weights=quality.loss_weights() if quality is not None else None,
        mixer=quality.mixer(settings.augment, settings.seed) if quality is not None and settings.trains_backbone else None,
    )
    return Optimisation(net, optimizer, schedule, stepper)


def restore(opt: Optimisation, ckpt: Checkpoint) -> None:
    """Continue the optimiser, schedule and AMP scaler where the checkpoint left them."""
    opt.optimizer.load_state_dict(ckpt.optimizer)
    opt.schedule.load_state_dict(ckpt.scheduler)
    if ckpt.scaler:
        opt.stepper.scaler.load_state_dict(ckpt.scaler)


__all__ = [
    "Optimisation", "Placement", "RunData", "build_optimisation", "mode_notices", "place",
    "read_data", "restore", "seed_everything", "start_network", "start_run_network",
]
