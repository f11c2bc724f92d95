"""A heat-map matrix drawn with crisp cells, row labels, a colour bar and hover reporting.

The Attention page uses it for the blocks × channels gate map and for the
class-mean gates. The matrix arrives already coloured (``model.explain.render``); this
widget only stretches it over its plot area (nearest sampling, so every cell
shows one real value) and tells its owner where the pointer is, in plot
pixels, so the owner can look the cell up in its own data (e.g.
``GateMap.cell_at_pixel``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.pages.attention.image_pane import rgb_to_qimage

BAR_WIDTH = 12
GAP = 6


class MatrixView(QWidget):
    """Draws an RGB matrix [rows, cols, 3] over a plot rectangle; ``describe`` gives hover text."""

    hovered = Signal(float, float, int, int)  # x, y in the plot, plot width, height; x = -1 outside
    row_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._rows = 0
        self._labels: list[tuple[float, str]] = []
        self._highlight: tuple[int, int] | None = None
        self._legend: tuple[QImage, str, str] | None = None
        self.hint = ""
        # Hover text for a plot position: (x, y, width, height) -> str; "" for none.
        self.describe: Callable[[float, float, int, int], str] | None = None
        self.setMouseTracking(True)
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(800, 220)

    # --- content ---------------------------------------------------------------------
    def set_matrix(self, rgb: np.ndarray, row_labels: list[tuple[float, str]]) -> None:
        """Show ``rgb`` [rows, cols, 3]; ``row_labels`` are (row, text) pairs drawn left of the plot
        (a fractional row centres a label on a band of rows)."""
        self._image = rgb_to_qimage(rgb)
        self._rows = int(rgb.shape[0])
        self._labels = list(row_labels)
        self._highlight = None
        self.update()

    def set_legend(self, lut: np.ndarray, low: str, high: str) -> None:
        """A colour bar from a 256×3 colormap table, labelled ``low`` at the bottom and ``high`` on top."""
        ramp = np.ascontiguousarray(lut[::-1][:, None, :].repeat(2, axis=1))
        self._legend = (rgb_to_qimage(ramp), low, high)
        self.update()

    def set_highlight(self, first_row: int | None, count: int = 1) -> None:
        """Outline rows ``first_row`` … ``first_row + count − 1`` (None: no outline)."""
        self._highlight = None if first_row is None else (first_row, count)
        self.update()

    def clear(self, hint: str = "") -> None:
        self._image = QImage()
        self._rows = 0
        self._labels = []
        self._highlight = None
        self.hint = hint
        self.update()

    def has_matrix(self) -> bool:
        return not self._image.isNull()

    # --- geometry --------------------------------------------------------------------
    def plot_rect(self) -> QRectF:
        """Where the matrix is drawn: labels to the left, the colour bar to the right."""
        metrics = self.fontMetrics()
        left = max((metrics.horizontalAdvance(t) for _, t in self._labels), default=0) + GAP
        right = 0
        if self._legend is not None:
            right = GAP * 4 + BAR_WIDTH + max(metrics.horizontalAdvance(self._legend[1]),
                                              metrics.horizontalAdvance(self._legend[2]))
        top = bottom = metrics.height() // 2  # room for the first and last labels
        return QRectF(left, top, max(1, self.width() - left - right), max(1, self.height() - top - bottom))

    def plot_point(self, pos: QPointF) -> tuple[float, float, int, int]:
        """(x, y, width, height) of ``pos`` in the plot; x = y = -1 outside it."""
        rect = self.plot_rect()
        w, h = int(rect.width()), int(rect.height())
        if not self.has_matrix() or not rect.contains(pos):
            return -1.0, -1.0, w, h
        return pos.x() - rect.x(), pos.y() - rect.y(), w, h

    def row_at(self, y: float, height: int) -> int:
        return min(self._rows - 1, max(0, int(y * self._rows / max(1, height))))

    # --- painting ----------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        if not self.has_matrix():
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.hint)
            return
        rect = self.plot_rect()
        row_h = rect.height() / self._rows
        painter.drawImage(rect, self._image)  # no smoothing: nearest sampling keeps cells crisp
        painter.setPen(text)
        metrics = self.fontMetrics()
        # The highlighted row's label always shows (in bold); the others are thinned so that none overlap.
        marked = [(r, t) for r, t in self._labels if self._highlight is not None and
                  self._highlight[0] <= r < self._highlight[0] + self._highlight[1]][:1]
        marked_y = [rect.y() + (r + 0.5) * row_h for r, _ in marked]
        last_y = -1e9
        for row, label in self._labels:
            y = rect.y() + (row + 0.5) * row_h
            if y - last_y < metrics.height() or any(abs(y - m) < metrics.height() for m in marked_y):
                continue
            last_y = y
            self._draw_label(painter, rect, y, label)
        if marked:
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(palette.color(QPalette.ColorRole.Highlight))
            self._draw_label(painter, rect, marked_y[0], marked[0][1])
            font.setBold(False)
            painter.setFont(font)
        if self._highlight is not None:
            first, count = self._highlight
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2)
            painter.setPen(pen)
            painter.drawRect(QRectF(rect.x() - 1, rect.y() + first * row_h - 1, rect.width() + 2, count * row_h + 2))
        if self._legend is not None:
            ramp, low, high = self._legend
            bar = QRectF(rect.right() + GAP * 2, rect.y(), BAR_WIDTH, rect.height())
            painter.drawImage(bar, ramp)
            painter.setPen(QColor(text))
            painter.drawRect(bar)
            x = bar.right() + GAP / 2
            painter.drawText(QPointF(x, bar.top() + metrics.ascent() / 2), high)
            painter.drawText(QPointF(x, bar.bottom() + metrics.ascent() / 2), low)

    def _draw_label(self, painter: QPainter, rect: QRectF, y: float, label: str) -> None:
        height = painter.fontMetrics().height()
        painter.drawText(QRectF(0, y - height / 2, rect.x() - GAP / 2, height),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)

    # --- pointer ------------------------------------------------------------------------
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.hovered.emit(*self.plot_point(event.position()))

    def leaveEvent(self, event) -> None:
        rect = self.plot_rect()
        self.hovered.emit(-1.0, -1.0, int(rect.width()), int(rect.height()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        x, y, _, h = self.plot_point(event.position())
        if x >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.row_clicked.emit(self.row_at(y, h))

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            x, y, w, h = self.plot_point(QPointF(event.pos()))
            text = self.describe(x, y, w, h) if self.describe is not None and x >= 0 else ""
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
