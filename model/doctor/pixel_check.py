"""A second opinion on near duplicates: do two images look the same at a small size?

Features say what an image shows. A network trained on the data set makes the
examples of a class point almost the same way: with a B0 trained on the digits,
215 groups of different digits, up to 50 in one group, passed the feature test
(cosine ≥ 0.97, mutual nearest neighbours). A resized or re-encoded copy is the
same picture, though: its 32×32 grey thumbnail correlates with the original's at
0.9998 or more, while the most alike different digits there reach 0.9925. The
correlation of mean-removed, normalised thumbnails also ignores a change of
brightness or contrast, which a copy may have had.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from model.core.errors import ImageError
from model.imaging.images import load_image

THUMB = 32  # thumbnail side in pixels
PIXEL_SIMILARITY = 0.98  # correlation of the thumbnails from which two images count as the same picture


def thumbnail(path: str | Path) -> np.ndarray:
    """The image as a mean-removed, unit-length vector of its THUMB × THUMB grey thumbnail."""
    image = load_image(path, draft_size=(THUMB * 4, THUMB * 4)).convert("L")
    pixels = np.asarray(image.resize((THUMB, THUMB), Image.Resampling.BILINEAR), np.float32).ravel()
    pixels -= pixels.mean()
    norm = float(np.linalg.norm(pixels))
    return pixels / norm if norm > 0 else pixels


class PixelCheck:
    """``same_picture(i, j)`` for images ``paths[i]`` and ``paths[j]``; thumbnails are made on first use."""

    def __init__(self, paths: Sequence[str | Path], threshold: float = PIXEL_SIMILARITY) -> None:
        self.paths = list(paths)
        self.threshold = threshold
        self._thumbs: dict[int, np.ndarray | None] = {}

    def _thumb(self, i: int) -> np.ndarray | None:
        if i not in self._thumbs:
            try:
                self._thumbs[i] = thumbnail(self.paths[i])
            except ImageError:
                self._thumbs[i] = None  # gone or changed since the scan: the features decide alone
        return self._thumbs[i]

    def same_picture(self, i: int, j: int) -> bool:
        a, b = self._thumb(i), self._thumb(j)
        if a is None or b is None:
            return True
        if not a.any() or not b.any():  # a flat picture has no pattern to compare: only two flat ones agree
            return not a.any() and not b.any()
        return float(a @ b) >= self.threshold

    @property
    def thumbnails_made(self) -> int:
        return len(self._thumbs)
