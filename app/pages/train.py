"""The Train page: fine-tune on your own class folders and watch the curves live.

A dataset folder (chosen or dropped) is scanned in a worker and summarised. Start
runs ``model.engine.train`` in a TrainWorker with the form's choices, in a new
folder under the runs folder; its events feed the curves (redrawn at most ten
times a second), the progress row and the notices. Pause, Resume and Stop reach
the engine through its TrainControl. When a run ends its folder is read back
(RunReader), exactly as an earlier run is reopened from the runs list, and the
results tab shows the confusion matrix, per-class scores and misclassified images,
with Use / Save as / Export for the model.
"""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.model_actions import ModelActions
from app.pages import Page, StudioContext, add_action
from app.state import BackendInfo
from app.train_workers import RunListWorker, RunReader, ScanWorker, TrainWorker
from app.widgets.dataset_summary import DatasetSummary
from app.widgets.drop_zone import local_paths
from app.widgets.job_bar import JobBar
from app.widgets.runs_list import RunsList
from app.widgets.train_controls import RunState, TrainControls
from app.widgets.train_curves import TrainCurves
from app.widgets.train_form import TrainChoices, TrainForm
from app.widgets.train_progress import TrainProgress
from app.widgets.train_results import TrainResults
from app.workers import ThumbnailWorker

LEFT_WIDTH = 390
MAX_NOTICES = 4  # the latest few; the rest were already read (and are in the CLI's output when run there)


