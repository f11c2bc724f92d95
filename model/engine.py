"""Scripting entry point kept for users: ``model.engine.train``, ``TrainConfig``, ``TrainControl``.

Training lives in ``model.training``; this module only re-exports what scripts import
(``for event in model.engine.train(TrainConfig(data, out), control): …``).
"""

from model.training.engine import MODES, TrainConfig, TrainControl, train

__all__ = ["MODES", "TrainConfig", "TrainControl", "train"]
