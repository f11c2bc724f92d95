"""Per-class precision, recall and F1 of a trained model, as a sortable table model."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

COLUMNS = (
    ("Class", "The class (its sub-folder name)"),
    ("Precision", "Of the images predicted as this class, the share that really are"),
    ("Recall", "Of the images of this class, the share found"),
    ("F1", "The harmonic mean of precision and recall"),
    ("Images", "Validation images of this class"),
)
SortRole = Qt.ItemDataRole.UserRole + 1


class ClassMetricsModel(QAbstractTableModel):
    """One row per class from ``Evaluation.per_class``."""

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

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][1]
        return None

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