class TrainPage(Page):
    key = "train"
    title = "Train"
    tooltip = "Fine-tune on a folder with one sub-folder of images per class, with live curves"

    # Emitted once the page has shown what happened (UI thread), for whoever waits on the page.
    training_started = Signal(object)  # model.events.TrainingStarted
    training_paused = Signal(object)  # model.events.Paused
    training_finished = Signal(object)  # model.events.Finished
    run_shown = Signal(object)  # model.runs.RunRecord: a finished or reopened run's results are on screen

    def __init__(self, context: StudioContext) -> None:
        super().__init__(context)
        self.setAcceptDrops(True)
        self.runs_root = self.settings.runs_folder
        self.remember = True  # False for the screenshot's sample run: the user's choices stay as they were
        self.scan = None  # model.data.DatasetScan of the chosen folder
        self.record = None  # model.runs.RunRecord of the run shown (finished or reopened)
        self.run_dir = ""  # the run being trained or shown
        self.notices: list[tuple[str, str]] = []  # (level, text)
        self._scanner: ScanWorker | None = None
        self._trainer: TrainWorker | None = None
        self._reader: RunReader | None = None
        self._lister: RunListWorker | None = None
        self._thumbnailer: ThumbnailWorker | None = None
        self._state = RunState.IDLE
        self._user_stop = False
        self._autostart = False  # the screenshot's sample run starts once its scan and the backend are ready
        self._sample = None  # the screenshot's temporary folder (kept alive until the app exits)
        self._menu_actions: dict[str, object] = {}
        self._build()
        self.form.set_choices(TrainChoices.from_dict(self.settings.train_form))
        s = self.session
        s.backend_loaded.connect(self._on_backend_loaded)
        s.backend_failed.connect(self._on_backend_failed)
        s.weights_changed.connect(self._on_weights_changed)
        self._update_buttons()

    # --- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.folder_label = QLabel("No dataset chosen")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.setToolTip("A folder with one sub-folder of images per class (Ctrl+Shift+F), or drop it here")
        self.choose_button.clicked.connect(self.choose_dataset)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.choose_button)
        self.summary = DatasetSummary()
        dataset_box = QGroupBox("Dataset")
        dataset_layout = QVBoxLayout(dataset_box)
        dataset_layout.addLayout(folder_row)
        dataset_layout.addWidget(self.summary)

        self.form = TrainForm()
        self.form.changed.connect(self._update_buttons)
        settings_box = QGroupBox("Settings")
        QVBoxLayout(settings_box).addWidget(self.form)

        self.controls = TrainControls()
        self.controls.start_button.clicked.connect(self.start)
        self.controls.pause_button.clicked.connect(self.pause)
        self.controls.resume_button.clicked.connect(self.resume)
        self.controls.stop_button.clicked.connect(self.stop)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(dataset_box)
        left_layout.addWidget(settings_box)
        left_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left_column = QWidget()
        left_column.setFixedWidth(LEFT_WIDTH)
        column_layout = QVBoxLayout(left_column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(scroll, 1)
        column_layout.addWidget(self.controls)

        self.run_info = QLabel("Choose a dataset, check the settings and press Start.")
        self.run_info.setWordWrap(True)
        self.run_info.setTextFormat(Qt.TextFormat.RichText)
        self.progress = TrainProgress()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.hide()
        self.job = JobBar()
        self.job.finished.connect(self._update_buttons)
        self.actions = ModelActions(self.context, self.job, self)
        self.actions.done.connect(self._on_action_done)
        self.actions.failed.connect(self._show_error)

        self.curves = TrainCurves()
        self.results = TrainResults()
        self.results.thumbnails_wanted.connect(self._make_thumbnails)
        self.use_button = QPushButton("Use this model")
        self.use_button.setToolTip("Classify with this fine-tuned model on the Classify page (Ctrl+U)")
        self.use_button.clicked.connect(self.use_model)
        self.save_button = QPushButton("Save as…")
        self.save_button.setToolTip("Save a copy of the model file (a bundle that predict, evaluate and export read) (Ctrl+Shift+S)")
        self.save_button.clicked.connect(self.save_model)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Export to ONNX or TorchScript, checked against the model (Ctrl+Shift+X)")
        self.export_button.clicked.connect(self.export_model)
        self.run_name = QLabel()
        self.run_name.setTextFormat(Qt.TextFormat.RichText)
        model_row = QHBoxLayout()
        model_row.addWidget(self.run_name, 1)
        for b in (self.use_button, self.save_button, self.export_button):
            model_row.addWidget(b)
        results_tab = QWidget()
        results_layout = QVBoxLayout(results_tab)
        results_layout.addLayout(model_row)
        results_layout.addWidget(self.results, 1)

        self.runs_list = RunsList()
        self.runs_list.run_activated.connect(self.open_run)
        self.runs_list.currentItemChanged.connect(self._update_buttons)
        self.open_run_button = QPushButton("Open")
        self.open_run_button.setToolTip("Show the selected run's curves and results (Enter)")
        self.open_run_button.clicked.connect(self._open_selected_run)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_runs)
        show_folder = QPushButton("Show runs folder")
        show_folder.setToolTip("Open the folder that holds every run in the file manager")
        show_folder.clicked.connect(self.show_runs_folder)
        runs_buttons = QHBoxLayout()
        runs_buttons.addWidget(self.open_run_button)
        runs_buttons.addWidget(refresh)
        runs_buttons.addStretch(1)
        runs_buttons.addWidget(show_folder)
        runs_tab = QWidget()
        runs_layout = QVBoxLayout(runs_tab)
        runs_layout.addWidget(self.runs_list, 1)
        runs_layout.addLayout(runs_buttons)

        self.tabs = QTabWidget()
        self.tabs.addTab(results_tab, "Results")
        self.tabs.addTab(runs_tab, "Earlier runs")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.curves)
        splitter.addWidget(self.tabs)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([290, 380])

        right = QVBoxLayout()
        right.addWidget(self.run_info)
        right.addWidget(self.progress)
        right.addWidget(self.message)
        right.addWidget(self.job)
        right.addWidget(splitter, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(left_column)
        layout.addLayout(right, 1)

    def fill_menu(self, menu: QMenu) -> None:
        def add(name: str, text: str, slot, shortcut, tip: str) -> None:
            self._menu_actions[name] = add_action(menu, self, text, slot, shortcut, tip)

        add("choose", "Choose &dataset folder…", self.choose_dataset, "Ctrl+Shift+F", "A folder with one sub-folder per class")
        menu.addSeparator()
        add("start", "&Start training", self.start, "Ctrl+T", "Start a new run with the page's settings")
        add("pause", "&Pause", self.pause, "Ctrl+P", "Pause after the current step")
        add("resume", "&Resume", self.resume, "Ctrl+R", "Continue a paused run, or a stopped one from its checkpoint")
        add("stop", "S&top", self.stop, "Ctrl+Shift+T", "Stop after the current step; the model and a checkpoint are saved")
        menu.addSeparator()
        add("use", "&Use this model", self.use_model, "Ctrl+U", "Classify with the fine-tuned model")
        add("save", "Save model &as…", self.save_model, "Ctrl+Shift+S", "Save a copy of the model file")
        add("export", "E&xport model…", self.export_model, "Ctrl+Shift+X", "Export to ONNX or TorchScript")
        menu.addSeparator()
        add_action(menu, self, "Show runs &folder", self.show_runs_folder, None, "Open the folder that holds every run")
        self._update_buttons()

    # --- the dataset -----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(Path(p).is_dir() for p in local_paths(event.mimeData())):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = [p for p in local_paths(event.mimeData()) if Path(p).is_dir()]
        if not folders:
            event.ignore()
            return
        event.acceptProposedAction()
        self.set_dataset(folders[0])

    @Slot()
    def choose_dataset(self) -> None:
        self.context.show_page(self.key)
        folder = QFileDialog.getExistingDirectory(
            self, "Choose a dataset: one sub-folder of images per class", self.settings.last_folder("dataset")
        )
        if folder:
            self.set_dataset(folder)

    def set_dataset(self, folder: str) -> None:
        """Scan ``folder`` in the background and show what it holds."""
        if self._scanner is not None:
            self._scanner.stop()
        if self.remember:
            self.settings.set_last_folder("dataset", folder)
        self.scan = None
        self.folder_label.setText(self._elide(folder))
        self.folder_label.setToolTip(folder)
        self.summary.show_scanning(folder)
        scanner = ScanWorker(folder)
        scanner.scanned.connect(self._on_scanned)
        scanner.failed.connect(self._on_scan_failed)
        scanner.ended.connect(self._on_scanner_ended)
        self._scanner = scanner
        self.context.pool.start(scanner)
        self._update_buttons()

    def _elide(self, text: str) -> str:
        return self.folder_label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, LEFT_WIDTH - 150)

    @Slot(object)
    def _on_scanned(self, scan) -> None:
        if self.sender() is not self._scanner:
            return  # a scan that a newer choice replaced
        self._scanner = None  # its result is in; the thread only has to end
        self.scan = scan
        self.summary.show_scan(scan)
        self.form.set_has_val_folder(scan.val_files is not None)
        self._update_buttons()
        self._maybe_autostart()

    @Slot(str)
    def _on_scan_failed(self, message: str) -> None:
        if self.sender() is self._scanner:
            self.summary.show_error(message)

    @Slot(object)
    def _on_scanner_ended(self, worker) -> None:
        if worker is self._scanner:
            self._scanner = None
        self._update_buttons()

    # --- training --------------------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        """Start a new run on the scanned dataset with the form's choices."""
        self.context.show_page(self.key)
        if not self.controls.start_button.isEnabled():
            return
        choices = self.form.choices()
        if self.remember:
            self.settings.train_form = choices.to_dict()
        config = choices.to_config()
        config["data_dir"] = str(self.scan.root)
        self._begin(TrainWorker(config, runs_root=self.runs_root))

    @Slot()
    def pause(self) -> None:
        if self._trainer is not None and self._state is RunState.RUNNING:
            self._trainer.pause()
            self.progress.pause()
            self._set_state(RunState.PAUSED)

    @Slot()
    def resume(self) -> None:
        """Un-pause the running run, or continue the stopped run shown from its checkpoint."""
        if self._trainer is not None and self._state is RunState.PAUSED:
            self._trainer.resume()
            self.progress.resume()
            self._set_state(RunState.RUNNING)
        elif self._trainer is None and self.record is not None and self.record.can_resume:
            config = dict(data_dir=self.record.config["data_dir"], out_dir=str(self.record.path), resume=True,
                          device=self.form.choices().device)
            self._begin(TrainWorker(config))

    @Slot()
    def stop(self) -> None:
        if self._trainer is not None and self._state in (RunState.RUNNING, RunState.PAUSED):
            self._user_stop = True
            self._trainer.stop()
            self.progress.stopping()
            self._set_state(RunState.STOPPING)

    def _begin(self, worker: TrainWorker) -> None:
        worker.run_started.connect(self._on_run_started)
        worker.notice_posted.connect(self._on_notice)
        worker.file_skipped.connect(self._on_file_skipped)
        worker.step_finished.connect(self._on_step)
        worker.epoch_finished.connect(self._on_epoch)
        worker.batch_size_reduced.connect(self._on_batch_size_reduced)
        worker.checkpoint_saved.connect(self._on_checkpoint_saved)
        worker.run_paused.connect(self._on_paused)
        worker.run_finished.connect(self._on_run_finished)
        worker.progressed.connect(self.progress.phase)
        worker.failed.connect(self._on_train_failed)
        worker.finished.connect(self._on_train_finished)
        self._trainer = worker
        self._user_stop = False
        self.record = None
        self.notices = []
        self._show_notices()
        self.curves.clear()
        self.results.show_evaluation(None, "Training… the results appear here when the run ends.")
        self.run_name.setText("")
        self.tabs.setCurrentIndex(0)
        self.run_info.setText("Loading the data and the network…")
        self._set_state(RunState.RUNNING)
        self.context.pool.start(worker)  # after every connection, so no early signal is lost

    @Slot(object)
    def _on_run_started(self, s) -> None:
        self.run_dir = s.run_dir
        self.progress.start(s)
        self.curves.show_history(s.history, s.epochs)
        augment = "augmentation on" if s.augmentation else "augmentation off"
        precision = f" · {s.mixed_precision}" if s.mixed_precision else ""
        self.run_info.setText(
            f"<b>{escape(s.variant.upper())} · {s.mode} mode · {escape(s.weights)}</b> · {len(s.class_names)} classes · "
            f"{s.num_train} train / {s.num_val} val images · batch {s.batch_size} · {s.image_size} px · {augment}"
            f"{precision} · {escape(s.device_name)} · run <i>{escape(Path(s.run_dir).name)}</i>"
        )
        self.training_started.emit(s)

    @Slot(object)
    def _on_notice(self, notice) -> None:
        self._add_notice(notice.level, notice.message)

    @Slot(object)
    def _on_file_skipped(self, skipped) -> None:
        self._add_notice("warning", f"Skipped {Path(skipped.path).name}: {skipped.reason}.")

    @Slot(object)
    def _on_batch_size_reduced(self, e) -> None:
        self._add_notice("warning", f"Out of memory: the batch size went from {e.old} to {e.new} ({e.reason}).")

    @Slot(object)
    def _on_step(self, m) -> None:
        self.curves.add_step(m)
        if self._state is RunState.RUNNING:  # a paused or stopping run keeps saying so
            self.progress.step(m)

    @Slot(object)
    def _on_epoch(self, m) -> None:
        self.curves.add_epoch(m)
        if self._state is RunState.RUNNING:
            self.progress.epoch(m)

    @Slot(object)
    def _on_paused(self, paused) -> None:
        if self._state is RunState.PAUSED:
            where = f"at epoch {paused.epoch}, step {paused.step}" if paused.epoch else "while preparing the images"
            self.progress.pause(f"Paused {where}")
        self.training_paused.emit(paused)

    @Slot(object)
    def _on_checkpoint_saved(self, saved) -> None:
        if saved.kind == "best" and saved.epoch:
            self.context.show_message(f"Epoch {saved.epoch} is the best so far; its model is saved.")

    @Slot(object)
    def _on_run_finished(self, finished) -> None:
        self.curves.flush()
        self.progress.finish(finished)
        worker = self._trainer
        if worker is not None and worker.stop_requested and not self._user_stop:
            self.training_finished.emit(finished)
            return  # the window is closing: the checkpoint is saved, start nothing new
        where = Path(finished.bundle_path).parent.name
        self._add_notice("info", f"{finished.reason.capitalize()} after {finished.epochs_done} epochs; "
                                 f"the best model is saved in the run {where}.")
        self._read_run(str(Path(finished.bundle_path).parent), reopened=False)
        self.refresh_runs()
        self.training_finished.emit(finished)

    @Slot(str)
    def _on_train_failed(self, message: str) -> None:
        self._show_error(message)
        self.run_info.setText("Training stopped with an error; change what the message says and start again.")

    @Slot()
    def _on_train_finished(self) -> None:
        self._trainer = None
        self._set_state(RunState.IDLE)

    def _set_state(self, state: RunState) -> None:
        self._state = state
        self._update_buttons()

    # --- runs: reading, listing, reopening ---------------------------------------------------------
    @Slot(str)
    def open_run(self, path: str) -> None:
        """Show an earlier run: its curves, its results and (when it was stopped) Resume."""
        if self._trainer is not None:
            self._show_error("A run is in progress: stop it before opening another one.")
            return
        self._read_run(path, reopened=True)

    @Slot()
    def _open_selected_run(self) -> None:
        if self.runs_list.selected_path():
            self.open_run(self.runs_list.selected_path())

    def _read_run(self, path: str, reopened: bool) -> None:
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
        if reader is not self._reader or self._trainer is not None:
            return
        self.record = record
        self.run_dir = str(record.path)
        if reader.property("reopened"):
            self.notices = []
            self._show_notices()
            self.curves.show_history(record.history, record.epochs_planned)
            self.progress.show_run(record.epochs_done, record.epochs_planned)
            config = record.config
            self.run_info.setText(
                f"<b>{escape(str(config.get('variant', '?')).upper())} · {escape(str(config.get('mode', '?')))} mode · "
                f"{escape(str(config.get('weights_source', '')))}</b> · {len(record.class_names)} classes · "
                f"dataset <i>{escape(str(config.get('data_dir', 'unknown')))}</i>"
            )
        note = " ".join(record.notes)
        if record.evaluation is None and not note:
            note = ("No validated epoch yet, so there is no confusion matrix." if record.epochs_done == 0
                    else "This run had no validation images, so there is no confusion matrix.")
        self.results.show_evaluation(record.evaluation, note)
        self.run_name.setText(f"Run <b>{escape(record.path.name)}</b>")
        self.tabs.setCurrentIndex(0)
        self._update_buttons()
        if self._sample is not None and self.results.worst_cell() is not None:
            self.results.matrix.select_cell(*self.results.worst_cell())  # the screenshot shows some mistakes
        self.run_shown.emit(record)

    @Slot(str)
    def _on_read_failed(self, message: str) -> None:
        if self.sender() is self._reader:
            self._show_error(message)

    @Slot(object)
    def _on_reader_ended(self, worker) -> None:
        if worker is self._reader:
            self._reader = None

    @Slot()
    def refresh_runs(self) -> None:
        if self._lister is not None or self.session.backend is None:
            return
        lister = RunListWorker(self.runs_root)
        lister.listed.connect(self._on_runs_listed)
        lister.ended.connect(self._on_lister_ended)
        self._lister = lister
        self.context.pool.start(lister)

    @Slot(list)
    def _on_runs_listed(self, runs: list) -> None:
        self.runs_list.set_runs(runs, current=self.run_dir)
        self._update_buttons()

    @Slot(object)
    def _on_lister_ended(self, worker) -> None:
        if worker is self._lister:
            self._lister = None

    @Slot()
    def show_runs_folder(self) -> None:
        Path(self.runs_root).mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(self.runs_root))

    # --- the model of the run shown -----------------------------------------------------------------
    def _bundle(self) -> str:
        path = self.record.bundle_path if self.record is not None else None
        return str(path) if path is not None else ""

    @Slot()
    def use_model(self) -> None:
        if self._bundle():
            self.actions.use(self._bundle())

    @Slot()
    def save_model(self) -> None:
        if self._bundle():
            self.actions.save_as(self._bundle(), self.record.path.name)
            self._update_buttons()

    @Slot()
    def export_model(self) -> None:
        if self._bundle():
            self.actions.export(self._bundle(), self.record.path.name)
            self._update_buttons()

    @Slot(str)
    def _on_action_done(self, text: str) -> None:
        self._add_notice("info", text)
        self.context.show_message(text)

    @Slot(list, int)
    def _make_thumbnails(self, paths: list, batch: int) -> None:
        if self._thumbnailer is not None:
            self._thumbnailer.stop()
        worker = ThumbnailWorker(paths, 0, batch=batch, size=64)
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

    # --- session --------------------------------------------------------------------------------
    @Slot(object)
    def _on_backend_loaded(self, info: BackendInfo) -> None:
        self.form.set_backend(info.device, info.available_devices, self.session.weights_cached)
        self.refresh_runs()
        self._update_buttons()
        self._maybe_autostart()

    @Slot(str)
    def _on_backend_failed(self, message: str) -> None:
        self._show_error(message)
        self._autostart = False

    @Slot(str)
    def _on_weights_changed(self, variant: str) -> None:
        self.form.refresh_weights()

    # --- messages and state ----------------------------------------------------------------------
    def _add_notice(self, level: str, text: str) -> None:
        self.notices.append((level, text))
        self._show_notices()

    def _show_notices(self) -> None:
        shown = self.notices[-MAX_NOTICES:]
        lines = [f"{'⚠ ' if level == 'warning' else ''}{escape(text)}" for level, text in shown]
        self.message.setText("<br>".join(lines))
        self.message.setVisible(bool(lines))

    @Slot(str)
    def _show_error(self, message: str) -> None:
        self._add_notice("warning", message)

    @Slot()
    def _update_buttons(self) -> None:
        ready = self.scan is not None and self.session.backend is not None and self._scanner is None
        can_continue = self.record is not None and self.record.can_resume
        self.controls.set_state(self._state, can_start=ready, can_continue=can_continue)
        has_model = bool(self._bundle()) and self._trainer is None
        self.use_button.setEnabled(has_model)
        self.save_button.setEnabled(has_model and not self.job.busy)
        self.export_button.setEnabled(has_model and not self.job.busy)
        self.open_run_button.setEnabled(self._trainer is None and bool(self.runs_list.selected_path()))
        buttons = {
            "start": self.controls.start_button, "pause": self.controls.pause_button,
            "resume": self.controls.resume_button, "stop": self.controls.stop_button,
            "use": self.use_button, "save": self.save_button, "export": self.export_button,
        }
        for name, button in buttons.items():
            if name in self._menu_actions:
                self._menu_actions[name].setEnabled(button.isEnabled())

    # --- screenshots ---------------------------------------------------------------------------------
    def prepare_screenshot(self) -> None:
        """Train a tiny sample run (generated shapes, random weights, 64 px) so the page shows real results."""
        from app.sample_data import make_sample_dataset

        self._sample = tempfile.TemporaryDirectory(prefix="efficientnet-studio-sample-")
        root = Path(self._sample.name)
        data = make_sample_dataset(root / "shapes", per_class=10, size=64)
        self.remember = False
        self.runs_root = str(root / "runs")
        self.form.set_choices(TrainChoices(variant="b0", mode="full", epochs=5, image_size=64, weights="random",
                                           val_split=25, batch_size=8))
        self.train_when_ready(str(data))

    def train_when_ready(self, folder: str) -> None:
        """Scan ``folder`` and start training with the form's choices as soon as the scan and the
        backend are ready (screenshots and the UI benchmark drive the page this way)."""
        self._autostart = True
        self.set_dataset(folder)

    def _maybe_autostart(self) -> None:
        if self._autostart and self.scan is not None and self.session.backend is not None:
            self._autostart = False
            self.form.refresh_weights()
            self.start()

    def is_settled(self) -> bool:
        workers = (self._scanner, self._trainer, self._reader, self._lister, self._thumbnailer)
        return all(w is None for w in workers) and not self.job.busy and not self._autostart
