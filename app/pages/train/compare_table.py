"""The comparison view's table: one column per run, one row per setting or result.

A setting the runs differ in is bold across its row: that is what changed
between them. In the results, the best run's value is bold (only where "best"
has a direction and there is no tie). Section rows ("Settings", "Results")
span the table so the two kinds of rows never blur.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

SECTIONS = {"settings": "Settings", "results": "Results"}
READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class CompareTable(QTableWidget):
    """Shows a ``model.training.run_comparison.RunComparison``'s rows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)  # copy a block of values
        self.setWordWrap(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setToolTip("Bold settings are the ones these runs differ in; in the results, bold marks the best run")

    def show_comparison(self, comparison) -> None:
        self.clear()
        self.clearSpans()
        runs = comparison.runs
        self.setColumnCount(len(runs))
        self.setHorizontalHeaderLabels(list(runs))
        for column, name in enumerate(runs):
            self.horizontalHeaderItem(column).setToolTip(name)
        lines: list[tuple[str, object]] = []  # ("section", title) or ("row", ComparisonRow)
        for key, title in SECTIONS.items():
            rows = [r for r in comparison.rows if r.section == key]
            if rows:
                lines.append(("section", title))
                lines.extend(("row", r) for r in rows)
        self.setRowCount(len(lines))
        for index, (kind, content) in enumerate(lines):
            if kind == "section":
                self._section_row(index, content, len(runs))
            else:
                self._value_row(index, content)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch if len(runs) <= 3 else QHeaderView.ResizeMode.ResizeToContents)

    def _section_row(self, index: int, title: str, columns: int) -> None:
        header = QTableWidgetItem("")
        header.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.setVerticalHeaderItem(index, header)
        item = QTableWidgetItem(title)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        item.setFont(font)
        self.setItem(index, 0, item)
        if columns > 1:
            self.setSpan(index, 0, 1, columns)

    def _value_row(self, index: int, row) -> None:
        label = QTableWidgetItem(row.label)
        label.setToolTip(row.tip)
        highlight_row = row.section == "settings" and row.differs
        label.setFont(self._font(highlight_row))
        self.setVerticalHeaderItem(index, label)
        for column, value in enumerate(row.values):
            item = QTableWidgetItem(value)
            item.setFlags(READ_ONLY)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            is_best = row.best == column
            item.setFont(self._font(highlight_row or is_best))
            if highlight_row:
                item.setToolTip(f"{row.label}: the runs differ here")
            elif is_best:
                item.setToolTip(f"{row.label}: the best of these runs")
            self.setItem(index, column, item)

    def _font(self, bold: bool) -> QFont:
        font = QFont(self.font())
        font.setBold(bold)
        return font

    # --- reading back (tests, screenshots) -------------------------------------------------------
    def row_labels(self) -> list[str]:
        return [self.verticalHeaderItem(r).text() for r in range(self.rowCount())]

    def bold_labels(self) -> list[str]:
        """The rows shown bold across (settings the runs differ in)."""
        return [self.verticalHeaderItem(r).text() for r in range(self.rowCount()) if self.verticalHeaderItem(r).font().bold()]

    def run_names(self) -> list[str]:
        return [self.horizontalHeaderItem(c).text() for c in range(self.columnCount())]
