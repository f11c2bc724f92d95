"""Live training curves: loss, accuracy and learning rate against epochs (pyqtgraph).

Every curve is made once; new points go into plain lists and reach the plot
through ``setData`` at most ten times a second (a timer that only runs while
points are waiting), so a fast run costs the UI a few repaints per second.
Step points (running means within an epoch) are drawn thin; epoch points, the
ones that are saved with the run, are drawn with markers.
"""

from __future__ import annotations

from typing import Iterable

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from model.core.events import EpochMetrics, StepMetrics
from app.widgets.plot_style import epoch_plot_row, plots_over_legend

REDRAW_INTERVAL_MS = 100  # ~10 Hz
TRAIN_COLOUR = QColor(31, 119, 180)  # blue and orange read well on light and dark themes, and for most colour-blind eyes
VAL_COLOUR = QColor(230, 120, 20)
LR_COLOUR = QColor(44, 160, 44)

# name -> (plot, colour, role): "step" thin line, "epoch" line with markers
CURVES = {
    "train_loss_steps": ("loss", TRAIN_COLOUR, "step"),
    "train_loss": ("loss", TRAIN_COLOUR, "epoch"),
    "val_loss": ("loss", VAL_COLOUR, "epoch"),
    "train_acc_steps": ("acc", TRAIN_COLOUR, "step"),
    "train_acc": ("acc", TRAIN_COLOUR, "epoch"),
    "val_acc": ("acc", VAL_COLOUR, "epoch"),
    "lr": ("lr", LR_COLOUR, "step"),
}
PLOTS = {"loss": "Loss", "acc": "Accuracy (%)", "lr": "Learning rate"}


class TrainCurves(QWidget):
    """Three plots side by side; ``add_step``/``add_epoch`` feed them, ``show_history`` replaces them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view, self.plots, text = epoch_plot_row(self, PLOTS)
        for plot in self.plots.values():
            for name in ("left", "bottom"):
                # Major ticks only: the grid's minor levels made each repaint ~20 ms instead of ~5 ms.
                plot.getAxis(name).setStyle(maxTickLevel=0)
        self.plots["lr"].getAxis("left").enableAutoSIPrefix(False)
        self.plots["acc"].setYRange(0, 100, padding=0.02)  # a fixed scale: small changes look small
        self.plots["acc"].getViewBox().setAutoVisible(y=False)
        self.plots["acc"].disableAutoRange(axis="y")
        self.curves: dict[str, pg.PlotDataItem] = {}
        for name, (key, colour, role) in CURVES.items():
            if role == "step":
                faint = QColor(colour)
                faint.setAlpha(255 if key == "lr" else 110)
                item = self.plots[key].plot([], [], pen=pg.mkPen(faint, width=2 if key == "lr" else 1))
            else:
                item = self.plots[key].plot(
                    [], [], pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6, symbolBrush=colour, symbolPen=None
                )
            self.curves[name] = item
        self.best_lines = []
        for plot in self.plots.values():
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen(text, width=1, style=Qt.PenStyle.DotLine))
            line.setToolTip("The best epoch so far (its model is the one that is kept)")
            line.hide()
            plot.addItem(line)
            self.best_lines.append(line)

        self._data: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in CURVES}
        self._best_epoch = 0
        self._epochs = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.flush)
        # One legend for the three plots, outside them, so that it never hides a curve.
        self.legend = plots_over_legend(
            self,
            self.view,
            f"<span style='color:{TRAIN_COLOUR.name()}'>━━ ●</span> train (each epoch; the thin line is within epochs)"
            f" &nbsp; <span style='color:{VAL_COLOUR.name()}'>━━ ●</span> validation"
            f" &nbsp; ┆ best epoch (its model is kept)",
        )

    # --- feeding ---------------------------------------------------------------------------------
    def clear(self, epochs: int = 0) -> None:
        """Empty every curve; ``epochs`` fixes the x range (0: follow the data)."""
        for xs, ys in self._data.values():
            xs.clear()
            ys.clear()
        self._best_epoch = 0
        self.set_epochs(epochs)
        self.flush()

    def set_epochs(self, epochs: int) -> None:
        self._epochs = int(epochs)
        for plot in self.plots.values():
            if self._epochs:
                plot.setXRange(0, self._epochs, padding=0.02)
            else:
                plot.enableAutoRange(axis="x")

    def show_history(self, history: Iterable[EpochMetrics], epochs: int = 0) -> None:
        """Replace the curves with a run's saved epochs (reopening or resuming a run)."""
        history = list(history)
        self.clear(epochs or (history[-1].epochs if history else 0))
        for m in history:
            self._append_epoch(m)
        self.flush()

    def add_step(self, m: StepMetrics) -> None:
        x = (m.epoch - 1) + m.step / max(1, m.steps_per_epoch)
        self._append("train_loss_steps", x, m.loss)
        self._append("train_acc_steps", x, 100.0 * m.acc)
        self._append("lr", x, m.lr)
        self._schedule()

    def add_epoch(self, m: EpochMetrics) -> None:
        self._append_epoch(m)
        self._schedule()

    def _append_epoch(self, m: EpochMetrics) -> None:
        x = float(m.epoch)
        self._append("train_loss", x, m.train_loss)
        self._append("train_acc", x, 100.0 * m.train_acc)
        if m.val_loss is not None:
            self._append("val_loss", x, m.val_loss)
        if m.val_acc is not None:
            self._append("val_acc", x, 100.0 * m.val_acc)
        lr_x, _ = self._data["lr"]
        if not lr_x or lr_x[-1] < x:  # saved runs have no step points: the epoch's rate draws the curve
            self._append("lr", x, m.lr)
        if m.is_best:
            self._best_epoch = m.epoch

    def _append(self, name: str, x: float, y: float) -> None:
        xs, ys = self._data[name]
        xs.append(x)
        ys.append(float(y))

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def flush(self) -> None:
        """Draw every waiting point now (the timer does this ten times a second)."""
        self._timer.stop()
        for name, (xs, ys) in self._data.items():
            self.curves[name].setData(xs, ys)
        for line in self.best_lines:
            line.setValue(self._best_epoch)
            line.setVisible(self._best_epoch > 0)

    # --- reading back (tests, screenshots) -------------------------------------------------------
    def point_count(self, name: str) -> int:
        """Points the curve ``name`` draws right now (see CURVES for the names)."""
        xs, _ = self.curves[name].getData()
        return 0 if xs is None else len(xs)

    def best_epoch(self) -> int:
        return self._best_epoch
