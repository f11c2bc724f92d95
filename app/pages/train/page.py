"""The Train page: fine-tune on your own class folders and watch the curves live.

A dataset folder (chosen or dropped) is scanned in a worker and summarised
(``DatasetPanel``). Start runs ``model.engine.train`` in a TrainWorker with the
form's choices (a ``TrainConfig``), in a new folder under the runs folder; its
events feed the curves (redrawn at most ten times a second), the progress row
and the notices. The page makes the run's ``TrainControl`` (torch-free, from
``model.core``); Pause, Resume and Stop reach the engine through it. When a run
ends its folder is read back, exactly as an earlier run is reopened, and the
``RunBrowser`` below the curves shows its results and offers its model.
"""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QMenu, QScrollArea, QSplitter, QVBoxLayout, QWidget

from app.context import StudioContext
from app.pages import Page, add_action
from app.pages.train.dataset import DatasetPanel
from app.pages.train.lr_finder import LRFinderDialog
from app.pages.train.quality_workers import STRIP_SAMPLES, AugmentSamplesWorker
from app.pages.train.augment_strip import AugmentStrip
from app.pages.train.runs import RunBrowser
from app.state import BackendInfo
from app.pages.train.workers import TrainWorker
from app.widgets.drop_zone import local_paths
from app.pages.train.train_controls import RunState, TrainControls
from app.pages.train.train_curves import TrainCurves
from app.pages.train.train_form import TrainChoices, TrainForm
from app.pages.train.train_progress import TrainProgress
from model.core.states import CheckpointKind
from model.core.train_config import TrainConfig
from model.core.train_control import TrainControl

LEFT_WIDTH = 390
MAX_NOTICES = 4  # the latest few lines; older ones were read already


