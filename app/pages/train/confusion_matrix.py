"""The confusion matrix as a clickable heat map: rows are true classes, columns predicted ones.

It is a table (model and view), so it scrolls for many classes, works with the
keyboard and reads with a screen reader; each cell is shaded by its share of
its row (the class's recall on the diagonal) in the theme's highlight colour.
Clicking a cell, or pressing Enter on it, emits ``cell_selected(true, predicted)``.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

CELL_SIZE = 44


def blend(low: QColor, high: QColor, t: float) -> QColor:
    t = min(1.0, max(0.0, t))
    return QColor(
        round(low.red() + (high.red() - low.red()) * t),
        round(low.green() + (high.green() - low.green()) * t),
        round(low.blue() + (high.blue() - low.blue()) * t),
    )


class ConfusionMatrixModel(QAbstractTableModel):
    """Counts per (true, predicted) class pair, with the colours and tooltips of the heat map."""

    def __init__(self, palette: QPalette, parent=None) -> None:
        super().__init__(parent)
        self.palette = palette
        self.class_names: list[str] = []
        self.matrix: list[list[int]] = []

    def set_matrix(self, class_names: list[str], matrix: list[list[int]]) -> None:
        self.beginResetModel()
        self.class_names = list(class_names)
        self.matrix = [list(row) for row in matrix]
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.matrix)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.matrix)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if not 0 <= section < len(self.class_names):
            return None
        name = self.class_names[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"true class '{name}'" if orientation == Qt.Orientation.Vertical else f"predicted as '{name}'"
        return None

    def share(self, row: int, column: int) -> float:
        total = sum(self.matrix[row])
        return self.matrix[row][column] / total if total else 0.0

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        count = self.matrix[row][column]
        share = self.share(row, column)
        if role == Qt.ItemDataRole.DisplayRole:
            return str(count)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            return blend(self.palette.color(QPalette.ColorRole.Base), self.palette.color(QPalette.ColorRole.Highlight), share)
        if role == Qt.ItemDataRole.ForegroundRole:
            role_ = QPalette.ColorRole.HighlightedText if share > 0.5 else QPalette.ColorRole.Text
            return self.palette.color(role_)
        if role == Qt.ItemDataRole.ToolTipRole:
            true, predicted = self.class_names[row], self.class_names[column]
            what = "correctly classified" if row == column else f"predicted as '{predicted}'"
            hint = "" if row == column or not count else " · click to see them"
            return f"{count} images of '{true}' {what} ({100 * share:.0f} % of '{true}'){hint}"
        return None


class ConfusionMatrixView(QTableView):
    """The heat map; ``cell_selected(true, predicted)`` when a cell is clicked or chosen with Enter."""

    cell_selected = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix_model = ConfusionMatrixModel(self.palette(), self)
        self.setModel(self.matrix_model)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setCornerButtonEnabled(False)
        self.setToolTip("Rows: true class · columns: predicted class. Click a cell to list its images.")
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setDefaultSectionSize(CELL_SIZE)
            header.setHighlightSections(True)
        self.horizontalHeader().setMinimumSectionSize(CELL_SIZE)
        self.verticalHeader().setDefaultSectionSize(CELL_SIZE * 2 // 3)
        self.clicked.connect(self._on_index)
        self.activated.connect(self._on_index)

    def set_matrix(self, class_names: list[str], matrix: list[list[int]]) -> None:
        self.matrix_model.set_matrix(class_names, matrix)
        # Wide enough for the longest class name, at least a square-ish cell.
        metrics = self.fontMetrics()
        width = max([CELL_SIZE] + [metrics.horizontalAdvance(n) + 16 for n in class_names])
        self.horizontalHeader().setDefaultSectionSize(min(width, 140))

    def select_cell(self, row: int, column: int) -> None:
        """Select a cell as a click would (also for the screenshot)."""
        index = self.matrix_model.index(row, column)
        self.setCurrentIndex(index)
        self._on_index(index)

    @Slot(QModelIndex)
    def _on_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.cell_selected.emit(index.row(), index.column())
