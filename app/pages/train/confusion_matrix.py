"""The confusion matrix as a clickable heat map: rows are true classes, columns predicted ones.

It is a table (model and view), so it scrolls when even its smallest cells do
not fit, works with the keyboard and reads with a screen reader; each cell is
shaded by its share of its row (the class's recall on the diagonal) in the
theme's highlight colour, and any cell with images in it is visibly tinted.
Cells shrink to fit the view: below the size of their counts they are colour
only (50 classes on a maximised 1920×1080 window), the tooltip gives the count,
and the headers draw their labels smaller (``MatrixHeader``). When even the smallest cells do not
fit, ``room_wanted`` asks whoever holds the view for more height.
Clicking a cell, or pressing Enter on it, emits ``cell_selected(true, predicted)``.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.pages.train.matrix_header import MatrixHeader

CELL_SIZE = 44  # the largest cell; smaller ones make the whole matrix fit the space it has
MIN_CELL = 14  # below this a cell is too small to aim at and its colour too small to tell: the table scrolls
MAX_LABEL = 110  # row labels beyond this width are shortened with "…" (the tooltip has the full name)
MIN_TINT = 0.15  # the lightest shade of a cell with images in it: one mistake in 50 must still show


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
        self.numbered = False  # names too wide for the columns: columns show 1…n, rows "1 name"
        self.show_counts = True  # False: cells too small for their numbers are colour only (tooltips say them)

    def set_show_counts(self, show: bool) -> None:
        if show != self.show_counts:
            self.show_counts = show
            if self.matrix:
                last = len(self.matrix) - 1
                self.dataChanged.emit(self.index(0, 0), self.index(last, last), [Qt.ItemDataRole.DisplayRole])

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
            if not self.numbered:
                return name
            return str(section + 1) if orientation == Qt.Orientation.Horizontal else f"{section + 1}  {name}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"true class '{name}'" if orientation == Qt.Orientation.Vertical else f"predicted as '{name}'"
        return None

    def share(self, row: int, column: int) -> float:
        total = sum(self.matrix[row])
        return self.matrix[row][column] / total if total else 0.0

    def shade(self, row: int, column: int) -> float:
        """How far the cell's colour goes from the base towards the highlight: its share, and never
        less than ``MIN_TINT`` when it holds any image, so a rare mistake is not mistaken for none."""
        if not self.matrix[row][column]:
            return 0.0
        return MIN_TINT + (1 - MIN_TINT) * self.share(row, column)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        count = self.matrix[row][column]
        share = self.share(row, column)
        if role == Qt.ItemDataRole.DisplayRole:
            return str(count) if self.show_counts else ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            shade = self.shade(row, column)
            return blend(self.palette.color(QPalette.ColorRole.Base), self.palette.color(QPalette.ColorRole.Highlight), shade)
        if role == Qt.ItemDataRole.ForegroundRole:
            role_ = QPalette.ColorRole.HighlightedText if self.shade(row, column) > 0.5 else QPalette.ColorRole.Text
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
    room_wanted = Signal()  # even the smallest cells do not fit: the matrix scrolls unless it gets more room

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix_model = ConfusionMatrixModel(self.palette(), self)
        self.setHorizontalHeader(MatrixHeader(Qt.Orientation.Horizontal, self))
        self.setVerticalHeader(MatrixHeader(Qt.Orientation.Vertical, self))
        self.setModel(self.matrix_model)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setCornerButtonEnabled(False)
        self.setToolTip("Rows: true class · columns: predicted class. Click a cell to list its images.")
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setDefaultSectionSize(CELL_SIZE)
            header.setHighlightSections(True)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setMinimumSectionSize(MIN_CELL)
            header.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "golden_r…ver" keeps both ends
        self.verticalHeader().setDefaultSectionSize(CELL_SIZE * 2 // 3)
        self.verticalHeader().setMaximumWidth(MAX_LABEL)
        self.clicked.connect(self._on_index)
        self.activated.connect(self._on_index)

    def set_matrix(self, class_names: list[str], matrix: list[list[int]]) -> None:
        self.matrix_model.set_matrix(class_names, matrix)
        self.fit_cells()

    def fit_cells(self) -> None:
        """Size the cells so the whole matrix fits the view (10 classes at 1280×800 with their counts;
        50 maximised, colour only), down to MIN_CELL; the column labels are shortened to the cell
        and the tooltips name them in full."""
        n = self.matrix_model.rowCount()
        if not n:
            return
        frame = 2 * self.frameWidth()
        metrics = self.fontMetrics()
        line = metrics.height()
        # Each header's tightness is decided from the view's size and font alone (rows: with an ordinary
        # header row above them), so a header's own size, which changes with it, never feeds back.
        rows_tight = (self.height() - frame - (line + 8)) // n < line + 4
        self.verticalHeader().set_tight(rows_tight, self.font())
        width = (self.width() - frame - min(MAX_LABEL, self.verticalHeader().sizeHint().width())) // n
        column = max(MIN_CELL, min(CELL_SIZE * 2, width))
        self.horizontalHeader().setDefaultSectionSize(column)
        self.horizontalHeader().set_tight(column < metrics.horizontalAdvance(str(n)) + 2 * metrics.averageCharWidth(),
                                          self.font())
        height = (self.height() - frame - self.horizontalHeader().sizeHint().height()) // n
        row = max(MIN_CELL, min(CELL_SIZE * 2 // 3, height))
        self.verticalHeader().setDefaultSectionSize(row)
        widest = max((max(r) for r in self.matrix_model.matrix), default=0)
        self.matrix_model.set_show_counts(column >= metrics.horizontalAdvance(str(widest)) + 4 and row >= line)
        numbered = any(metrics.horizontalAdvance(name) + 8 > column for name in self.matrix_model.class_names)
        if numbered != self.matrix_model.numbered:
            self.matrix_model.numbered = numbered
            self.matrix_model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, n - 1)
            self.matrix_model.headerDataChanged.emit(Qt.Orientation.Vertical, 0, n - 1)
        if min(width, height) < MIN_CELL and self.isVisible():  # a hidden view's size may be stale
            self.room_wanted.emit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_cells()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.fit_cells()  # what was fitted while hidden may not have asked for room it needs

    def select_cell(self, row: int, column: int) -> None:
        """Select a cell as a click would (also for the screenshot)."""
        index = self.matrix_model.index(row, column)
        self.setCurrentIndex(index)
        self._on_index(index)

    @Slot(QModelIndex)
    def _on_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.cell_selected.emit(index.row(), index.column())
