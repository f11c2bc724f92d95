"""The comparison view's plots: every run's validation accuracy and validation loss over its epochs.

One colour per run, the same in both plots and in the legend under them (outside
the plots, as on the live curves, so a name never hides a curve). After ten runs
the colours come round again, dashed, so no two runs look alike.
"""

from __future__ import annotations

from html import escape

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app.widgets.plot_style import epoch_plot_row, plots_over_legend

# Matplotlib's tab10: distinct on light and dark themes, and the live curves' blue and orange come first.
RUN_COLOURS = tuple(QColor(c) for c in ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"))
MAX_EPOCH_TICKS = 20  # up to this many epochs, one tick per epoch
MIN_ACC_SPAN = 10.0  # percentage points the accuracy plot shows at least
PLOTS = {"val_acc": "Validation accuracy (%)", "val_loss": "Validation loss"}


def run_pen(index: int) -> pg.QtGui.QPen:
    """Run ``index``'s line: its colour, solid for the first ten runs and dashed after."""
    style = Qt.PenStyle.SolidLine if index < len(RUN_COLOURS) else Qt.PenStyle.DashLine
    return pg.mkPen(RUN_COLOURS[index % len(RUN_COLOURS)], width=2, style=style)


class CompareCurves(QWidget):
    """Two plots side by side; ``show_comparison`` draws a ``RunComparison``'s curves once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view, self.plots, _ = epoch_plot_row(self, PLOTS)
        self.curves: dict[str, list[pg.PlotDataItem]] = {key: [] for key in PLOTS}
        self.legend = plots_over_legend(self, self.view)
        self.legend.setWordWrap(True)

    def show_comparison(self, comparison) -> None:
        """Draw ``comparison``'s curves (model.training.run_comparison.RunComparison), replacing any drawn."""
        for key, plot in self.plots.items():
            for item in self.curves[key]:
                plot.removeItem(item)
            self.curves[key] = []
            for index, curve in enumerate(getattr(comparison, key)):
                scale = 100.0 if key == "val_acc" else 1.0
                pen = run_pen(index)
                item = plot.plot(list(curve.epochs), [scale * v for v in curve.values], pen=pen, name=curve.run,
                                 symbol="o", symbolSize=5, symbolBrush=pen.color(), symbolPen=None)
                self.curves[key].append(item)
        epochs = max((max(c.epochs) for c in comparison.val_acc + comparison.val_loss if c.epochs), default=1)
        for plot in self.plots.values():
            plot.setXRange(1, max(2, epochs), padding=0.04)  # whole epochs from the first on, as the table counts them
            # An epoch is a whole number: no "2.5" ticks on short runs (long runs keep pyqtgraph's spacing).
            plot.getAxis("bottom").setTickSpacing(*((1, 1) if epochs <= MAX_EPOCH_TICKS else (None, None)))
        self._fit_accuracy([100.0 * v for c in comparison.val_acc for v in c.values])
        self.legend.setText(" &nbsp; ".join(
            f"<span style='color:{run_pen(i).color().name()}'>━━ ●</span> {escape(name)}"
            for i, name in enumerate(comparison.runs)
        ))

    def _fit_accuracy(self, values: list[float]) -> None:
        """Zoom on the accuracies, but never closer than MIN_ACC_SPAN points: runs that all score the same
        should look flat, not magnified noise."""
        if not values:
            return
        low, high = min(values), max(values)
        pad = max(0.0, MIN_ACC_SPAN - (high - low)) / 2 + 0.05 * (high - low)
        low, high = low - pad, high + pad
        shift = max(0.0, -low) - max(0.0, high - 100.0)  # slide the window back inside 0..100 %
        self.plots["val_acc"].setYRange(max(0.0, low + shift), min(100.0, high + shift), padding=0)

    # --- reading back (tests, screenshots) -------------------------------------------------------
    def curve_names(self, key: str = "val_acc") -> list[str]:
        """The run each curve of plot ``key`` belongs to, in drawing order."""
        return [item.name() for item in self.curves[key]]

    def point_count(self, key: str, index: int) -> int:
        xs, _ = self.curves[key][index].getData()
        return 0 if xs is None else len(xs)
