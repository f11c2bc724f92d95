"""TensorBoard event files beside ``metrics.csv``, when the ``tensorboard`` package is installed.

``tensorboard --logdir RUN_DIR`` then shows the run's curves as users of other
tools expect. The package is optional (``pip install 'efficientnet-studio[tensorboard]'``):
without it ``open_writer`` returns None and nothing else changes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


class EpochWriter:
    """Writes one scalar per metric and epoch (and the LR), flushed every epoch so a live TensorBoard sees it."""

    def __init__(self, log_dir: str | Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(log_dir))

    def epoch(self, metrics) -> None:
        """``metrics``: an ``EpochMetrics``."""
        e = int(metrics.epoch)
        scalars = {
            "loss/train": metrics.train_loss,
            "accuracy/train": metrics.train_acc,
            "loss/val": metrics.val_loss,
            "accuracy/val": metrics.val_acc,
            "macro_f1/val": getattr(metrics, "val_macro_f1", None),
            "lr": metrics.lr,
            "seconds_per_epoch": metrics.seconds,
        }
        for tag, value in scalars.items():
            if value is not None:
                self.writer.add_scalar(tag, float(value), e)
        self.writer.flush()

    def scalar(self, tag: str, value: float, step: int) -> None:
        self.writer.add_scalar(tag, float(value), step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def open_writer(run_dir: str | Path, wanted: bool | None = True) -> EpochWriter | None:
    """An ``EpochWriter`` into ``run_dir/tensorboard`` when wanted and possible, else None."""
    if wanted is False or not tensorboard_available():
        return None
    return EpochWriter(Path(run_dir) / "tensorboard")


__all__ = ["EpochWriter", "open_writer", "tensorboard_available"]
