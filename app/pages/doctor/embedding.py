"""The embedding map: every image as a dot in a 2-D projection of its features, coloured by class.

Flagged images are ringed. Hovering a dot shows its thumbnail and path; clicking
it selects the image in the lists. One ``ScatterPlotItem`` holds every dot (in
pixel mode, with a brush per class rather than per point) and a second one the
rings, so the map stays fluid at 20,000 points.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.widgets.plot_style import class_colours, style_plot, theme_colours

DOT = 6
RING = 13


class EmbeddingMap(QWidget):
    """The scatter of the features; ``picked(index)`` when a dot is clicked."""

    picked = Signal(int)
    hovered = Signal(int)  # the page answers with ``show_hover`` once the thumbnail exists

    def __init__(self, thumbnail: Callable[[int], "QImage | None"]) -> None:
        super().__init__()
        self.thumbnail = thumbnail
        self.report = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        text, _, base = theme_colours(self)
        self.plot.setBackground(base)
        style_plot(self.plot.getPlotItem(), text)
        self.plot.getPlotItem().setMouseEnabled(x=True, y=True)  # zoom into a crowded map
        self.plot.getPlotItem().hideAxis("left")
        self.plot.getPlotItem().hideAxis("bottom")
        self.dots = pg.ScatterPlotItem(size=DOT, pen=None, pxMode=True, hoverable=True, tip=None)
        self.rings = pg.ScatterPlotItem(size=RING, brush=None, pxMode=True, pen=pg.mkPen("#d01010", width=2))
        self.current = pg.ScatterPlotItem(size=RING + 6, brush=None, pxMode=True, pen=pg.mkPen("#000000", width=2))
        for item in (self.dots, self.rings, self.current):
            self.plot.addItem(item)
        self.dots.sigClicked.connect(self._on_clicked)
        self.dots.sigHovered.connect(self._on_hovered)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.hover = QLabel(self.plot)
        self.hover.setStyleSheet("background: white; border: 1px solid #888; padding: 2px;")
        self.hover.hide()
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)

    def show_report(self, report) -> None:
        self.report = report
        if report is None or report.embedding is None:
            for item in (self.dots, self.rings, self.current):
                item.clear()
            return
        xy = report.embedding
        labels = np.fromiter((it.label for it in report.items), np.int64, len(report.items))
        colours = class_colours(len(report.classes))
        brushes = [pg.mkBrush(c) for c in colours]
        # One brush object per class, shared by its points: pyqtgraph draws each distinct style once.
        self.dots.setData(pos=xy, brush=[brushes[y] for y in labels], data=np.arange(len(xy)))
        flagged = np.array(sorted(report.flagged_indices()), dtype=np.int64)
        self.rings.setData(pos=xy[flagged] if len(flagged) else np.zeros((0, 2)))
        self.current.clear()
        chips = " ".join(f"<span style='color:{c.name()}'>●</span> {name}" for c, name in zip(colours, report.classes))
        self.legend.setText(f"{report.embedding_method} of the features · <span style='color:#d01010'>○</span> flagged · {chips}")

    def mark(self, index: int | None) -> None:
        if self.report is None or index is None:
            self.current.clear()
            return
        self.current.setData(pos=self.report.embedding[index : index + 1])

    def _on_clicked(self, _item, points, _ev) -> None:
        if len(points):
            self.picked.emit(int(points[0].data()))

    def _on_hovered(self, _item, points, _ev) -> None:
        if not len(points):
            self.hover.hide()
            return
        index = int(points[0].data())
        self.hovered.emit(index)
        self.show_hover(index)

    def show_hover(self, index: int) -> None:
        """The hovered image's thumbnail and path in a small box at the cursor."""
        if self.report is None:
            return
        img = self.thumbnail(index)
        item = self.report.items[index]
        if img is not None:
            from PySide6.QtGui import QPixmap

            self.hover.setPixmap(QPixmap.fromImage(img))
        else:
            self.hover.setText(f"{item.rel}\n{self.report.classes[item.label]}")
        self.hover.setToolTip(item.rel)
        self.hover.adjustSize()
        pos = self.plot.mapFromGlobal(self.cursor().pos())
        self.hover.move(min(pos.x() + 12, max(0, self.plot.width() - self.hover.width())), max(0, pos.y() - self.hover.height() - 4))
        self.hover.show()
        self.hover.raise_()
