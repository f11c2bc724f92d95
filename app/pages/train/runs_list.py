"""Earlier training runs, newest first; double-click (or Enter) reopens one, and several can be
selected (Ctrl- or Shift-click) to be compared."""

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
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setToolTip("Double-click (or Enter) to reopen a run with its curves and results; "
                        "select two or more (Ctrl- or Shift-click) to compare them")
        self.itemActivated.connect(self._on_activated)

    def set_runs(self, runs: list, current: str = "") -> None:
        self.clear()
        for run in runs:
            when = time.strftime("%d %b %Y %H:%M", time.localtime(run.modified))
            item = QListWidgetItem(f"{run.name}\n{when} · {run.describe()}")
            item.setData(PathRole, str(run.path))
            tip = "\nOpen it (Enter) and press Resume to continue it." if run.interrupted else ""
            item.setToolTip(f"{run.path}{tip}")
            self.addItem(item)
            if str(run.path) == current:
                self.setCurrentItem(item)

    def selected_path(self) -> str:
        """The selected run, when exactly one is selected (what Open, Rename and Delete act on); else ""."""
        selected = self.selected_paths()
        return selected[0] if len(selected) == 1 else ""

    def selected_paths(self) -> list[str]:
        """Every selected run, in the list's order (newest first)."""
        return [self.item(i).data(PathRole) for i in range(self.count()) if self.item(i).isSelected()]

    def paths(self) -> list[str]:
        return [self.item(i).data(PathRole) for i in range(self.count())]

    @Slot(QListWidgetItem)
    def _on_activated(self, item: QListWidgetItem) -> None:
        self.run_activated.emit(item.data(PathRole))
