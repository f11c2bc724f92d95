"""Is a loaded ``last.pt`` whole enough to resume from? Checked before anything uses it.

A checkpoint is a user file like any other: damaged, edited or from another
tool, it used to fail deep inside the optimizer or the schedule with a
traceback. ``checkpoint_problem`` names the first thing wrong in one phrase;
``model.training.checkpoint.load_checkpoint`` refuses the file with it.
"""

from __future__ import annotations

import math
from typing import Any

REQUIRED_KEYS = ("bundle", "optimizer", "scheduler", "epochs_done")
TRAINING_MODES = ("head", "full")


def _optimizer_problem(opt: Any) -> str | None:
    if not isinstance(opt, dict) or not isinstance(opt.get("state"), dict):
        return "the optimizer state is not a saved optimizer"
    groups = opt.get("param_groups")
    if not isinstance(groups, list) or not groups:
        return "the optimizer has no parameter groups"
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or not isinstance(group.get("params"), list) or not group["params"]:
            return f"optimizer group {i} holds no parameters"
        lr = group.get("lr")
        if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0:
            return f"optimizer group {i} has the learning rate {lr!r}"
    return None


def checkpoint_problem(obj: dict[str, Any]) -> str | None:
    """What makes the checkpoint dict ``obj`` unusable for a resume, or None."""
    missing = [k for k in REQUIRED_KEYS if k not in obj]
    if missing:
        return f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"
    bundle = obj["bundle"]
    config = bundle.get("config") if isinstance(bundle, dict) else None
    mode = config.get("mode") if isinstance(config, dict) else None
    if mode not in TRAINING_MODES:
        return f"the training mode {mode!r} is not one of {', '.join(TRAINING_MODES)}"
    problem = _optimizer_problem(obj["optimizer"])
    if problem:
        return problem
    if not isinstance(obj["scheduler"], dict):
        return "the schedule state is not a saved schedule"
    epochs = obj["epochs_done"]
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        return f"the number of epochs done is {epochs!r}"
    return None
