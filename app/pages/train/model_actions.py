"""What can be done with a trained model bundle: use it to classify, save a copy, export it.

The Train page offers these for the run it shows. Saving and exporting run in
workers, one at a time, shown in a JobBar with Cancel; making the bundle the
active classifier goes through the session, as File ▸ Open fine-tuned model does.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from app.context import StudioContext
from app.pages.train.workers import CopyWorker, ExportWorker
from app.widgets.job_bar import JobBar

BUNDLE_FILTER = "Model bundles (*.pt);;All files (*)"
EXPORT_FILTERS = {"onnx": "ONNX model (*.onnx)", "torchscript": "TorchScript model (*.torchscript.pt)"}
EXPORT_SUFFIXES = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}


def export_format_for(path: str, chosen_filter: str) -> tuple[str, str]:
    """(format, path with a fitting suffix) from the file name, else from the dialog's filter."""
    name = path.lower()
    if name.endswith(".onnx"):
        return "onnx", path
    if name.endswith((".pt", ".pth", ".ts", ".torchscript")):
        return "torchscript", path
    fmt = "torchscript" if chosen_filter == EXPORT_FILTERS["torchscript"] else "onnx"
    return fmt, path + EXPORT_SUFFIXES[fmt]


class ModelActions(QObject):
    """Use, save and export a bundle; results and errors come out as one sentence each."""

    failed = Signal(str)
    done = Signal(str)  # what happened, for the page to show

    def __init__(self, context: StudioContext, job: JobBar, parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.job = job
        self.dialog_parent = parent

    @property
    def busy(self) -> bool:
        return self.job.busy

    def use(self, bundle: str) -> None:
        """Make ``bundle`` the active classifier (it loads in the background)."""
        session = self.context.session
        if session.backend is None:
            self.failed.emit("The backend is still loading; try again in a moment.")
            return
        session.activate_bundle(bundle)
        self.done.emit(f"Classify now uses the fine-tuned model {Path(bundle).parent.name} (it loads in the background).")

    def save_as(self, bundle: str, suggested_name: str) -> bool:
        """Ask where to save a copy of ``bundle`` and copy it there in a worker."""
        if self.job.busy:
            return False
        settings = self.context.settings
        start = str(Path(settings.last_folder("bundle") or Path.home()) / f"{suggested_name}.pt")
        path, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Save the trained model as", start, BUNDLE_FILTER)
        if not path:
            return False
        settings.set_last_folder("bundle", str(Path(path).parent))
        worker = CopyWorker(bundle, path)
        worker.copied.connect(self._on_copied)
        worker.failed.connect(self.failed)
        self.job.track(worker, f"Saving {Path(path).name}", units="bytes")
        self.context.pool.start(worker)  # after every connection, so no early signal is lost
        return True

    def export(self, bundle: str, suggested_name: str) -> bool:
        """Ask for a format and a file, then export ``bundle`` and check the file against the model."""
        if self.job.busy:
            return False
        settings = self.context.settings
        start = str(Path(settings.last_folder("export") or Path.home()) / f"{suggested_name}.onnx")
        path, chosen = QFileDialog.getSaveFileName(
            self.dialog_parent, "Export the trained model", start, ";;".join(EXPORT_FILTERS.values())
        )
        if not path:
            return False
        fmt, path = export_format_for(path, chosen)
        settings.set_last_folder("export", str(Path(path).parent))
        worker = ExportWorker(bundle, fmt, path)
        worker.exported.connect(self._on_exported)
        worker.failed.connect(self.failed)
        self.job.track(worker, f"Exporting {Path(path).name} and checking it against the model")
        self.context.pool.start(worker)
        return True

    @Slot(str)
    def _on_copied(self, path: str) -> None:
        self.done.emit(f"Saved the model to {path}.")

    @Slot(object)
    def _on_exported(self, report) -> None:
        kind = "ONNX" if report.format == "onnx" else "TorchScript"
        self.done.emit(
            f"Exported {kind} to {report.path}; it matches the model within {report.max_abs_diff:.1e} "
            "(largest difference in class probability)."
        )
