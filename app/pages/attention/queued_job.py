"""One worker at a time where the newest request wins: the shape of every Attention page job.

A request made while a worker runs stops that worker and starts once it has
ended; requests made in between are forgotten, since only the newest one is
still wanted (the image dropped last, the folder chosen last). A request that
cannot start yet (no model loaded) waits until ``start_pending`` is called again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from app.workers import Worker, WorkerPool


class QueuedJob(QObject):
    """Runs at most one worker; subclasses say when a request can start and make its worker.

    ``make_worker`` builds the worker and connects the subclass's own signals
    (and a job bar); this class connects ``finished``, keeps the worker and
    starts it in the pool once every connection is made.
    """

    finished = Signal()  # a worker ended (shown, failed or cancelled)

    def __init__(self, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.worker: Worker | None = None
        self.pending: object | None = None  # the request waiting to start

    @property
    def idle(self) -> bool:
        return self.worker is None and self.pending is None

    def queue(self, request: object) -> None:
        """Run ``request`` as soon as possible, in place of any request still waiting."""
        self.pending = request
        if self.worker is not None:
            self.worker.stop()  # the pending request starts when this one has ended
            return
        self.start_pending()

    @Slot()
    def start_pending(self) -> None:
        """Start the waiting request, if there is one, no worker runs and ``ready`` allows it."""
        if self.pending is None or self.worker is not None or not self.ready(self.pending):
            return
        request, self.pending = self.pending, None
        worker = self.make_worker(request)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self.pool.start(worker)  # after every connection, so no early signal is lost

    def drop_pending(self) -> None:
        """Forget the waiting request (the running worker, if any, goes on)."""
        self.pending = None

    def ready(self, request: object) -> bool:
        """Whether ``request`` can start now; a request that must wait says so to the user here."""
        return True

    def make_worker(self, request: object) -> Worker:
        """The worker for ``request``, its result signals connected (not yet started)."""
        raise NotImplementedError(f"{type(self).__name__} must make its workers")

    def worker_ended(self, worker: Worker) -> None:
        """Called when ``worker`` has ended, before ``finished``; ``worker.stop_requested`` says if it was stopped."""

    @Slot()
    def _on_finished(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            self.worker_ended(worker)
        self.finished.emit()
        self.start_pending()
