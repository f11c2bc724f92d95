"""B0–B7 as a table model: size, cost, accuracy, weights on disk and measured speed."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from app.state import VariantFacts, initial_facts
from app.widgets.column_table import ColumnTableModel

COLUMNS = (
    ("Variant", "EfficientNet variant; the active classifier is in bold"),
    ("Params", "Parameters with the 1000-class ImageNet head"),
    ("GFLOPs", "Billions of floating-point operations for one image at native resolution"),
    ("Resolution", "Native input resolution (pixels)"),
    ("ImageNet top-1", "Top-1 accuracy of torchvision's ImageNet weights"),
    ("Weights", "Whether the ImageNet weights are on this computer"),
    ("Latency", "Median time for one image on this machine (Measure on this machine)"),
    ("Throughput", "Images per second on this machine (Measure on this machine)"),
)
NUMERIC = {1, 2, 3, 4, 6, 7}
VariantRole = Qt.ItemDataRole.UserRole + 1
PENDING = "…"
NOT_MEASURED = "–"


class VariantTableModel(ColumnTableModel):
    """One row per variant; ``set_facts`` and ``set_measurement`` fill it in as results arrive."""

    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._facts: list[VariantFacts] = list(initial_facts())
        self._measurements: dict[str, object] = {}  # variant -> model.inference.benchmark.Measurement
        self._active = ""

    def row_count(self) -> int:
        return len(self._facts)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._facts):
            return None
        facts = self._facts[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(facts, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column in NUMERIC else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and facts.name == self._active:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[column][1]
        if role == VariantRole:
            return facts.name
        return None

    def _text(self, f: VariantFacts, column: int) -> str:
        m = self._measurements.get(f.name)
        if column == 0:
            return f.title + ("  (active)" if f.name == self._active else "")
        if column == 1:
            return PENDING if f.params is None else f"{f.params / 1e6:.1f} M"
        if column == 2:
            return PENDING if f.gflops is None else f"{f.gflops:.2f}"
        if column == 3:
            return f"{f.resolution} px"
        if column == 4:
            return PENDING if f.top1 is None else f"{f.top1:.1f} %"
        if column == 5:
            if f.cached is None:
                return PENDING
            if f.cached:
                return "On disk"
            return f"Not downloaded ({f.download_mb:.0f} MB)" if f.download_mb else "Not downloaded"
        if column == 6:
            return NOT_MEASURED if m is None else f"{m.latency_ms_median:.1f} ms"
        if column == 7:
            return NOT_MEASURED if m is None else f"{m.images_per_sec:.1f} img/s"
        return ""

    # --- updates ---------------------------------------------------------------------
    def facts(self) -> list[VariantFacts]:
        return list(self._facts)

    def measurements(self) -> dict[str, object]:
        return dict(self._measurements)

    def variant_at(self, row: int) -> str:
        return self._facts[row].name

    def row_of(self, variant: str) -> int:
        return next((i for i, f in enumerate(self._facts) if f.name == variant), -1)

    def set_facts(self, facts: tuple[VariantFacts, ...] | list[VariantFacts]) -> None:
        self._facts = list(facts)
        self._changed_all()

    def set_active(self, variant: str) -> None:
        self._active = variant
        self._changed_all()

    def set_measurement(self, measurement) -> None:
        self._measurements[measurement.variant] = measurement
        row = self.row_of(measurement.variant)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 6), self.index(row, 7))

    def clear_measurements(self) -> None:
        self._measurements.clear()
        self._changed_all()

    def _changed_all(self) -> None:
        if self._facts:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._facts) - 1, len(COLUMNS) - 1))
