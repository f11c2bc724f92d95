"""Background work of the Doctor page: diagnosing a folder, and undoing every fix.

``DoctorWorker`` is a ``GeneratorWorker`` over ``model.doctor.run.diagnose``: its
progress reaches ``progressed`` and its report ``diagnosed``; a stop request ends
it at the next batch of images. The backend is imported in the worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import Signal

from app.workers import GeneratorWorker, Worker


class DoctorWorker(GeneratorWorker):
    """Diagnoses a folder; emits ``progressed`` while it works and then ``diagnosed(report)``."""

    diagnosed = Signal(object)  # model.doctor.report.DoctorReport

    def __init__(self, folder: str, source) -> None:
        super().__init__("Diagnosing the dataset")
        self.folder = folder
        self.source = source  # model.doctor.features.FeatureSource

    def events(self):
        from model.doctor.run import diagnose

        # diagnose returns its report; yielding it makes it one more event for routes().
        report = yield from diagnose(self.folder, self.source)
        yield report

    def routes(self) -> dict[type, object]:
        from model.doctor.report import DoctorReport

        return {DoctorReport: self.diagnosed}


class UndoAllWorker(Worker):
    """Undoes every fix in a data set's journal (hundreds of moves may take a moment)."""

    undone = Signal(list)  # [model.doctor.journal.FixResult]

    def __init__(self, folder: str) -> None:
        super().__init__("Undoing every fix")
        self.folder = folder

    def work(self) -> None:
        from model.doctor.journal import Journal

        self.undone.emit(Journal(self.folder).undo_all())
