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

How a run is put together: ``model.training.setup`` resolves it (settings in
``model.training.settings``, the loops' view of it in ``model.training.context``),
``model.training.trainer`` decides what happens between epochs and
``model.training.epochs`` runs them. The run folder layout is described in
``model.training.checkpoint``.
"""

from __future__ import annotations

from typing import Iterator

from model.core.train_config import DEFAULT_EPOCHS, MODES, TrainConfig, check_config
from model.core.train_control import TrainControl


def train(config: TrainConfig, control: TrainControl | None = None) -> Iterator[object]:
    """Train as ``config`` says, yielding events; see ``model.core.events`` for what each one means."""
    # Imported here so that importing the engine (for its names) does not load the networks and loaders.
    from model.training.trainer import Trainer

    check_config(config)
    trainer = Trainer(config, control or TrainControl())
    yield from trainer.run()


__all__ = ["DEFAULT_EPOCHS", "MODES", "TrainConfig", "TrainControl", "check_config", "train"]
