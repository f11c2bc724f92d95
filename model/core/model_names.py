"""How people call a fine-tuned model: by its run, not by the file name every run shares."""

from __future__ import annotations

import os
from pathlib import Path

RUN_MODEL_FILE = "model.pt"  # the best model of a run folder (model.training.checkpoint.RunPaths.model)


def bundle_title(path: str | os.PathLike) -> str:
    """"run 2026-11-24_19-05-12_digits_b0" for a run's model.pt, "bundle pets.pt" for a saved copy.

    Only the path is read (no file access), so the UI thread may call it."""
    p = Path(path)
    if p.name == RUN_MODEL_FILE and p.parent.name:
        return f"run {p.parent.name}"
    return f"bundle {p.name}"
