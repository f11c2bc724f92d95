"""Per-class precision, recall and F1 of a trained model, as a sortable table model."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from app.widgets.column_table import ColumnTableModel

COLUMNS = (
    ("Class", "The class (its sub-folder name)"),
    ("Precision", "Of the images predicted as this class, the share that really are"),
    ("Recall", "Of the images of this class, the share found"),
    ("F1", "The harmonic mean of precision and recall"),
    ("Images", "Validation images of this class"),
)
SortRole = Qt.ItemDataRole.UserRole + 1


class ClassMetricsModel(ColumnTableModel):
    """One row per class from ``Evaluation.per_class``."""

    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, float, float, float, int]] = []

    def set_metrics(self, per_class: dict[str, dict[str, float]]) -> None:
        self.beginResetModel()
        self._rows = [
            (name, m.get("precision", 0.0), m.get("recall", 0.0), m.get("f1", 0.0), int(m.get("support", 0)))
            for name, m in per_class.items()
        ]
        self.endResetModel()

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        value = self._rows[index.row()][index.column()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column in (1, 2, 3):
                return f"{100 * value:.1f} %"
            return str(value)
        if role == SortRole:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignLeft if column == 0 else Qt.AlignmentFlag.AlignRight
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None
