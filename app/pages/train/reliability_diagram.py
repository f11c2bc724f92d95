"""A reliability diagram: how often the model is right at each level of confidence it states.

Bars are the accuracy of the validation predictions in each of 15 equal-width
confidence bins; the diagonal is perfect calibration. Bars below the diagonal
mean over-confidence, above it under-confidence. The title gives the ECE
(the bins' weighted mean gap) and the temperature the probabilities used.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.widgets.plot_style import labelled_plot, theme_colours


class ReliabilityDiagram(QWidget):
    """Draws ``Evaluation.reliability`` (bins, counts, accuracy) with its ECE."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        text, highlight, base = theme_colours(self)
        self.title = QLabel("Reliability (confidence against accuracy)")
        self.title.setWordWrap(True)
        self.plot_widget, self.plot = labelled_plot(self, "confidence", "accuracy")
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.plot([0, 1], [0, 1], pen=pg.mkPen(text, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.bars = pg.BarGraphItem(x=[], height=[], width=1 / 15, brush=highlight, pen=pg.mkPen(base))
        self.plot.addItem(self.bars)
        self.plot_widget.setMinimumSize(160, 140)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.plot_widget, 1)

    def show_bins(self, reliability: dict | None, ece: float | None = None, temperature: float = 1.0) -> None:
        """``reliability``: ``ReliabilityBins.to_dict()`` (None: an evaluation from before calibration)."""
        if not reliability:
            self.bars.setOpts(x=[], height=[])
            self.title.setText(
                "Reliability: not recorded for this run (trained before calibration)." if ece is not None
                else "Reliability (confidence against accuracy) appears when a run has validated its model."
            )
            return
        edges = reliability["edges"]
        centres, heights = [], []
        for i, (count, acc) in enumerate(zip(reliability["counts"], reliability["accuracy"])):
            if count and acc is not None:
                centres.append((edges[i] + edges[i + 1]) / 2)
                heights.append(acc)
        self.bars.setOpts(x=centres, height=heights, width=edges[1] - edges[0])
        shown = f"ECE {ece:.3f}" if ece is not None else "ECE –"
        self.title.setText(f"Reliability · {shown} · temperature {temperature:.2f} (diagonal: perfectly calibrated)")

    @property
    def bar_heights(self) -> list[float]:
        return list(self.bars.opts.get("height", []))
