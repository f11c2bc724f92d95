"""Background work of the Doctor page: diagnosing a folder, and undoing every fix.

Each class is an ``app.workers.Worker``: its own QThread, one signal per kind of
result, the stop flag checked between steps. The backend is imported inside
``work()``, in the worker thread.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Signal

from app.workers import PROGRESS_INTERVAL_S, Worker


class DoctorWorker(Worker):
    """Runs ``model.doctor.run.diagnose`` on a folder; emits ``progressed`` and then ``diagnosed(report)``."""

    diagnosed = Signal(object)  # model.doctor.report.DoctorReport

    def __init__(self, folder: str, source) -> None:
        super().__init__("Diagnosing the dataset")
        self.folder = folder
        self.source = source  # model.doctor.features.FeatureSource
        self._cancel = threading.Event()

    def stop(self) -> None:
        super().stop()
        self._cancel.set()  # reaches the feature loop between batches

    def work(self) -> None:
        import time

        from model.doctor.run import diagnose

        gen = diagnose(self.folder, self.source, cancel=self._cancel)
        last = 0.0
        while True:
            try:
                event = next(gen)
            except StopIteration as done:
                report = done.value
                break
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL_S or event.done == event.total:
                last = now
                self.progressed.emit(event)
        if not self.stop_requested:
            self.diagnosed.emit(report)


class UndoAllWorker(Worker):
    """Undoes every fix in a data set's journal (hundreds of moves may take a moment)."""

    undone = Signal(list)  # [model.doctor.journal.FixResult]

    def __init__(self, folder: str) -> None:
        super().__init__("Undoing every fix")
        self.folder = folder

    def work(self) -> None:
        from model.doctor.journal import Journal

        self.undone.emit(Journal(self.folder).undo_all())
