"""The run folder: best bundle, last checkpoint, metrics table, evaluation.

```
RUN_DIR/
  model.pt         the best model so far: a bundle (model.bundle), usable by predict/evaluate/export
  last.pt          the last checkpoint: bundle + optimizer, schedule and AMP scaler state, split, counters,
                   random generator states
  .lock            held (an OS lock) by the training that is using the folder; holds its pid
  metrics.csv      one row per epoch (rewritten after every epoch)
  evaluation.json  the best model on the validation set: accuracy, confusion matrix, per-class, mistakes
  test_evaluation.json  the same on the dataset's test/ folder, when it has one (set aside from training)
  cache/           head mode only, when the features are too big for memory
```

Every file is written atomically (temporary file, then rename), so a crash or a
Ctrl-C mid-write never leaves a broken file, and checkpoints are read back with
``weights_only=True`` like any other user file. After each epoch last.pt is
written before model.pt, so a run cut off between the two can always be resumed
(and the resume rewrites model.pt; see ``model.training.run_folder``).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from model.nets.bundle import Bundle, atomic_torch_save, bundle_from_dict, bundle_to_dict, read_torch_file
from model.core.atomic import atomic_write_text
from model.core.errors import BundleError
from model.core.events import EpochMetrics
from model.core.json_text import json_text
from model.core.variants import get_variant
from model.training.checkpoint_check import checkpoint_problem

CHECKPOINT_FORMAT = "efficientnet-studio-checkpoint"
CHECKPOINT_VERSION = 1
METRIC_COLUMNS = (
    "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "is_best", "backbone_frozen",
    "val_macro_f1", "ema",
)


@dataclass(frozen=True)
class RunPaths:
    """Where each file of a run folder lives."""

    root: Path

    @property
    def model(self) -> Path:
        return self.root / "model.pt"

    @property
    def last(self) -> Path:
        return self.root / "last.pt"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.csv"

    @property
    def evaluation(self) -> Path:
        return self.root / "evaluation.json"

    @property
    def test_evaluation(self) -> Path:
        return self.root / "test_evaluation.json"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def holds_a_run(self) -> bool:
        return self.model.exists() or self.last.exists()


@dataclass
class Checkpoint:
    """Everything needed to continue a run exactly where it stopped."""

    bundle: Bundle  # the current weights, config and history
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    scaler: dict[str, Any] | None
    epochs_done: int
    best_val_acc: float | None = None
    best_val_loss: float | None = None
    best_epoch: int = 0
    epochs_without_improvement: int = 0
    batch_size: int = 0
    split: dict[str, Any] = field(default_factory=dict)  # {"train": [[path, label], …], "val": […]}
    rng: dict[str, Any] | None = None  # the random generators' states (model.training.rng_state)
    ema: dict[str, Any] | None = None  # the weight average (model.training.ema.ModelEma.state_dict), when on


def checkpoint_bytes(variant: str, mode: str) -> int:
    """About how large last.pt gets: the weights, plus AdamW's two moments of each in full mode."""
    weights = 4 * get_variant(variant).params
    return weights * (3 if mode == "full" else 1) + 2**20


def save_checkpoint(ckpt: Checkpoint, path: str | os.PathLike) -> Path:
    return atomic_torch_save(
        {
            "format": CHECKPOINT_FORMAT,
            "format_version": CHECKPOINT_VERSION,
            "bundle": bundle_to_dict(ckpt.bundle),
            "optimizer": ckpt.optimizer,
            "scheduler": ckpt.scheduler,
            "scaler": ckpt.scaler,
            "epochs_done": int(ckpt.epochs_done),
            "best_val_acc": ckpt.best_val_acc,
            "best_val_loss": ckpt.best_val_loss,
            "best_epoch": int(ckpt.best_epoch),
            "epochs_without_improvement": int(ckpt.epochs_without_improvement),
            "batch_size": int(ckpt.batch_size),
            "split": ckpt.split,
            "rng": ckpt.rng,
            "ema": ckpt.ema,
        },
        path,
    )


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read and validate ``last.pt``; any problem is one ``BundleError``."""
    obj = read_torch_file(path, "training checkpoint")
    if not isinstance(obj, dict) or obj.get("format") != CHECKPOINT_FORMAT:
        raise BundleError(f"{path}: not an EfficientNet Studio training checkpoint.")
    if int(obj.get("format_version", 0)) > CHECKPOINT_VERSION:
        raise BundleError(f"{path}: written by a newer EfficientNet Studio; update the app to resume it.")
    if (problem := checkpoint_problem(obj)) is not None:
        raise BundleError(f"{path}: cannot resume from this checkpoint, {problem}; start a new run or restore the file.")
    try:
        return Checkpoint(
            bundle=bundle_from_dict(obj["bundle"], str(path)),
            optimizer=dict(obj["optimizer"]),
            scheduler=dict(obj["scheduler"]),
            scaler=obj.get("scaler"),
            epochs_done=int(obj["epochs_done"]),
            best_val_acc=obj.get("best_val_acc"),
            best_val_loss=obj.get("best_val_loss"),
            best_epoch=int(obj.get("best_epoch", 0)),
            epochs_without_improvement=int(obj.get("epochs_without_improvement", 0)),
            batch_size=int(obj.get("batch_size", 0)),
            split=dict(obj.get("split") or {}),
            rng=obj.get("rng") if isinstance(obj.get("rng"), dict) else None,
            ema=obj.get("ema") if isinstance(obj.get("ema"), dict) else None,
        )
    except BundleError:
        raise
    except Exception as e:
        raise BundleError(f"{path}: the checkpoint is incomplete or damaged ({type(e).__name__}: {e}).") from None


def write_metrics_csv(history: list[dict[str, Any]], path: str | os.PathLike) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRIC_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in METRIC_COLUMNS})
    return atomic_write_text(buf.getvalue(), path)


def history_events(history: list[dict[str, Any]]) -> tuple[EpochMetrics, ...]:
    """A bundle's stored history (one dict per epoch) as the events it was made from."""
    names = {f.name for f in fields(EpochMetrics)}
    return tuple(EpochMetrics(**{k: v for k, v in row.items() if k in names}) for row in history)


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    return atomic_write_text(json_text(obj, indent=2) + "\n", path)


def split_to_dict(train: list[tuple[Path, int]], val: list[tuple[Path, int]], root: Path) -> dict[str, Any]:
    """The split as plain lists; paths inside ``root`` are stored relative so a moved dataset still resumes."""

    def rel(p: Path) -> str:
        try:
            return Path(p).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return str(Path(p).resolve())

    return {"train": [[rel(p), int(y)] for p, y in train], "val": [[rel(p), int(y)] for p, y in val]}


def split_from_dict(d: dict[str, Any], root: Path) -> tuple[list[tuple[Path, int]], list[tuple[Path, int]]]:
    def absolute(s: str) -> Path:
        p = Path(s)
        return p if p.is_absolute() else root / p

    return (
        [(absolute(p), int(y)) for p, y in d.get("train", [])],
        [(absolute(p), int(y)) for p, y in d.get("val", [])],
    )
