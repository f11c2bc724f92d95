"""The "Compare runs" window: the chosen runs' validation curves overlaid, and their settings and results
side by side.

It is not modal, so the Train page stays usable beside it. The run folders are
read in a ``RunComparer`` worker; a run that cannot be read is named, with why,
above the rest, which are still compared. Closing the window stops a read still
under way.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QSplitter, QVBoxLayout, QWidget

from app.pages.train.compare_curves import CompareCurves
from app.pages.train.compare_table import CompareTable
from app.pages.train.workers import RunComparer


class CompareDialog(QDialog):
    """Compares the runs in ``paths`` (run folders), read on ``pool``."""

    shown = Signal(object)  # model.training.run_comparison.RunComparison, once drawn
    ended = Signal()  # the reading is over, whether it was drawn, failed or stopped

    def __init__(self, pool, paths: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare {len(paths)} runs")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.comparison = None
        self.status = QLabel(f"Reading {len(paths)} runs…")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.curves = CompareCurves()
        self.table = CompareTable()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves)
        split.addWidget(self.table)
        split.setSizes([360, 380])  # the table's rows all show without scrolling at the window's first size
        split.setChildrenCollapsible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self.resize(1000, 820)

        self.worker: RunComparer | None = RunComparer(paths)
        self.worker.compared.connect(self._on_compared)
        self.worker.failed.connect(self._on_failed)
        self.worker.ended.connect(self._on_worker_ended)
        pool.start(self.worker)

    @Slot(object, list)
    def _on_compared(self, comparison, notes: list) -> None:
        self.comparison = comparison
        self.curves.show_comparison(comparison)
        self.table.show_comparison(comparison)
        changed = [r.label if r.label.isupper() else r.label.lower()  # "EMA" stays an acronym
                   for r in comparison.rows if r.section == "settings" and r.differs]
        summary = (f"These runs differ in {', '.join(changed)} (bold below)." if changed
                   else "These runs were trained with the same settings.")
        if len(comparison.runs) < 2:
            summary = "Only one of the selected runs can be read, so there is nothing to compare it with."
        self.status.setText(" ".join([summary, *notes]))
        self.shown.emit(comparison)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(message)

    @Slot(object)
    def _on_worker_ended(self, worker) -> None:
        if worker is self.worker:
            self.worker = None
            self.ended.emit()

    def is_settled(self) -> bool:
        return self.worker is None

    def done(self, result: int) -> None:
        if self.worker is not None:
            self.worker.stop()  # it ends after the run it is reading; the pool lets the thread finish
        super().done(result)
