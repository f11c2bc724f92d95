"""Small generated images for tests (importable as ``tests.image_files``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_image(path: Path, size=(48, 40), color=(200, 30, 30), mode="RGB", fmt=None, seed: int | None = None) -> Path:
    """Write a small image; with ``seed`` it is textured noise around ``color``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if seed is not None:
        rng = np.random.default_rng(seed)
        base = np.array(color, dtype=np.float64)[None, None, :]
        arr = np.clip(base + rng.normal(0, 25, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
        im = Image.fromarray(arr, "RGB")
    else:
        im = Image.new("RGB", size, color)
    if mode != "RGB":
        im = im.convert(mode)
    im.save(path, format=fmt)
    return path
