"""What every per-SE-block chart of the Attention page shares (pyqtgraph).

The class divergence, one image's SE ablation and the per-class mean ablation
are all values per SE block in depth order, input side on the left: the same
themed plot, block names on the x axis (thinned so they do not overlap), a
y range that keeps 0 in view, a click on a point that names its block and a
dashed line that marks the block selected.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from app.widgets.plot_style import themed_plot


def tick_labels(names: list[str], max_labels: int = 14) -> list[tuple[int, str]]:
    """(position, label) for the x axis: every k-th block, so that at most ``max_labels`` show."""
    every = max(1, -(-len(names) // max_labels))
    return [(i, name) for i, name in enumerate(names) if i % every == 0]


class DepthChart(pg.PlotWidget):
    """A static plot of values per SE block (x = depth); ``block_clicked(depth)`` for a clicked point."""

    block_clicked = Signal(int)  # depth

    def __init__(self, left: str, bottom: str, *, zero_line: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text_colour, self.line_colour = themed_plot(self)
        self.setLabel("left", left)
        self.setLabel("bottom", bottom)
        # Probabilities and divergences read as they are: pyqtgraph's SI scaling turned drops of a few
        # hundredths into "×0.001" with ticks of −40 … 30 and clipped the label.
        self.getAxis("left").enableAutoSIPrefix(False)
        # tick_labels already thins the names; pyqtgraph would also drop the first one where it
        # reaches past the axis's left end.
        self.getAxis("bottom").setStyle(hideOverlappingLabels=False)
        if zero_line:  # drops can be negative: the line says where "no change" is
            self.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(self.text_colour, width=1,
                                                                     style=Qt.PenStyle.DotLine)))
        self.selected = pg.InfiniteLine(angle=90, pen=pg.mkPen(self.text_colour, width=1, style=Qt.PenStyle.DashLine))
        self.selected.hide()
        self.addItem(self.selected)
        self.block_count = 0

    def clickable(self, curve: pg.PlotDataItem) -> pg.PlotDataItem:
        """Report clicks on ``curve``'s points as ``block_clicked``; returns the curve."""
        curve.sigPointsClicked.connect(self._on_points_clicked)
        return curve

    def show_blocks(self, names: list[str], max_labels: int = 14) -> None:
        """Label the x axis with the blocks' short names and fit it to them."""
        self.block_count = len(names)
        self.getAxis("bottom").setTicks([tick_labels(list(names), max_labels)])
        self.setXRange(-0.5, max(0.5, len(names) - 0.5), padding=0)
        self.selected.hide()

    def mark_block(self, depth: int) -> None:
        """Draw the dashed line at block ``depth`` (the block selected elsewhere on the page)."""
        if 0 <= depth < self.block_count:
            self.selected.setValue(depth)
            self.selected.show()

    def fit_values(self, values: np.ndarray) -> None:
        """A y range around ``values`` and 0, with a margin."""
        values = np.asarray(values, np.float64)
        finite = values[np.isfinite(values)]
        lo = min(0.0, float(finite.min())) if finite.size else 0.0
        hi = max(0.0, float(finite.max())) if finite.size else 0.0
        pad = 0.1 * (hi - lo) or 0.05
        self.setYRange(lo - pad, hi + pad, padding=0)

    def clear_blocks(self) -> None:
        self.block_count = 0
        self.selected.hide()
        self.getAxis("bottom").setTicks(None)

    def _on_points_clicked(self, item, points, *args) -> None:
        if len(points):
            self.block_clicked.emit(int(round(points[0].pos().x())))
