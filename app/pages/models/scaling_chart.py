"""The paper's Figure 1 on the user's own hardware: ImageNet top-1 against cost.

Before anything is measured the x axis is GFLOPs; once "Measure on this machine"
delivers latencies it becomes milliseconds per image on this device. Both span
two orders of magnitude, so the x axis is logarithmic. The plot items are made
once and updated with ``setData``.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

from app.state import VariantFacts
from app.widgets.plot_style import style_plot, theme_colours


class LogAxis(pg.AxisItem):
    """A log axis labelled with plain numbers at 1-2-5 steps ("20", "50", "100"), not "2·10¹"."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph's name)
        lo, hi = math.floor(minVal), math.ceil(maxVal)
        major = [math.log10(m * 10.0**e) for e in range(lo, hi + 1) for m in (1, 2, 5)]
        return [(1.0, [v for v in major if minVal <= v <= maxVal])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return [f"{10.0**v:.3g}" for v in values]


class ScalingChart(pg.PlotWidget):
    """Top-1 accuracy per variant against GFLOPs or measured latency."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": LogAxis(orientation="bottom")})
        text, line, base = theme_colours(self)
        self.setBackground(base)  # the theme's colours, not black
        item = self.getPlotItem()
        style_plot(item, text)
        self.setLogMode(x=True, y=False)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setLabel("left", "ImageNet top-1 (%)")
        self.curve = self.plot(
            [], [], pen=pg.mkPen(line, width=2), symbol="o", symbolSize=9, symbolBrush=line, symbolPen=None
        )
        self.active_marker = self.plot(
            [], [], pen=None, symbol="o", symbolSize=18, symbolBrush=None, symbolPen=pg.mkPen(text, width=2)
        )
        self.labels: dict[str, pg.TextItem] = {}
        self.x_kind = "gflops"

    def show_data(
        self,
        facts: list[VariantFacts],
        measurements: dict[str, object],
        active: str = "",
        device_name: str = "",
    ) -> None:
        """Plot every variant with known accuracy; by latency when measured, else by GFLOPs."""
        if measurements:
            self.x_kind = "latency"
            points = [(f, measurements[f.name].latency_ms_median) for f in facts if f.name in measurements and f.top1]
            self.setLabel("bottom", "Latency per image on this machine (ms, log scale)")
            self.setTitle(f"Accuracy vs. measured latency · {device_name}" if device_name else "Accuracy vs. latency")
        else:
            self.x_kind = "gflops"
            points = [(f, f.gflops) for f in facts if f.gflops and f.top1]
            self.setLabel("bottom", "GFLOPs per image (log scale)")
            self.setTitle("Accuracy vs. cost · measure to see latency on this machine")
        xs = [x for _, x in points]
        ys = [f.top1 for f, _ in points]
        self.curve.setData(xs, ys)
        shown = set()
        for f, x in points:
            label = self.labels.get(f.name)
            if label is None:
                label = pg.TextItem(f.name.upper(), color=self.palette().color(QPalette.ColorRole.Text), anchor=(-0.3, 1.0))
                self.addItem(label)
                self.labels[f.name] = label
            # TextItems are placed in view coordinates, which are log10 on a log axis.
            label.setPos(math.log10(x), f.top1)
            label.show()
            shown.add(f.name)
        for name, label in self.labels.items():
            if name not in shown:
                label.hide()
        marked = [(x, f.top1) for f, x in points if f.name == active]
        self.active_marker.setData([p[0] for p in marked], [p[1] for p in marked])
        if points:
            self.getPlotItem().enableAutoRange()
            lo, hi = math.log10(min(xs)), math.log10(max(xs))
            span = max(hi - lo, 0.5)
            self.setXRange(lo - 0.08 * span, hi + 0.18 * span, padding=0)
            self.setYRange(min(ys) - 0.8, max(ys) + 0.8, padding=0)

    def point_count(self) -> int:
        xs, _ = self.curve.getData()
        return 0 if xs is None else len(xs)
