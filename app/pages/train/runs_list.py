"""Earlier training runs, newest first; double-click (or Enter) reopens one."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

PathRole = Qt.ItemDataRole.UserRole + 1


class RunsList(QListWidget):
    """One row per ``model.training.runs.RunSummary``; ``run_activated(path)`` asks to reopen it."""

    run_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setToolTip("Double-click (or Enter) to reopen a run with its curves and results")
        self.itemActivated.connect(self._on_activated)

    def set_runs(self, runs: list, current: str = "") -> None:
        self.clear()
        for run in runs:
            when = time.strftime("%d %b %Y %H:%M", time.localtime(run.modified))
            state = run.describe()
            if run.has_checkpoint and not run.has_model:
                state += " · interrupted"
            item = QListWidgetItem(f"{run.name}\n{when} · {state}")
            item.setData(PathRole, str(run.path))
            item.setToolTip(str(run.path))
            self.addItem(item)
            if str(run.path) == current:
                self.setCurrentItem(item)

    def selected_path(self) -> str:
        item = self.currentItem()
        return item.data(PathRole) if item is not None else ""

    def paths(self) -> list[str]:
        return [self.item(i).data(PathRole) for i in range(self.count())]

    @Slot(QListWidgetItem)
    def _on_activated(self, item: QListWidgetItem) -> None:
        self.run_activated.emit(item.data(PathRole))
