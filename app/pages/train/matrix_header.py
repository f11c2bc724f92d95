"""The confusion matrix's headers: labels that still read when a cell is only about 15 px.

A ``QHeaderView`` pads every label with the style's margins and clips it to the
section, so "50" in a 15 px column becomes "…" and a 16 px row loses the
underscores of "tabby_cat". With ``tight`` set, a ``MatrixHeader`` draws each
section's background as the style does and its label by hand, in a smaller
font, on the whole section (numbers centred, names shortened in the middle).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QPainter, QPalette
from PySide6.QtWidgets import QHeaderView, QStyle, QStyleOptionHeader, QWidget

SMALL = 0.8  # the tight labels' font, relative to the table's


class MatrixHeader(QHeaderView):
    """A header of the matrix; ``set_tight`` switches its labels to the small, margin-free drawing."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self.tight = False
        self.setSectionsClickable(True)  # as QTableView's own headers: a click selects the row or column

    def set_tight(self, tight: bool, base: QFont) -> None:
        """Tight (small labels, no margins) or not, in ``base`` (the table's font) scaled by ``SMALL``."""
        font = QFont(base)
        if tight:
            font.setPointSizeF(base.pointSizeF() * SMALL)
        if font.pointSizeF() != self.font().pointSizeF():
            self.setFont(font)
        if tight != self.tight:
            self.tight = tight
            self.viewport().update()

    def paintSection(self, painter: QPainter, rect: QRect, index: int) -> None:
        if not self.tight:
            super().paintSection(painter, rect, index)
            return
        option = QStyleOptionHeader()
        option.initFrom(self)
        option.rect = rect
        option.section = index
        option.orientation = self.orientation()
        self.style().drawControl(QStyle.ControlElement.CE_HeaderSection, option, painter, self)
        text = str(self.model().headerData(index, self.orientation(), Qt.ItemDataRole.DisplayRole) or "")
        painter.save()
        painter.setFont(self.font())
        painter.setPen(self.palette().color(QPalette.ColorRole.ButtonText))
        if self.orientation() == Qt.Orientation.Horizontal:
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        else:
            inner = rect.adjusted(3, 0, -2, 0)
            text = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, inner.width())
            painter.drawText(inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        painter.restore()
