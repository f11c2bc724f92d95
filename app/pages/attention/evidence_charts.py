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
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app.pages.attention.divergence_chart import tick_labels
from app.widgets.plot_style import style_plot, theme_colours

CHANGED = QColor(214, 39, 40)  # a top-1 change: the one colour that must stand out


def _plot_base(widget: pg.PlotWidget) -> tuple[QColor, QColor]:
    text, line, base = theme_colours(widget)
    widget.setBackground(base)  # the theme's colours, not black
    style_plot(widget.getPlotItem(), text)
    widget.showGrid(x=False, y=True, alpha=0.2)
    return text, line


class AblationChart(pg.PlotWidget):
    """Confidence drop (y) per SE block (x); a red ring where the top-1 class changes; click a point for its block."""

    block_clicked = Signal(int)  # depth

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        text, line = _plot_base(self)
        self.setLabel("left", "drop in p(class)")
        self.setLabel("bottom", "SE block ablated (input → output)")
        self.zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(text, width=1, style=Qt.PenStyle.DotLine))
        self.addItem(self.zero)
        self.curve = self.plot([], [], pen=pg.mkPen(line, width=2), symbol="o", symbolSize=8,
                               symbolBrush=line, symbolPen=None)
        self.curve.sigPointsClicked.connect(self._on_points_clicked)
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
        self.getAxis("bottom").setTicks([tick_labels([b.block.short_name for b in ablation.blocks], 8)])
        self.setXRange(-0.5, max(0.5, len(xs) - 0.5), padding=0)
        lo, hi = min(0.0, float(self.values.min())), max(0.0, float(self.values.max()))
        pad = 0.1 * (hi - lo) or 0.05
        self.setYRange(lo - pad, hi + pad, padding=0)

    def set_current(self, depth: int) -> None:
        """Outline the block the rest of the page shows."""
        if 0 <= depth < len(self.values):
            self.current.setData([depth], [self.values[depth]])

    def clear_data(self) -> None:
        self.values = np.zeros(0)
        for item in (self.curve, self.changed, self.current):
            item.setData([], [])
        self.getAxis("bottom").setTicks(None)

    def point_count(self) -> int:
        return len(self.values)

    def _on_points_clicked(self, item, points, *args) -> None:
        if len(points):
            self.block_clicked.emit(int(round(points[0].pos().x())))


class FaithfulnessChart(pg.PlotWidget):
    """Deletion and insertion curves of one map (solid) and of the random map (dashed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        text, line = _plot_base(self)
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
