"""The selected image, large, beside its nearest neighbours from each candidate class.

Seeing a "1" next to the three most similar "1"s and the three most similar "7"s
is how a person decides in a second which label is right. The candidate classes
are the given one and those the out-of-fold head finds most likely.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

BIG = 160
SMALL = 72
NEIGHBOURS = 3
CANDIDATES = 3  # the given class plus the likeliest others, up to this many rows


class DetailPanel(QWidget):
    """The image of the current finding, its neighbours per candidate class, and the fix buttons."""

    move_suggested = Signal()
    move_to = Signal()
    exclude = Signal()
    keep = Signal()

    def __init__(self, thumbnail: Callable[[int], "QImage | None"]) -> None:
        super().__init__()
        self.thumbnail = thumbnail  # item index → its thumbnail, or None until it is made
        self.report = None
        self.index: int | None = None
        self.wanted: list[int] = []  # images shown here, for the page to make thumbnails of
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.image = QLabel()
        self.image.setFixedSize(BIG, BIG)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("background: #f4f4f4; border: 1px solid #ccc;")
        self.caption = QLabel("Diagnose a folder, then pick a finding.")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.image)
        top.addWidget(self.caption, 1)
        outer.addLayout(top)
        self.grid = QGridLayout()
        outer.addLayout(self.grid)
        buttons = QHBoxLayout()
        self.buttons = {}
        for key, text, signal, tip in (
            ("suggested", "Move to suggested", self.move_suggested, "Enter: move the file into the suggested class folder"),
            ("move", "Move to…", self.move_to, "M: choose the class folder to move it to"),
            ("exclude", "Exclude", self.exclude, "Del: move it out of the data set (to .studio/excluded)"),
            ("keep", "Keep", self.keep, "K: it is right as it is"),
        ):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(signal)
            buttons.addWidget(b)
            self.buttons[key] = b
        outer.addLayout(buttons)
        outer.addStretch(1)
        self.show_image(None, None)

    def show_image(self, report, index: int | None, suggested: int | None = None, text: str = "") -> None:
        """Show image ``index`` of ``report`` (None clears the panel)."""
        self.report, self.index = report, index
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.hide()  # at once: deleteLater waits for the event loop
                w.deleteLater()
        self.neighbour_labels: list[tuple[QLabel, int]] = []
        self.wanted = []
        for b in self.buttons.values():
            b.setEnabled(index is not None)
        self.buttons["suggested"].setEnabled(index is not None and suggested is not None)
        if report is None or index is None:
            self.image.clear()
            return
        item = report.items[index]
        self.caption.setText(f"{text}\n\n{item.rel} · {item.width}×{item.height} px · {item.split}")
        self.wanted.append(index)
        for row, label in enumerate(self._candidates(report, index, suggested)):
            p = "" if report.probabilities is None else f" · p {report.probabilities[index, label]:.2f}"
            given = " (given)" if label == item.label else ""
            self.grid.addWidget(QLabel(f"{report.classes[label]}{given}{p}"), row, 0)
            for col, other in enumerate(report.neighbours_in_class(index, label, NEIGHBOURS), start=1):
                cell = QLabel()
                cell.setFixedSize(SMALL, SMALL)
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setToolTip(report.items[other].rel)
                self.grid.addWidget(cell, row, col)
                self.neighbour_labels.append((cell, other))
                self.wanted.append(other)
        self.refresh()

    @staticmethod
    def _candidates(report, index: int, suggested: int | None) -> list[int]:
        given = report.items[index].label
        order = [given] + ([suggested] if suggested is not None else [])
        if report.probabilities is not None:
            order += [int(c) for c in np.argsort(-report.probabilities[index])]
        return list(dict.fromkeys(order))[:CANDIDATES]

    def refresh(self) -> None:
        """Draw the thumbnails that exist by now."""
        if self.index is None:
            return
        big = self.thumbnail(self.index)
        if big is not None:
            self.image.setPixmap(QPixmap.fromImage(big).scaled(BIG, BIG, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
        for cell, other in self.neighbour_labels:
            img = self.thumbnail(other)
            if img is not None:
                cell.setPixmap(QPixmap.fromImage(img).scaled(SMALL, SMALL, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
