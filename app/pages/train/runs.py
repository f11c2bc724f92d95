"""The Train page's lower half: the results of the run shown, and the list of earlier runs.

A run's folder is read back in a worker (RunReader) both when a training ends
and when an earlier run is reopened, so both show exactly what is on disk. The
Results tab offers Use / Save as / Export for its model (``ModelActions``) and
decodes the thumbnails of the misclassified images in a worker. Two or more runs
selected in the list can be compared in a ``CompareDialog``.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.pages.train.int8_export import Int8Export, openvino_installed
from app.pages.train.model_actions import ModelActions
from app.context import StudioContext
from app.pages.train.compare_dialog import CompareDialog
from app.pages.train.run_files import RunFiles
from app.pages.train.workers import RunListWorker, RunReader
from app.widgets.job_bar import JobBar
from app.pages.train.runs_list import RunsList
from app.pages.train.train_results import TrainResults
from app.workers.thumbnails import ThumbnailWorker

THUMBNAIL_SIZE = 64


class RunBrowser(QTabWidget):
    """"Results" (the run shown) and "Earlier runs" (every run in ``runs_root``)."""

    run_loaded = Signal(object, bool)  # model.training.runs.RunRecord, reopened (False: a run that just ended)
    open_requested = Signal(str)  # a run chosen in the list; the page decides whether it may open now
    notice_posted = Signal(str, str)  # level ("info" | "warning"), one sentence
    changed = Signal()  # buttons may need updating
    resume_offered = Signal(str, str)  # path, sentence: the newest run was interrupted (once per launch)

    def __init__(self, context: StudioContext, runs_root: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.runs_root = runs_root
        self.record = None  # model.training.runs.RunRecord shown
        self.training = False  # while a run trains, its model is not ready to use and nothing else opens
        self._reader: RunReader | None = None
        self._lister: RunListWorker | None = None
        self._thumbnailer: ThumbnailWorker | None = None
        self.comparison: CompareDialog | None = None  # the comparison window last opened
        self._list_again = False
        self._offered = False  # the resume offer is made once, at the first listing after launch

        self.results = TrainResults()
        self.results.thumbnails_wanted.connect(self._make_thumbnails)
        self.run_name = QLabel()
        self.run_name.setTextFormat(Qt.TextFormat.RichText)
        self.use_button = QPushButton("Use this model")
        self.use_button.setToolTip("Classify with this fine-tuned model on the Classify page (Ctrl+U)")
        self.use_button.clicked.connect(self.use_model)
        self.save_button = QPushButton("Save as…")
        self.save_button.setToolTip("Save a copy of the model file, a bundle that predict, evaluate and export read (Ctrl+Shift+S)")
        self.save_button.clicked.connect(self.save_model)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Export to ONNX or TorchScript, checked against the model (Ctrl+Shift+X)")
        self.export_button.clicked.connect(self.export_model)
        self.int8_button = QPushButton("Export INT8…")
        self.int8_button.setToolTip(
            "Quantise to INT8 (OpenVINO IR) on this run's training images; you see the validation accuracy "
            "before and after, then keep or discard the file (Ctrl+Shift+8)"
        )
        self.int8_button.clicked.connect(self.export_int8_model)
        self.job = JobBar()
        self.job.finished.connect(self.update_buttons)
        self.actions = ModelActions(context, self.job, self)
        self.actions.done.connect(self._on_action_done)
        self.actions.failed.connect(self._on_action_failed)
        self.int8 = Int8Export(context, self.job, self)
        self.int8.done.connect(self._on_action_done)
        self.int8.failed.connect(self._on_action_failed)
        model_row = QHBoxLayout()
        model_row.addWidget(self.run_name, 1)
        for b in (self.use_button, self.save_button, self.export_button, self.int8_button):
            model_row.addWidget(b)
        results_tab = QWidget()
        results_layout = QVBoxLayout(results_tab)
        results_layout.addLayout(model_row)
        results_layout.addWidget(self.job)
        results_layout.addWidget(self.results, 1)

        self.runs_list = RunsList()
        self.runs_list.run_activated.connect(self.open_requested)
        self.runs_list.itemSelectionChanged.connect(self.update_buttons)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show the selected run's curves and results (Enter)")
        self.open_button.clicked.connect(self._open_selected)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setToolTip("Give the selected run another name")
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Move the selected run to the trash")
        self.delete_button.clicked.connect(self.delete_selected)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip("Overlay the selected runs' validation curves and set their settings and "
                                       "results side by side; select two or more (Ctrl+Shift+R)")
        self.compare_button.clicked.connect(self.compare_selected)
        self.files = RunFiles(self)
        self.files.renamed.connect(self._on_renamed)
        self.files.deleted.connect(self._on_deleted)
        self.files.failed.connect(self._on_action_failed)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_runs)
        show_folder = QPushButton("Show runs folder")
        show_folder.setToolTip("Open the folder that holds every run in the file manager")
        show_folder.clicked.connect(self.show_runs_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.rename_button)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(refresh)
        buttons.addStretch(1)
        buttons.addWidget(show_folder)
        runs_tab = QWidget()
        runs_layout = QVBoxLayout(runs_tab)
        runs_layout.addWidget(self.runs_list, 1)
        runs_layout.addLayout(buttons)

        self.addTab(results_tab, "Results")
        self.addTab(runs_tab, "Earlier runs")
        self.update_buttons()

    # --- the run shown ----------------------------------------------------------------------------
    def show_training(self) -> None:
        """A new run starts: nothing to show until it ends (and a read still under way is dropped)."""
        if self._reader is not None:
            self._reader.stop()
            self._reader = None
        self.record = None
        self.results.show_evaluation(None, "Training… the results appear here when the run ends.")
        self.run_name.setText("")
        self.setCurrentIndex(0)
        self.update_buttons()

    def read_run(self, path: str, reopened: bool) -> None:
        """Read a run folder in the background; ``run_loaded`` follows."""
        if self._reader is not None:
            self._reader.stop()
        reader = RunReader(path)
        reader.setProperty("reopened", reopened)
        reader.run_loaded.connect(self._on_run_loaded)
        reader.failed.connect(self._on_read_failed)
        reader.ended.connect(self._on_reader_ended)
        self._reader = reader
        self.context.pool.start(reader)

    @Slot(object)
    def _on_run_loaded(self, record) -> None:
        reader = self.sender()
        if reader is not self._reader:
            return  # overtaken by a newer read or by a new run
        self.record = record
        note = " ".join(record.notes)
        if record.evaluation is None and record.test_evaluation is None and not note:
            note = ("No epoch was validated yet, so there is no confusion matrix." if record.epochs_done == 0
                    else "This run had no validation images, so there is no confusion matrix.")
        self.results.show_evaluations(record.evaluation, record.test_evaluation, note)
        self.run_name.setText(f"Run <b>{escape(record.path.name)}</b>")
        self.setCurrentIndex(0)
        self.update_buttons()
        self.run_loaded.emit(record, bool(reader.property("reopened")))

    @Slot(str)
    def _on_read_failed(self, message: str) -> None:
        if self.sender() is self._reader:
            self.notice_posted.emit("warning", message)

    @Slot(object)
    def _on_reader_ended(self, worker) -> None:
        if worker is self._reader:
            self._reader = None

    def select_worst_cell(self) -> None:
        """Click the cell with the most mistakes (the screenshot shows some thumbnails)."""
        cell = self.results.worst_cell()
        if cell is not None:
            self.results.matrix.select_cell(*cell)

    # --- earlier runs -----------------------------------------------------------------------------
    @Slot()
    def refresh_runs(self) -> None:
        if self._lister is not None:
            self._list_again = True  # the folder may have changed since that listing began
            return
        self._list_again = False
        lister = RunListWorker(self.runs_root)
        lister.listed.connect(self._on_runs_listed)
        lister.ended.connect(self._on_lister_ended)
        self._lister = lister
        self.context.pool.start(lister)

    @Slot(list)
    def _on_runs_listed(self, runs: list) -> None:
        self.runs_list.set_runs(runs, current=str(self.record.path) if self.record else "")
        self.update_buttons()
        if not self._offered:
            self._offered = True
            newest = runs[0] if runs else None
            if newest is not None and newest.interrupted and self.record is None and not self.training:
                where = ("before its first epoch" if not newest.epochs_done
                         else f"at epoch {newest.epochs_done} of {newest.epochs_planned}")
                self.resume_offered.emit(str(newest.path), f"Your last run, {newest.name}, stopped {where}: "
                                                           "press Resume to continue it.")

    @Slot(object)
    def _on_lister_ended(self, worker) -> None:
        if worker is self._lister:
            self._lister = None
            if self._list_again:
                self.refresh_runs()

    @Slot()
    def _open_selected(self) -> None:
        if self.runs_list.selected_path():
            self.open_requested.emit(self.runs_list.selected_path())

    @Slot()
    def rename_selected(self) -> None:
        if self.rename_button.isEnabled():
            self.files.rename(self.runs_list.selected_path())

    @Slot()
    def delete_selected(self) -> None:
        if self.delete_button.isEnabled():
            self.files.delete(self.runs_list.selected_path())

    @Slot()
    def compare_selected(self) -> None:
        """Open a comparison of the selected runs (a new window replaces the one open before)."""
        if not self.compare_button.isEnabled():
            return
        if self.comparison is not None:
            self.comparison.close()
            self.comparison.deleteLater()
        self.comparison = CompareDialog(self.context.pool, self.runs_list.selected_paths(), self)
        self.comparison.show()

    @Slot(str, str)
    def _on_renamed(self, old: str, new: str) -> None:
        if self.record is not None and str(self.record.path) == old:
            self.record.path = Path(new)
            self.run_name.setText(f"Run <b>{escape(Path(new).name)}</b>")
        self.notice_posted.emit("info", f"The run {Path(old).name} is now called {Path(new).name}.")
        self.refresh_runs()

    @Slot(str)
    def _on_deleted(self, path: str) -> None:
        if self.record is not None and str(self.record.path) == path:
            self.record = None
            self.run_name.setText("")
            self.results.show_evaluation(None, "This run was deleted.")
        self.notice_posted.emit("info", f"The run {Path(path).name} was deleted.")
        self.refresh_runs()

    @Slot()
    def show_runs_folder(self) -> None:
        Path(self.runs_root).mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(self.runs_root))

    # --- the model of the run shown ---------------------------------------------------------------
    def bundle(self) -> str:
        path = self.record.bundle_path if self.record is not None else None
        return str(path) if path is not None else ""

    @Slot()
    def use_model(self) -> None:
        if self.use_button.isEnabled():
            self.actions.use(self.bundle())

    @Slot()
    def save_model(self) -> None:
        if self.save_button.isEnabled():
            self.actions.save_as(self.bundle(), self.record.path.name)
            self.update_buttons()

    @Slot()
    def export_model(self) -> None:
        if self.export_button.isEnabled():
            self.actions.export(self.bundle(), self.record.path.name)
            self.update_buttons()

    @Slot()
    def export_int8_model(self) -> None:
        if self.int8_button.isEnabled():
            self.int8.start(self.bundle(), self.record.path.name)
            self.update_buttons()

    @Slot(str)
    def _on_action_done(self, text: str) -> None:
        self.notice_posted.emit("info", text)
        self.context.show_message(text)

    @Slot(str)
    def _on_action_failed(self, text: str) -> None:
        self.notice_posted.emit("warning", text)

    @Slot(list, int)
    def _make_thumbnails(self, paths: list, batch: int) -> None:
        if self._thumbnailer is not None:
            self._thumbnailer.stop()
        worker = ThumbnailWorker(paths, 0, batch=batch, size=THUMBNAIL_SIZE)
        worker.thumbnail_ready.connect(self._on_thumbnail_ready)
        worker.ended.connect(self._on_thumbnailer_ended)
        self._thumbnailer = worker
        self.context.pool.start(worker)

    @Slot(int, int, QImage)
    def _on_thumbnail_ready(self, batch: int, row: int, image: QImage) -> None:
        self.results.set_thumbnail(batch, row, image)

    @Slot(object)
    def _on_thumbnailer_ended(self, worker) -> None:
        if worker is self._thumbnailer:
            self._thumbnailer = None

    # --- state ------------------------------------------------------------------------------------
    @Slot()
    def update_buttons(self) -> None:
        has_model = bool(self.bundle()) and not self.training
        self.use_button.setEnabled(has_model)
        self.save_button.setEnabled(has_model and not self.job.busy)
        self.export_button.setEnabled(has_model and not self.job.busy)
        self.int8_button.setEnabled(has_model and not self.job.busy and openvino_installed())
        selected = not self.training and bool(self.runs_list.selected_path())
        for button in (self.open_button, self.rename_button, self.delete_button):
            button.setEnabled(selected)  # not while training: the run's own folder may be the one chosen
        self.compare_button.setEnabled(len(self.runs_list.selected_paths()) >= 2)  # reading only: also while training
        self.changed.emit()

    def is_settled(self) -> bool:
        workers = (self._reader, self._lister, self._thumbnailer)
        comparing = self.comparison is not None and not self.comparison.is_settled()
        return all(w is None for w in workers) and not self.job.busy and not comparing
