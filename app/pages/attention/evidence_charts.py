"""Charts of the evidence behind a map (pyqtgraph): the SE ablation over depth and the deletion/insertion curves.

``AblationChart`` plots, per SE block in depth order, how much the explained
class's probability drops when that block's gates are ablated; clicking a point
emits its block so the page can show it. ``FaithfulnessChart`` draws a map's
deletion and insertion curves against the random map's. Curves are made once
and updated with ``setData``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app.pages.attention.depth_chart import DepthChart
from app.widgets.plot_style import themed_plot

CHANGED = QColor(214, 39, 40)  # a top-1 change: the one colour that must stand out


class AblationChart(DepthChart):
    """Confidence drop (y) per SE block (x); a red ring where the top-1 class changes; click a point for its block."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("drop in p(class)", "SE block ablated (input → output)", zero_line=True, parent=parent)
        text, line = self.text_colour, self.line_colour
        self.curve = self.clickable(self.plot([], [], pen=pg.mkPen(line, width=2), symbol="o", symbolSize=8,
                                              symbolBrush=line, symbolPen=None))
        self.changed = self.plot([], [], pen=None, symbol="o", symbolSize=14, symbolBrush=None,
                                 symbolPen=pg.mkPen(CHANGED, width=2))
        self.current = self.plot([], [], pen=None, symbol="s", symbolSize=16, symbolBrush=None,
                                 symbolPen=pg.mkPen(text, width=2))
        self.values = np.zeros(0)
        self.setToolTip("Each point: one SE block's gates replaced by their mean. Higher = the answer depends "
                        "more on that block's gating; a red ring = the top class changes. Click a point to show it.")

    def show_ablation(self, ablation) -> None:
        """Plot a ``model.explain.ablation.Ablation``."""
        self.values = ablation.drops
        xs = np.arange(len(self.values))
        self.curve.setData(xs, self.values)
        flips = [k for k, b in enumerate(ablation.blocks) if b.top1_changed]
        self.changed.setData(flips, self.values[flips])
        self.show_blocks([b.block.short_name for b in ablation.blocks], 8)
        self.fit_values(self.values)

    def set_current(self, depth: int) -> None:
        """Outline the block the rest of the page shows."""
        if 0 <= depth < len(self.values):
            self.current.setData([depth], [self.values[depth]])

    def clear_data(self) -> None:
        self.values = np.zeros(0)
        for item in (self.curve, self.changed, self.current):
            item.setData([], [])
        self.clear_blocks()

    def point_count(self) -> int:
        return len(self.values)


class FaithfulnessChart(pg.PlotWidget):
    """Deletion and insertion curves of one map (solid) and of the random map (dashed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        text, line = themed_plot(self)
        self.setLabel("left", "p(class)")
        self.setLabel("bottom", "share of pixels deleted / inserted")
        self.addLegend(offset=(-10, 10), labelTextColor=text)
        insertion = QColor(44, 160, 44)
        self.deletion = self.plot([], [], pen=pg.mkPen(CHANGED, width=2), name="deletion")
        self.insertion = self.plot([], [], pen=pg.mkPen(insertion, width=2), name="insertion")
        dash = Qt.PenStyle.DashLine
        self.random_deletion = self.plot([], [], pen=pg.mkPen(CHANGED, width=1, style=dash), name="random map")
        self.random_insertion = self.plot([], [], pen=pg.mkPen(insertion, width=1, style=dash))
        self.setXRange(0, 1, padding=0.02)
        self.setYRange(0, 1, padding=0.02)

    def show_curves(self, score, random) -> None:
        """Plot two ``model.explain.faithfulness.Faithfulness`` records: the map's and the random map's."""
        self.deletion.setData(score.fractions, score.deletion)
        self.insertion.setData(score.fractions, score.insertion)
        self.random_deletion.setData(random.fractions, random.deletion)
        self.random_insertion.setData(random.fractions, random.insertion)

    def clear_data(self) -> None:
        for item in (self.deletion, self.insertion, self.random_deletion, self.random_insertion):
            item.setData([], [])
