"""The question asked when the window closes while work the user would miss is running."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

STOP_AND_QUIT = "Stop and quit"


def quit_question(workers) -> str:
    """"Training is running. Stop it and quit? The run can be resumed later." for the running
    workers that have a ``quit_name``; "" when none has (they stop without asking)."""
    names: list[str] = []
    notes: list[str] = []
    for worker in workers:
        if worker.quit_name and worker.quit_name not in names:
            names.append(worker.quit_name)
            if worker.quit_note:
                notes.append(worker.quit_note)
    if not names:
        return ""
    if len(names) == 1:
        head = f"{names[0]} is running. Stop it and quit?"
    else:
        listed = ", ".join(names[:-1]) + " and " + names[-1].lower()
        head = f"{listed} are running. Stop them and quit?"
    return " ".join([head, *notes])


def question_box(parent: QWidget, text: str) -> QMessageBox:
    """The dialog: Stop and quit / Cancel, Cancel being the default (a stray Enter keeps working)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Quit EfficientNet Studio", text, QMessageBox.StandardButton.Cancel,
                      parent)
    box.setObjectName("quit_question")
    stop = box.addButton(STOP_AND_QUIT, QMessageBox.ButtonRole.DestructiveRole)
    stop.setObjectName("stop_and_quit")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box


def ask_stop_and_quit(parent: QWidget, text: str) -> bool:
    """Ask ``text``; True when the user chose Stop and quit."""
    box = question_box(parent, text)
    box.exec()
    return box.clickedButton() is not None and box.clickedButton().objectName() == "stop_and_quit"
