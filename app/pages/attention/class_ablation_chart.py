"""Each class's mean SE ablation curve over depth (pyqtgraph), for the Compare-classes tab.

For every SE block, the mean drop in the predicted class's probability over a
class's images when that block's gates are ablated (``ClassComparison.ablation``):
which blocks' gating each class's answers depend on. One line per class, named
in a legend; with many classes only those with the largest total drop are drawn,
and the title says so. Click a point to select its block.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.pages.attention.depth_chart import DepthChart
from app.widgets.plot_style import class_colours

MAX_LINES = 6  # more lines than this are a tangle no legend can untie

MODE_WORDS = {"mean": "gates replaced by their mean", "one": "gates replaced by 1"}


def classes_to_draw(ablation: np.ndarray, limit: int = MAX_LINES) -> list[int]:
    """Rows of ``ablation`` [K, B] to draw: every class when there are at most ``limit``, else the
    ``limit`` with the largest total drop over depth, largest first (ties by class order)."""
    k = len(ablation)
    if k <= limit:
        return list(range(k))
    totals = np.nan_to_num(np.asarray(ablation, np.float64)).sum(axis=1)
    return [int(i) for i in np.argsort(-totals, kind="stable")[:limit]]


def chart_title(mode: str | None, drawn: int, total: int) -> str:
    """What the chart shows and, on a second line, how many of the classes it leaves out
    (two short lines: a long title would widen the plot past its half of the tab)."""
    title = f"SE ablation per class: {MODE_WORDS.get(mode or '', 'gates ablated')}"
    if drawn < total:
        title += f"<br>the {drawn} of {total} classes with the largest total drop"
    return title


class ClassAblationChart(DepthChart):
    """Mean confidence drop (y) per SE block ablated (x), one line per class; a dashed line marks
    the selected block."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("mean drop in p(prediction)", "SE block ablated (input → output)", zero_line=True,
                         parent=parent)
        # The legend sits right of the plot, not over it: the late blocks it would cover matter most.
        self.legend = pg.LegendItem(labelTextColor=self.text_colour)
        self.getPlotItem().layout.addItem(self.legend, 2, 3)
        self.getPlotItem().layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignTop)  # not spread over the height
        # Made once, filled for each comparison (and emptied for the classes not drawn).
        self.curves = [self.clickable(self.plot([], [], symbol="o", symbolSize=6, symbolPen=None))
                       for _ in range(MAX_LINES)]
        self.drawn: list[int] = []  # the classes drawn, in legend order
        self.setToolTip("For every SE block, how much the predicted class's probability drops, on average over "
                        "a class's images, when that block's gates are ablated. Click a point to select its block.")

    def show_class_ablation(self, ablation: np.ndarray, class_names: list[str], block_names: list[str],
                            mode: str | None = None) -> None:
        """Plot ``ablation`` [K, B] (``ClassComparison.ablation``) for ``class_names`` over ``block_names``."""
        values = np.asarray(ablation, np.float64)
        self.drawn = classes_to_draw(values)
        colours = class_colours(len(self.drawn))
        self.legend.clear()
        xs = np.arange(len(block_names))
        for line, curve in enumerate(self.curves):
            if line < len(self.drawn):
                colour = colours[line]
                curve.setData(xs, values[self.drawn[line]])
                curve.setPen(pg.mkPen(colour, width=2))
                curve.setSymbolBrush(colour)
                self.legend.addItem(curve, class_names[self.drawn[line]])
            else:
                curve.setData([], [])
        # As tall as its entries: in the plot's layout it would otherwise spread them over the whole height.
        self.legend.setMaximumHeight(self.legend.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize).height())
        self.setTitle(chart_title(mode, len(self.drawn), len(values)), color=self.text_colour, size="9pt")
        self.show_blocks(block_names, 8)
        self.fit_values(values[self.drawn])

    def clear_data(self) -> None:
        for curve in self.curves:
            curve.setData([], [])
        self.legend.clear()
        self.setTitle(None)
        self.drawn = []
        self.clear_blocks()

    def line_count(self) -> int:
        """How many class lines are drawn."""
        return len(self.drawn)
