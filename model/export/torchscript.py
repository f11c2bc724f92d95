"""The TorchScript export format: a traced module, the metadata as an extra file in the archive.

Its record is in ``model.export.table``.
"""

from __future__ import annotations

import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model.core.atomic import atomic_path
from model.core.errors import StudioError
from model.export.table import ExportError

METADATA_FILE = "metadata.json"


def write(model: nn.Module, path: str | os.PathLike, image_size: int, metadata: dict[str, str]) -> Path:
    """Trace ``model`` to TorchScript; the metadata travels as an extra file in the archive."""
    path = Path(path)
    model = model.eval().cpu()
    try:
        with atomic_path(path) as tmp, warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(model, torch.zeros(1, 3, image_size, image_size))
            torch.jit.save(traced, str(tmp), _extra_files={METADATA_FILE: json.dumps(metadata)})
    except Exception as e:
        if isinstance(e, StudioError):  # a failed write (disk full, permission) says so itself
            raise
        raise ExportError(f"TorchScript export failed: {e}") from e
    return path


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    extra = {METADATA_FILE: ""}
    with _quiet():
        torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    return json.loads(extra[METADATA_FILE] or "{}")


def logits(path: str | os.PathLike, inputs: torch.Tensor) -> np.ndarray:
    """Run the file with torch.jit on the CPU."""
    with torch.no_grad(), _quiet():
        return torch.jit.load(str(path), map_location="cpu")(inputs).numpy()


@contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated but still the format users ask for
        yield
