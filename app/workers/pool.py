"""The pool that starts every worker on its own QThread and stops them all when the app quits."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from app.workers.base import Worker


class WorkerPool(QObject):
    """Starts workers on their own QThreads, knows what is running, and stops it all on exit."""

    busy_changed = Signal(str)  # what is running ("" when idle)
    all_finished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[Worker, QThread] = {}

    def start(self, worker: Worker) -> Worker:
        """Run ``worker`` on a new thread. Connect to its signals before calling this."""
        thread = QThread()
        thread.setObjectName(worker.description)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit() is thread-safe, and a queued call could not arrive while
        # the UI thread waits for the thread in wait_all().
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        # The worker names itself in ``ended``, so the pool needs no sender() lookup.
        worker.ended.connect(self._on_worker_ended)
        self._running[worker] = thread
        thread.start()
        self.busy_changed.emit(self.busy_text())
        return worker

    @property
    def idle(self) -> bool:
        return not self._running

    def busy_text(self) -> str:
        return " · ".join(w.description for w in self._running)

    def stop_all(self) -> None:
        """Ask every worker to stop; they finish at their next step."""
        for worker in self._running:
            worker.stop()

    def wait_all(self) -> None:
        """Block until every thread has ended (used only when the app is quitting)."""
        self.stop_all()
        for thread in list(self._running.values()):
            thread.wait()
        self._running.clear()

    @Slot(object)
    def _on_worker_ended(self, worker: Worker) -> None:
        thread = self._running.pop(worker, None)
        if thread is None:
            return
        thread.wait()  # run() has returned and quit() was called: the thread ends at once
        self.busy_changed.emit(self.busy_text())
        if not self._running:
            self.all_finished.emit()
