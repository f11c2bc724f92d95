"""Scripting entry point kept for users: ``model.engine.train``, ``TrainConfig``, ``TrainControl``.

Training lives in ``model.training``; the config and the control object live in the
torch-free ``model.core``. This module only re-exports what scripts import
(``for event in model.engine.train(TrainConfig(data, out), control): …``).
"""

from model.core.train_config import MODES, TrainConfig
from model.core.train_control import TrainControl
from model.training.engine import train

__all__ = ["MODES", "TrainConfig", "TrainControl", "train"]
