"""The class divergence of the SE gates per block, over depth (pyqtgraph).

One point per SE block, input side on the left: about 0 where a block gates
every class alike, higher where its gates tell the classes apart. The curve
and the marker of the most class-specific block are made once and updated
with ``setData``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from app.widgets.plot_style import style_plot, theme_colours


def tick_labels(names: list[str], max_labels: int = 14) -> list[tuple[int, str]]:
    """(position, label) for the x axis: every k-th block, so that at most ``max_labels`` show."""
    every = max(1, -(-len(names) // max_labels))
    return [(i, name) for i, name in enumerate(names) if i % every == 0]


class DivergenceChart(pg.PlotWidget):
    """Divergence (y) per SE block in depth order (x)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        text, line, base = theme_colours(self)
        self.setBackground(base)  # the theme's colours, not black
        style_plot(self.getPlotItem(), text)
        self.showGrid(x=False, y=True, alpha=0.2)
        self.setLabel("left", "class divergence")
        self.setLabel("bottom", "SE block (input → output)")
        self.curve = self.plot([], [], pen=pg.mkPen(line, width=2), symbol="o", symbolSize=6,
                               symbolBrush=line, symbolPen=None)
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
        self.getAxis("bottom").setTicks([tick_labels(self.names)])
        self.setXRange(-0.5, max(0.5, len(values) - 0.5), padding=0)
        top = float(values.max()) if len(values) else 1.0
        self.setYRange(0, top * 1.2 if top > 0 else 1.0, padding=0)

    def clear_data(self) -> None:
        self.names = []
        self.curve.setData([], [])
        self.peak.setData([], [])
        self.peak_label.setText("")
        self.getAxis("bottom").setTicks(None)

    def point_count(self) -> int:
        xs, _ = self.curve.getData()
        return 0 if xs is None else len(xs)
