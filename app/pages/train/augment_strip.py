"""A strip of augmented samples: what the chosen augmentation preset makes of the user's own images.

The Train page fills it from a worker (``app.pages.train.quality_workers``) whenever
the dataset, the preset, the flip box or the image size changes, so people see
whether the crops keep their objects and whether mirrored images still make sense.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

THUMB = 64  # pixels per sample on screen
COLUMNS = 4


class AugmentStrip(QWidget):
    """Eight thumbnails in two rows of four under a one-line caption."""

    def __init__(self, count: int = 8, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel("Augmented samples of your images appear here once a dataset is chosen.")
        self.caption.setWordWrap(True)
        self.caption.setEnabled(False)
        self.tiles: list[QLabel] = []
        grid = QGridLayout()
        grid.setSpacing(3)
        for i in range(count):
            tile = QLabel()
            tile.setFixedSize(THUMB, THUMB)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setStyleSheet("background: palette(base);")
            grid.addWidget(tile, i // COLUMNS, i % COLUMNS)
            self.tiles.append(tile)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addLayout(grid)

    def show_samples(self, samples: list[np.ndarray], caption: str) -> None:
        """Show HxWx3 uint8 samples (as many as there are tiles)."""
        for tile, sample in zip(self.tiles, samples):
            a = np.ascontiguousarray(sample)
            h, w = a.shape[:2]
            image = QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # copy: ``a`` goes away
            tile.setPixmap(QPixmap.fromImage(image).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                           Qt.TransformationMode.SmoothTransformation))
        self.caption.setText(caption)

    def show_message(self, text: str) -> None:
        for tile in self.tiles:
            tile.clear()
        self.caption.setText(text)

    @property
    def shown(self) -> int:
        """How many tiles hold a sample."""
        return sum(1 for t in self.tiles if t.pixmap() is not None and not t.pixmap().isNull())
