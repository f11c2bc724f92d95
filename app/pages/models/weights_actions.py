"""Getting ImageNet weights onto this computer: download or import, with progress and Cancel.

Both the Classify page's banner and the Models page offer these; this is the
one place that asks for the file, starts the worker and shows it in a JobBar.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from app.context import StudioContext
from app.pages.models.workers import DownloadWorker, ImportWeightsWorker
from app.widgets.job_bar import JobBar

WEIGHTS_FILTER = "PyTorch weights (*.pth *.pt);;All files (*)"


class WeightsActions(QObject):
    """Starts downloads and imports for a page; errors come out of ``failed`` as one sentence."""

    failed = Signal(str)

    def __init__(self, context: StudioContext, job: JobBar, parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.job = job
        self.dialog_parent = parent

    def download(self, variant: str) -> bool:
        """Download ``variant``'s weights; False when another job is still running here."""
        if self.job.busy:
            return False
        worker = DownloadWorker(variant)
        worker.downloaded.connect(self.context.session.weights_arrived)
        worker.failed.connect(self.failed)
        self.job.track(worker, f"Downloading EfficientNet-{variant.upper()} weights", units="bytes")
        self.context.pool.start(worker)  # after every connection, so no early signal is lost
        return True

    def import_file(self, variant: str) -> bool:
        """Ask for a weights file and import it for ``variant``; False when nothing was started."""
        if self.job.busy:
            return False
        settings = self.context.settings
        path, _ = QFileDialog.getOpenFileName(
            self.dialog_parent,
            f"Import ImageNet weights for EfficientNet-{variant.upper()}",
            settings.last_folder("weights"),
            WEIGHTS_FILTER,
        )
        if not path:
            return False
        settings.set_last_folder("weights", str(Path(path).parent))
        worker = ImportWeightsWorker(path, variant)
        worker.imported.connect(self.context.session.weights_arrived)
        worker.failed.connect(self.failed)
        self.job.track(worker, f"Checking and importing {Path(path).name}")
        self.context.pool.start(worker)
        return True
