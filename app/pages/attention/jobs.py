"""The Attention page's two background jobs: analysing an image and comparing classes.

Each runs one worker at a time. A request made while one runs stops it and
starts once it has ended (the newest request wins); a request made before the
model has loaded waits for it. Cancelling keeps what was shown before.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from app.pages.attention.workers import AnalysisNetworks, AnalysisWorker, ClassComparisonWorker
from app.session import ModelSession
from app.pages.attention.comparison_panel import ComparisonPanel
from app.widgets.job_bar import JobBar
from app.workers import WorkerPool

MAX_BATCH = 16  # images per forward pass; fewer for big variants (Predictor.default_batch_size)


class ImageAnalysisJob(QObject):
    """Starts and queues ``AnalysisWorker``s with the session's classifier; progress in ``job_bar``."""

    analysed = Signal(object)  # AnalysedImage
    failed = Signal(str)
    waiting = Signal(str)  # the image waits for the model to load
    finished = Signal()  # a worker ended (shown, failed or cancelled)

    def __init__(self, job_bar: JobBar, session: ModelSession, pool: WorkerPool, networks: AnalysisNetworks,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job_bar = job_bar
        self.session = session
        self.pool = pool
        self.networks = networks
        self.worker: AnalysisWorker | None = None
        self.pending: tuple[str, int | None] | None = None  # (path, class Grad-CAM explains)

    @property
    def idle(self) -> bool:
        return self.worker is None and self.pending is None

    def request(self, path: str, target_class: int | None = None) -> None:
        """Analyse ``path`` (Grad-CAM for ``target_class``, default the predicted class) as soon as possible."""
        self.pending = (str(path), target_class)
        if self.worker is not None:
            self.worker.stop()  # the pending request starts when this one has ended
            return
        self.start_pending()

    @Slot()
    def start_pending(self) -> None:
        if self.pending is None or self.worker is not None:
            return
        predictor = self.session.predictor
        if predictor is None:
            self.waiting.emit(self.pending[0])
            return
        (path, target), self.pending = self.pending, None
        active = self.session.active
        worker = AnalysisWorker(self.networks, predictor, path, active.summary() if active else "", target)
        worker.analysed.connect(self.analysed)
        worker.failed.connect(self.failed)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self.job_bar.track(worker, f"Analysing {Path(path).name}")
        self.pool.start(worker)  # after every connection, so no early signal is lost

    def cancel(self) -> None:
        self.pending = None
        self.job_bar.cancel()

    def drop_pending(self) -> None:
        self.pending = None

    @Slot()
    def _on_finished(self) -> None:
        self.worker = None
        self.finished.emit()
        self.start_pending()


class ClassComparisonJob(QObject):
    """Starts, queues and cancels class comparisons for ``panel`` with the session's classifier."""

    compared = Signal(object)  # ClassComparison, once the panel shows it
    finished = Signal()  # a worker ended (shown, failed or cancelled)

    def __init__(self, panel: ComparisonPanel, session: ModelSession, pool: WorkerPool,
                 networks: AnalysisNetworks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.session = session
        self.pool = pool
        self.networks = networks
        self.worker: ClassComparisonWorker | None = None
        self.pending: str | None = None
        self._model_summary = ""  # the model the running comparison uses

    @property
    def idle(self) -> bool:
        return self.worker is None and self.pending is None

    def request(self, folder: str) -> None:
        """Compare the classes of ``folder`` as soon as possible."""
        self.panel.set_folder(str(folder))
        self.panel.show_message("")
        self.pending = str(folder)
        if self.worker is not None:
            self.worker.stop()  # the pending folder starts when this one has ended
            return
        self.start_pending()

    @Slot()
    def start_pending(self) -> None:
        """Start the waiting request, if there is one and a model to run it with."""
        if self.pending is None or self.worker is not None:
            return
        predictor = self.session.predictor
        if predictor is None:
            self.panel.show_message("Waiting for the model to load…")
            return
        folder, self.pending = self.pending, None
        batch = max(1, min(MAX_BATCH, predictor.default_batch_size()))
        worker = ClassComparisonWorker(self.networks, predictor, folder, batch_size=batch)
        worker.compared.connect(self._on_compared)
        worker.failed.connect(self.panel.show_message)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self._model_summary = self.session.active.summary() if self.session.active else ""
        self.panel.show_message("")
        self.panel.job.track(worker, f"Comparing the classes in {Path(folder).name}")
        self.pool.start(worker)  # after every connection, so no early signal is lost

    def cancel(self) -> None:
        self.pending = None
        self.panel.job.cancel()

    def drop_pending(self) -> None:
        if self.pending is not None:
            self.pending = None
            self.panel.show_message("")

    @Slot(object)
    def _on_compared(self, comparison) -> None:
        self.panel.show_comparison(comparison, self._model_summary)
        self.compared.emit(comparison)

    @Slot()
    def _on_finished(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None and worker.stop_requested and self.pending is None:
            self.panel.show_message("Cancelled; the comparison shown before (if any) is kept.")
        self.finished.emit()
        self.start_pending()