class TrainPage(Page):
    key = "train"
    title = "Train"
    tooltip = "Fine-tune on a folder with one sub-folder of images per class, with live curves"

    # Emitted once the page has shown what happened (UI thread), for whoever waits on the page.
    training_started = Signal(object)  # model.core.events.TrainingStarted
    training_paused = Signal(object)  # model.core.events.Paused
    training_finished = Signal(object)  # model.core.events.Finished
    run_shown = Signal(object)  # model.training.runs.RunRecord: a finished or reopened run's results are on screen

    def __init__(self, context: StudioContext) -> None:
        super().__init__(context)
        self.setAcceptDrops(True)
        self.remember = True  # False for the screenshot's sample run: the user's choices stay as they were
        self.run_dir = ""  # the run being trained or shown
        self.notices: list[tuple[str, str]] = []  # (level, text)
        self._trainer: TrainWorker | None = None
        self._state = RunState.IDLE
        self._user_stop = False
        self._autostart = False  # start once the scan and the backend are ready (train_when_ready)
        self._sample = None  # the screenshot's temporary folder, kept until the app exits
        self._menu_actions: dict[str, object] = {}
        self._offer = ""  # the resume offer, shown below the curves once its run is open
        self._sampler: AugmentSamplesWorker | None = None  # the strip's worker
        self._strip_key = 0  # bumped per request: only the latest request's samples are shown
        self.lr_finder: LRFinderDialog | None = None
        self._build()
        self.form.set_choices(TrainChoices.from_dict(self.settings.train_form))
        self.curves.set_epochs(self.form.epochs.value())
        s = self.session
        s.backend_loaded.connect(self._on_backend_loaded)
        s.backend_failed.connect(self._on_backend_failed)
        s.weights_changed.connect(self._on_weights_changed)
        self._update_buttons()

    @property
    def runs_root(self) -> str:
        return self.runs.runs_root

    @runs_root.setter
    def runs_root(self, folder: str) -> None:
        self.runs.runs_root = folder

    @property
    def record(self):
        """The model.training.runs.RunRecord shown below the curves (None while training or before any run)."""
        return self.runs.record

    # --- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.dataset = DatasetPanel(self.context)
        self.dataset.scanned.connect(self._on_scanned)
        self.dataset.changed.connect(self._update_buttons)
        self.form = TrainForm()
        self.form.changed.connect(self._on_form_changed)
        self.form.augmentation_changed.connect(self.refresh_strip)
        self.form.find_lr_requested.connect(self.find_lr)
        settings_box = QGroupBox("Settings")
        QVBoxLayout(settings_box).addWidget(self.form)
        self.strip = AugmentStrip(STRIP_SAMPLES)
        strip_box = QGroupBox("What training sees")
        QVBoxLayout(strip_box).addWidget(self.strip)
        self.controls = TrainControls()
        self.controls.start_button.clicked.connect(self.start)
        self.controls.pause_button.clicked.connect(self.pause)
        self.controls.resume_button.clicked.connect(self.resume)
        self.controls.stop_button.clicked.connect(self.stop)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(self.dataset)
        left_layout.addWidget(settings_box)
        left_layout.addWidget(strip_box)
        left_layout.addStretch(1)
        scroll = QScrollArea()  # the form fits at 800 px high; smaller windows scroll it
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
        self.curves = TrainCurves()
        self.runs = RunBrowser(self.context, self.settings.runs_folder)
        self.runs.run_loaded.connect(self._on_run_loaded)
        self.runs.open_requested.connect(self.open_run)
        self.runs.notice_posted.connect(self._add_notice)
        self.runs.changed.connect(self._update_buttons)
        self.runs.resume_offered.connect(self._on_resume_offered)
        # Short names for what tests and the screenshot look at.
        self.summary, self.results, self.runs_list = self.dataset.summary, self.runs.results, self.runs.runs_list
        self.use_button, self.save_button, self.export_button = self.runs.use_button, self.runs.save_button, self.runs.export_button
        self.int8_button = self.runs.int8_button

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.curves)
        splitter.addWidget(self.runs)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([290, 380])
        right = QVBoxLayout()
        right.addWidget(self.run_info)
        right.addWidget(self.progress)
        right.addWidget(self.message)
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
        add("use", "&Use this model", self.runs.use_model, "Ctrl+U", "Classify with the fine-tuned model")
        add("save", "Save model &as…", self.runs.save_model, "Ctrl+Shift+S", "Save a copy of the model file")
        add("export", "E&xport model…", self.runs.export_model, "Ctrl+Shift+X", "Export to ONNX or TorchScript")
        add("int8", "Export &INT8…", self.runs.export_int8_model, "Ctrl+Shift+8",
            "Quantise to INT8 (OpenVINO IR) on the run's training images; keep it after seeing the accuracy")
        menu.addSeparator()
        add("compare", "&Compare runs…", self.runs.compare_selected, "Ctrl+Shift+R",
            "Compare the runs selected in Earlier runs: curves overlaid, settings and results side by side")
        add_action(menu, self, "Show runs &folder", self.runs.show_runs_folder, None, "Open the folder that holds every run")
        self._update_buttons()

    @Slot()
    def _on_form_changed(self) -> None:
        if self._trainer is None and self.record is None:
            self.curves.set_epochs(self.form.epochs.value())  # empty plots span the run to come
        self._update_buttons()

    # --- the dataset -------------------------------------------------------------------------------
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
        self.dataset.choose()

    def set_dataset(self, folder: str) -> None:
        """Scan ``folder`` in the background and show what it holds."""
        self.dataset.remember = self.remember
        self.dataset.set_folder(folder)

    @property
    def scan(self):
        return self.dataset.scan

    @Slot(object)
    def _on_scanned(self, scan) -> None:
        self.form.set_has_val_folder(scan.val_files is not None)
        self.refresh_strip()
        self._maybe_autostart()

    # --- augmented samples and the learning-rate finder ---------------------------------------------
    @Slot()
    def refresh_strip(self) -> None:
        """Augment a few of the dataset's images with the form's preset, in a worker."""
        scan = self.scan
        if scan is None:
            return
        if self._sampler is not None:
            self._sampler.stop()
        c = self.form.choices()
        if c.mode == "head":
            self.strip.show_message("Head mode trains on the plain images: no augmentation.")
            return
        from model.core.variants import VARIANTS

        size = c.image_size or VARIANTS[c.variant].resolution
        # The first image of each class in turn, so the strip shows the variety of the dataset.
        firsts: dict[int, str] = {}
        for path, label in scan.files:
            firsts.setdefault(label, str(path))
        files = list(firsts.values())[:STRIP_SAMPLES]
        self._strip_key += 1
        worker = AugmentSamplesWorker(files, int(size), c.augment, c.flip, self._strip_key)
        worker.samples_ready.connect(self._on_samples)
        self._sampler = worker
        self.context.pool.start(worker)

    @Slot(object, object)
    def _on_samples(self, samples, key) -> None:
        if key != self._strip_key:
            return  # a request the form has changed since
        self._sampler = None
        c = self.form.choices()
        flip = "with flips" if c.flip else "no flips"
        self.strip.show_samples(samples, f"Your images as the {c.augment} augmentation shows them ({flip}); "
                                         "every epoch draws new ones.")

    @Slot()
    def find_lr(self) -> None:
        """Open the learning-rate finder on the scanned dataset with the form's settings."""
        if self.scan is None or self.session.backend is None:
            self._add_notice("warning", "Choose a dataset (and wait for the backend to load) before finding a learning rate.")
            return
        if self._trainer is not None:
            self._add_notice("warning", "A run is training: find a learning rate before starting or after it ends.")
            return
        config = self.form.choices().to_config(str(self.scan.root))
        self.lr_finder = LRFinderDialog(self.context.pool, config, self)
        self.lr_finder.rate_accepted.connect(self._on_rate_accepted)
        self.lr_finder.show()

    @Slot(float)
    def _on_rate_accepted(self, rate: float) -> None:
        self.form.lr.setValue(rate)
        self._add_notice("info", f"Learning rate set to {rate:.1e} from the finder's suggestion.")

    # --- training ----------------------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        """Start a new run on the scanned dataset with the form's choices."""
        self.context.show_page(self.key)
        if not self.controls.start_button.isEnabled():
            return
        choices = self.form.choices()
        if self.remember:
            self.settings.train_form = choices.to_dict()
        config = choices.to_config(data_dir=str(self.scan.root))
        self._begin(TrainWorker(config, TrainControl(), runs_root=self.runs_root))

    @Slot()
    def pause(self) -> None:
        if self._trainer is not None and self._state is RunState.RUNNING:
            self._trainer.pause()
            self.progress.pause()
            self._set_state(RunState.PAUSED)

    @Slot()
    def resume(self) -> None:
        """Un-pause the run, or (when idle) continue the stopped run shown from its checkpoint."""
        if self._trainer is not None and self._state is RunState.PAUSED:
            self._trainer.resume()
            self.progress.resume()
            self._set_state(RunState.RUNNING)
        elif self._trainer is None and self.record is not None and self.record.can_resume:
            record = self.record
            config = TrainConfig(data_dir=record.config["data_dir"], out_dir=str(record.path), resume=True,
                                 device=self.form.choices().device)
            self._begin(TrainWorker(config, TrainControl()))

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
        worker.run_paused.connect(self._on_paused)
        worker.checkpoint_saved.connect(self._on_checkpoint_saved)
        worker.run_finished.connect(self._on_run_finished)
        worker.progressed.connect(self.progress.phase)
        worker.failed.connect(self._on_train_failed)
        worker.finished.connect(self._on_train_finished)
        self._trainer = worker
        self._user_stop = False
        self.notices = []
        self._show_notices()
        self.curves.clear()
        self.runs.training = True
        self.runs.show_training()
        self.run_info.setText("Loading the data and the network…")
        self._set_state(RunState.RUNNING)
        self.context.pool.start(worker)  # after every connection, so no early signal is lost

    @Slot(object)
    def _on_run_started(self, s) -> None:
        self.run_dir = s.run_dir
        self.progress.start(s)
        self.curves.show_history(s.history, s.epochs)
        augment = f"augmentation {s.augment}" if s.augment else ("augmentation on" if s.augmentation else "augmentation off")
        if s.mode_reason:
            self._add_notice("info", s.mode_reason[0].upper() + s.mode_reason[1:] + ".")
        if s.balance:
            self._add_notice("warning", s.balance)
        precision = f" · {s.mixed_precision}" if s.mixed_precision else ""
        self.run_info.setText(
            f"<b>{escape(s.variant.upper())} · {s.mode} mode · {escape(s.weights)}</b> · {len(s.class_names)} classes · "
            f"{s.num_train} train / {s.num_val} val images{f' ({s.num_test} test images set aside)' if s.num_test else ''}"
            f" · batch {s.batch_size} · {s.image_size} px · {augment}"
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
        if saved.kind == CheckpointKind.BEST and saved.epoch:
            self.context.show_message(f"Epoch {saved.epoch} is the best so far; its model is saved.")

    @Slot(object)
    def _on_run_finished(self, finished) -> None:
        self.curves.flush()
        self.progress.finish(finished)
        worker = self._trainer
        if worker is None or not worker.stop_requested or self._user_stop:
            # Not when the window is closing: the checkpoint is saved; nothing new may start.
            where = Path(finished.bundle_path).parent
            if finished.epochs_done == 0:
                self._add_notice("info", f"{finished.reason.capitalize()} before the first epoch ended, so there is "
                                         f"no trained model yet; press Resume to train the run {where.name}.")
            else:
                self._add_notice("info", f"{finished.reason.capitalize()} after {finished.epochs_done} epochs; "
                                         f"the best model is saved in the run {where.name}.")
            self.runs.read_run(str(where), reopened=False)
            self.runs.refresh_runs()
        self.training_finished.emit(finished)

    @Slot(str)
    def _on_train_failed(self, message: str) -> None:
        self._add_notice("warning", message)
        self.run_info.setText("Training stopped with an error; change what the message says and start again.")

    @Slot()
    def _on_train_finished(self) -> None:
        self._trainer = None
        self.runs.training = False
        self._set_state(RunState.IDLE)
        self.runs.update_buttons()

    def _set_state(self, state: RunState) -> None:
        self._state = state
        self._update_buttons()

    # --- runs shown --------------------------------------------------------------------------------
    @Slot(str)
    def open_run(self, path: str) -> None:
        """Show an earlier run: its curves, its results and (when it was stopped) Resume."""
        if self._trainer is not None:
            self._add_notice("warning", "A run is in progress: stop it before opening another one.")
            return
        self.runs.read_run(path, reopened=True)

    @Slot(str, str)
    def _on_resume_offered(self, path: str, text: str) -> None:
        """After a restart: show the interrupted run, with Resume ready, and say so wherever the user is."""
        if self._trainer is None and self._sample is None:
            self.open_run(path)
            self._offer = text  # shown once the run is on screen (opening it clears the notices)
            self.context.show_message(text)

    @Slot(object, bool)
    def _on_run_loaded(self, record, reopened: bool) -> None:
        self.run_dir = str(record.path)
        if reopened:
            self.notices = []
            self._show_notices()
            self.curves.show_history(record.history, record.epochs_planned)
            self.progress.show_run(record.epochs_done, record.epochs_planned)
            c = record.config
            self.run_info.setText(
                f"<b>{escape(str(c.get('variant', '?')).upper())} · {escape(str(c.get('mode', '?')))} mode · "
                f"{escape(str(c.get('weights_source', '')))}</b> · {len(record.class_names)} classes · "
                f"dataset <i>{escape(str(c.get('data_dir', 'unknown')))}</i>"
            )
        if self._offer:
            self._add_notice("info", self._offer)
            self._offer = ""
        if self._sample is not None:
            self.runs.select_worst_cell()
        self._update_buttons()
        self.run_shown.emit(record)

    # --- session -----------------------------------------------------------------------------------
    @Slot(object)
    def _on_backend_loaded(self, info: BackendInfo) -> None:
        self.form.set_backend(info.device, info.available_devices, self.session.weights_cached)
        self.runs.refresh_runs()  # listing reads run files with the backend, which is here now
        self._update_buttons()
        self._maybe_autostart()

    @Slot(str)
    def _on_backend_failed(self, message: str) -> None:
        self._add_notice("warning", message)
        self._autostart = False

    @Slot(str)
    def _on_weights_changed(self, variant: str) -> None:
        self.form.refresh_weights()

    # --- messages and state ------------------------------------------------------------------------
    @Slot(str, str)
    def _add_notice(self, level: str, text: str) -> None:
        self.notices.append((level, text))
        self._show_notices()

    def _show_notices(self) -> None:
        lines = [f"{'⚠ ' if level == 'warning' else ''}{escape(text)}" for level, text in self.notices[-MAX_NOTICES:]]
        self.message.setText("<br>".join(lines))
        self.message.setVisible(bool(lines))

    @Slot()
    def _update_buttons(self) -> None:
        ready = self.scan is not None and self.session.backend is not None and not self.dataset.busy
        can_continue = self.record is not None and self.record.can_resume
        self.controls.set_state(self._state, can_start=ready, can_continue=can_continue)
        buttons = {
            "start": self.controls.start_button, "pause": self.controls.pause_button,
            "resume": self.controls.resume_button, "stop": self.controls.stop_button,
            "use": self.use_button, "save": self.save_button, "export": self.export_button, "int8": self.int8_button,
            "compare": self.runs.compare_button,
        }
        for name, button in buttons.items():
            if name in self._menu_actions:
                self._menu_actions[name].setEnabled(button.isEnabled())

    # --- screenshots and benchmarks ----------------------------------------------------------------
    def prepare_screenshot(self) -> None:
        """Train a tiny sample run (generated shapes, random weights, 64 px) so the page shows real results."""
        from app.pages.train.sample_data import make_sample_dataset

        self._sample = tempfile.TemporaryDirectory(prefix="efficientnet-studio-sample-")
        root = Path(self._sample.name)
        data = make_sample_dataset(root / "shapes", per_class=12, size=64)
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
        return self._trainer is None and not self.dataset.busy and self.runs.is_settled() and not self._autostart
