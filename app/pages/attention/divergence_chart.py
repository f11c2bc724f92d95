"""The class divergence of the SE gates per block, over depth (pyqtgraph).

One point per SE block, input side on the left: about 0 where a block gates
every class alike, higher where its gates tell the classes apart. The curve
and the marker of the most class-specific block are made once and updated
with ``setData``; a click on a point names its block (``DepthChart``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from app.pages.attention.depth_chart import DepthChart


class DivergenceChart(DepthChart):
    """Divergence (y) per SE block in depth order (x); click a point for its block."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("class divergence", "SE block (input → output)", parent=parent)
        text, line = self.text_colour, self.line_colour
        self.curve = self.clickable(self.plot([], [], pen=pg.mkPen(line, width=2), symbol="o", symbolSize=6,
                                              symbolBrush=line, symbolPen=None))
        self.peak = self.plot([], [], pen=None, symbol="o", symbolSize=14, symbolBrush=None,
                              symbolPen=pg.mkPen(text, width=2))
        self.peak_label = pg.TextItem("", color=text, anchor=(0.5, 1.3))
        self.addItem(self.peak_label)
        self.names: list[str] = []

    def show_divergence(self, divergence: np.ndarray, names: list[str]) -> None:
        """Plot ``divergence[b]`` for block ``b`` named ``names[b]`` (short names on the axis)."""
        values = np.asarray(divergence, np.float64)
        self.names = list(names)
        xs = np.arange(len(values))
        self.curve.setData(xs, values)
        best = int(np.argmax(values)) if len(values) else 0
        if len(values):
            self.peak.setData([best], [values[best]])
            self.peak_label.setText(f"most class-specific: {names[best]}")
            self.peak_label.setPos(best, values[best])
            # Keep the label inside the plot when the peak is near either end.
            side = best / max(1, len(values) - 1)
            self.peak_label.setAnchor((0.0 if side < 0.25 else 1.0 if side > 0.75 else 0.5, 1.3))
        self.show_blocks(self.names)
        top = float(values.max()) if len(values) else 1.0
        self.setYRange(0, top * 1.2 if top > 0 else 1.0, padding=0)  # room for the peak's label

    def clear_data(self) -> None:
        self.names = []
        self.curve.setData([], [])
        self.peak.setData([], [])
        self.peak_label.setText("")
        self.clear_blocks()

    def point_count(self) -> int:
        xs, _ = self.curve.getData()
        return 0 if xs is None else len(xs)
