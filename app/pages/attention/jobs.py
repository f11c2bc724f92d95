"""The Attention page's background jobs: analysing an image, scoring its maps, comparing classes.

Each is a ``QueuedJob``: one worker at a time, and a request made while one
runs stops it and starts once it has ended (the newest request wins); a request
made before the model has loaded waits for it. Cancelling keeps what was shown before.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from app.pages.attention.comparison_panel import ComparisonPanel
from app.pages.attention.queued_job import QueuedJob
from app.pages.attention.workers import AnalysisNetworks, AnalysisWorker, ClassComparisonWorker, EvidenceWorker
from app.session import ModelSession
from app.widgets.job_bar import JobBar
from app.workers import WorkerPool

MAX_BATCH = 16  # images per forward pass; fewer for big variants (Predictor.default_batch_size)


class ImageAnalysisJob(QueuedJob):
    """Starts and queues ``AnalysisWorker``s with the session's classifier; progress in ``job_bar``.

    A request is (path, class Grad-CAM explains or None for the predicted one).
    """

    analysed = Signal(object)  # AnalysedImage
    failed = Signal(str)
    waiting = Signal(str)  # the image waits for the model to load

    def __init__(self, job_bar: JobBar, session: ModelSession, pool: WorkerPool, networks: AnalysisNetworks,
                 parent: QObject | None = None) -> None:
        super().__init__(pool, parent)
        self.job_bar = job_bar
        self.session = session
        self.networks = networks

    def request(self, path: str, target_class: int | None = None) -> None:
        """Analyse ``path`` (Grad-CAM for ``target_class``, default the predicted class) as soon as possible."""
        self.queue((str(path), target_class))

    def ready(self, request) -> bool:
        if self.session.predictor is None:
            self.waiting.emit(request[0])
            return False
        return True

    def make_worker(self, request) -> AnalysisWorker:
        path, target = request
        active = self.session.active
        worker = AnalysisWorker(self.networks, self.session.predictor, path, active.summary() if active else "", target)
        worker.analysed.connect(self.analysed)
        worker.failed.connect(self.failed)
        self.job_bar.track(worker, f"Analysing {Path(path).name}")
        return worker

    def cancel(self) -> None:
        self.pending = None
        self.job_bar.cancel()


class ClassComparisonJob(QueuedJob):
    """Starts, queues and cancels class comparisons for ``panel`` with the session's classifier.

    A request is (folder, ablation mode or None), the mode read from the panel's option when asked.
    """

    compared = Signal(object)  # ClassComparison, once the panel shows it

    def __init__(self, panel: ComparisonPanel, session: ModelSession, pool: WorkerPool,
                 networks: AnalysisNetworks, parent: QObject | None = None) -> None:
        super().__init__(pool, parent)
        self.panel = panel
        self.session = session
        self.networks = networks
        self._model_summary = ""  # the model the running comparison uses
        panel.ablation_wanted.connect(self._on_ablation_wanted)

    def request(self, folder: str) -> None:
        """Compare the classes of ``folder`` as soon as possible."""
        self.panel.set_folder(str(folder))
        self.panel.show_message("")
        self.queue((str(folder), self.panel.ablation_mode()))

    def ready(self, request) -> bool:
        if self.session.predictor is None:
            self.panel.show_message("Waiting for the model to load…")
            return False
        return True

    def make_worker(self, request) -> ClassComparisonWorker:
        folder, ablation = request
        predictor = self.session.predictor
        batch = max(1, min(MAX_BATCH, predictor.default_batch_size()))
        worker = ClassComparisonWorker(self.networks, predictor, folder, batch_size=batch, ablation=ablation)
        worker.compared.connect(self._on_compared)
        worker.failed.connect(self.panel.show_message)
        self._model_summary = self.session.active.summary() if self.session.active else ""
        self.panel.show_message("")
        what = " and measuring SE ablation" if ablation else ""
        self.panel.job.track(worker, f"Comparing the classes in {Path(folder).name}{what}")
        return worker

    def cancel(self) -> None:
        self.pending = None
        self.panel.job.cancel()

    def drop_pending(self) -> None:
        if self.pending is not None:
            self.pending = None
            self.panel.show_message("")

    def worker_ended(self, worker) -> None:
        if worker.stop_requested and self.pending is None:
            self.panel.show_message("Cancelled; the comparison shown before (if any) is kept.")

    @Slot(object)
    def _on_compared(self, comparison) -> None:
        self.panel.show_comparison(comparison, self._model_summary)
        self.compared.emit(comparison)

    @Slot(str)
    def _on_ablation_wanted(self, folder: str) -> None:
        # The option was ticked while a comparison without ablation is shown: measure it for that folder.
        if self.idle:
            self.request(folder)


class EvidenceJob(QueuedJob):
    """Makes and scores maps the panel asks for; a request is (explainer, [(method, depth, layer)])."""

    scored = Signal(object)  # the requests, now cached on the explainer
    failed = Signal(str)

    def __init__(self, job_bar: JobBar, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(pool, parent)
        self.job_bar = job_bar

    def request(self, explainer, requests: list) -> None:
        """Score ``requests`` [(method, depth, layer)] of ``explainer``'s image as soon as possible."""
        self.queue((explainer, list(requests)))

    def make_worker(self, request) -> EvidenceWorker:
        worker = EvidenceWorker(*request)
        worker.scored.connect(self.scored)
        worker.failed.connect(self.failed)
        self.job_bar.track(worker, "Scoring the maps")
        return worker

    def cancel(self) -> None:
        self.pending = None
        if self.worker is not None:
            self.worker.stop()
