"""Renaming and deleting run folders from the runs list.

A rename is a folder rename in the runs folder. Deleting moves the run to the
desktop's trash (QFile.moveToTrash) so a slip can be undone; where there is no
trash, it asks first and then deletes the folder for good. Neither touches a run
that another process is still training in (it holds the folder's lock).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QFile, QObject, QStandardPaths, Signal
from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from model.core.file_lock import lock_holder  # torch-free: the window is built before torch loads

_FORBIDDEN = set('/\\:*?"<>|')


def check_run_name(name: str) -> str:
    """Why ``name`` cannot be a run folder's name, or "" when it can."""
    if not name:
        return "A run needs a name."
    if name.startswith(".") or any(c in _FORBIDDEN or ord(c) < 32 for c in name):
        return f"'{name}' cannot be a folder name: leave out / \\ : * ? \" < > | and a leading dot."
    return ""


class RunFiles(QObject):
    """Rename and delete run folders; ``renamed(old, new)``, ``deleted(path)``, ``failed(sentence)``."""

    renamed = Signal(str, str)
    deleted = Signal(str)
    failed = Signal(str)

    def __init__(self, dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.dialog_parent = dialog_parent

    def _refuse_if_in_use(self, path: str) -> bool:
        """True (and the sentence sent) when a training in another process still holds the run: renaming or
        deleting it would lose the files that training writes next."""
        holder = lock_holder(Path(path))
        if holder is None:
            return False
        who = f" (pid {holder})" if holder else ""
        self.failed.emit(f"The run {Path(path).name} is in use by a training that is still going{who}: "
                         "wait for it to finish.")
        return True

    def rename(self, path: str) -> None:
        old = Path(path)
        if self._refuse_if_in_use(path):
            return
        name, ok = QInputDialog.getText(self.dialog_parent, "Rename the run", "New name of the run folder:",
                                        text=old.name)
        name = name.strip()
        if not ok or name == old.name:
            return
        problem = check_run_name(name)
        new = old if problem else old.with_name(name)
        if not problem and new.exists():
            problem = f"There is already a run called {name}; choose another name."
        if problem:
            self.failed.emit(problem)
            return
        if self._refuse_if_in_use(path):  # a training may have started while the dialog was open
            return
        try:
            old.rename(new)
        except OSError as e:
            self.failed.emit(f"The run could not be renamed ({e.strerror or e}); check the runs folder's permissions.")
            return
        self.renamed.emit(str(old), str(new))

    def delete(self, path: str) -> None:
        run = Path(path)
        if self._refuse_if_in_use(path):
            return
        # Qt's freedesktop trash lives in the data folder, which it will not create itself.
        Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)).mkdir(
            parents=True, exist_ok=True)
        result = QFile.moveToTrash(str(run))
        moved = result[0] if isinstance(result, tuple) else bool(result)  # PySide versions differ here
        if not moved:
            answer = QMessageBox.question(
                self.dialog_parent, "Delete the run",
                f"Delete the run {run.name} for good? There is no trash here: its model and checkpoints "
                "cannot be brought back.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes or self._refuse_if_in_use(path):
                return
            try:
                shutil.rmtree(run)
            except OSError as e:
                self.failed.emit(f"The run could not be deleted ({e.strerror or e}); some of its files may remain.")
                return
        self.deleted.emit(str(run))
