"""Export INT8…: a bundle quantised to an OpenVINO IR, kept only after the user has seen its accuracy.

The worker runs ``model.export.int8.export_int8`` (calibration on ~300 of the
run's own training images, then validation accuracy before and after); the
quantised files wait beside the destination under a temporary name. The user
is then shown both accuracies and chooses Keep or Discard; only Keep puts the
file where they asked. When the run's training folder has moved, the user is
asked for it once and the export starts again with that folder.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.context import StudioContext
from app.pages.train.model_actions import ask_save_path
from app.widgets.job_bar import JobBar
from app.workers import Worker

IR_FILTER = "OpenVINO IR (*.xml)"


@functools.lru_cache(maxsize=1)
def openvino_installed() -> bool:
    """Whether INT8 export can run here (OpenVINO and NNCF installed), found without importing them."""
    return all(importlib.util.find_spec(name) is not None for name in ("openvino", "nncf"))


class Int8ExportWorker(Worker):
    """Quantises a bundle; emits ``staged(StagedInt8Export)`` or ``needs_data(message)``."""

    staged = Signal(object)  # model.export.int8.StagedInt8Export, not kept yet
    needs_data = Signal(str)  # the training folder could not be found

    def __init__(self, bundle: str, out: str, data_dir: str | None = None) -> None:
        super().__init__("Exporting INT8")
        self.bundle, self.out, self.data_dir = bundle, out, data_dir

    def work(self) -> None:
        from model.export.int8 import MissingTrainingImages, StagedInt8Export, export_int8

        try:
            for event in export_int8(self.bundle, self.out, self.data_dir, cancel=self._stop):
                if isinstance(event, StagedInt8Export):
                    if self.stop_requested:
                        event.discard()
                        return
                    self.staged.emit(event)
                else:
                    self.progressed.emit(event)
        except MissingTrainingImages as e:
            self.needs_data.emit(str(e))


def ask_keep(parent: QWidget, staged) -> bool:
    """Show the accuracy before and after INT8 and ask whether to keep the file."""
    drop = 100 * (staged.accuracy_fp32 - staged.accuracy_int8)
    box = QMessageBox(parent)
    box.setWindowTitle("Keep the INT8 model?")
    box.setIcon(QMessageBox.Icon.Question if drop <= 1.0 else QMessageBox.Icon.Warning)
    box.setText(
        f"Accuracy on {staged.validation_images} {staged.accuracy_on}: "
        f"<b>{100 * staged.accuracy_fp32:.1f} %</b> before, <b>{100 * staged.accuracy_int8:.1f} %</b> after INT8."
    )
    box.setInformativeText(
        f"INT8 and the original name the same class for {100 * staged.top1_agreement:.1f} % of these images "
        f"(calibrated on {staged.calibration_images} training images). Keep it as {staged.destination.name}?"
    )
    keep = box.addButton("Keep", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Discard", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is keep


class Int8Export(QObject):
    """Asks where to write, runs the worker in the job bar, then asks Keep/Discard."""

    failed = Signal(str)
    done = Signal(str)

    def __init__(self, context: StudioContext, job: JobBar, parent: QWidget) -> None:
        super().__init__(parent)
        self.context, self.job, self.dialog_parent = context, job, parent
        self.ask_keep = ask_keep  # tests answer for the user
        self.ask_folder = self._ask_folder
        self._bundle = self._out = ""
        self._missing = ""  # why the last run needs another training folder (asked once it has ended)

    def start(self, bundle: str, suggested_name: str) -> bool:
        if self.job.busy:
            return False
        path, _ = ask_save_path(self.dialog_parent, self.context.settings, "export", f"{suggested_name}-int8.xml",
                                "Export INT8 (OpenVINO IR)", IR_FILTER)
        if not path:
            return False
        return self.run(bundle, path if path.lower().endswith(".xml") else path + ".xml")

    def run(self, bundle: str, out: str, data_dir: str | None = None) -> bool:
        self._bundle, self._out, self._missing = bundle, out, ""
        worker = Int8ExportWorker(bundle, out, data_dir)
        worker.staged.connect(self._on_staged)
        worker.needs_data.connect(self._on_needs_data)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self.failed)
        self.job.track(worker, f"Quantising {Path(out).name} to INT8 on the run's training images")
        self.context.pool.start(worker)
        return True

    def _ask_folder(self, message: str) -> str:
        QMessageBox.information(self.dialog_parent, "Training images needed", message)
        return QFileDialog.getExistingDirectory(self.dialog_parent, "The folder this model was trained on",
                                               self.context.settings.last_folder("dataset"))

    @Slot(str)
    def _on_needs_data(self, message: str) -> None:
        self._missing = message

    @Slot()
    def _on_finished(self) -> None:
        if not self._missing:
            return
        message, self._missing = self._missing, ""
        folder = self.ask_folder(message)
        if folder:
            self.run(self._bundle, self._out, folder)
        else:
            self.failed.emit(message)

    @Slot(object)
    def _on_staged(self, staged) -> None:
        if self.ask_keep(self.dialog_parent, staged):
            path = staged.keep()
            self.done.emit(f"Exported INT8 to {path}: {staged.describe()}.")
        else:
            staged.discard()
            self.done.emit("Discarded the INT8 model; nothing was written.")
