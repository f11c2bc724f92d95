"""The "Find learning rate" dialog: a short sweep in a worker, the loss curve, and a suggestion to accept.

The sweep trains the network the form describes for up to 100 steps while the
learning rate grows from 1e-6 to 1 (``model.training.lr_find``). The curve fills
in live (at most ten redraws a second); at the end a line marks the suggested
rate (fastai's valley) and "Use this rate" puts it into the form. Closing the
dialog stops the sweep; nothing is written to disk.
"""

from __future__ import annotations

import math
import time

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from app.pages.train.quality_workers import LRFindWorker
from app.widgets.plot_style import labelled_plot, theme_colours

REDRAW_INTERVAL = 0.1  # seconds


class LRFinderDialog(QDialog):
    """Runs one sweep for ``config`` (a ``TrainConfig``; its run folder is not used) on ``pool``."""

    rate_accepted = Signal(float)
    result_shown = Signal(object)  # model.core.events.LRFinderResult, once drawn

    def __init__(self, pool, config, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find a learning rate")
        self.pool = pool
        self.config = config
        self.suggestion: float | None = None
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self._last_draw = 0.0
        text, highlight, _ = theme_colours(self)
        self.status = QLabel("Loading the data and the network…")
        self.status.setWordWrap(True)
        self.plot_widget, self.plot = labelled_plot(self, "learning rate", "loss (smoothed)")
        self.plot.setLogMode(x=True, y=False)
        self.curve = self.plot.plot([], [], pen=pg.mkPen(highlight, width=2))
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(text, width=1, style=Qt.PenStyle.DashLine))
        self.marker.hide()
        self.plot.addItem(self.marker)
        self.plot_widget.setMinimumSize(420, 260)
        self.use_button = QPushButton("Use this rate")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.accept_rate)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(buttons)
        self.worker = LRFindWorker(self.config)
        self.worker.step_done.connect(self._on_step)
        self.worker.result_ready.connect(self._on_result)
        self.worker.notice_posted.connect(self._on_notice)
        self.worker.failed.connect(self._on_failed)
        self.pool.start(self.worker)

    @Slot(object)
    def _on_notice(self, notice) -> None:
        self.status.setText(notice.message)

    @Slot(object)
    def _on_step(self, step) -> None:
        self.lrs.append(step.lr)
        self.losses.append(step.loss)
        now = time.perf_counter()
        if now - self._last_draw >= REDRAW_INTERVAL:
            self._last_draw = now
            self.curve.setData(self.lrs, self.losses)
            self.status.setText(f"Sweeping: step {step.step} of at most {step.steps}, learning rate {step.lr:.1e}.")

    @Slot(object)
    def _on_result(self, result) -> None:
        self.lrs, self.losses = list(result.lrs), list(result.losses)
        self.curve.setData(self.lrs, self.losses)
        self.suggestion = float(result.suggestion)
        self.marker.setValue(math.log10(self.suggestion))  # the axis is in log10 units
        self.marker.show()
        self.use_button.setText(f"Use {self.suggestion:.1e}")
        self.use_button.setEnabled(True)
        self.status.setText(
            f"Suggested learning rate {self.suggestion:.1e}: where the loss falls most steadily "
            f"(the steepest drop is at {result.steepest:.1e}). Too high a rate is where the curve turns up."
        )
        self.result_shown.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(message)

    @Slot()
    def accept_rate(self) -> None:
        if self.suggestion is not None:
            self.rate_accepted.emit(self.suggestion)
        self.accept()

    def done(self, result: int) -> None:
        self.worker.stop()  # the sweep ends at its next step; the pool lets the thread finish
        super().done(result)
