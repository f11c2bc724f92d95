"""The Train page: fine-tune on your own class folders and watch the curves live.

A dataset folder (chosen or dropped) is scanned in a worker and summarised
(``DatasetPanel``). Start runs ``model.engine.train`` in a TrainWorker with the
form's choices (a ``TrainConfig``), in a new folder under the runs folder; its
events feed the curves (redrawn at most ten times a second), the progress row
and the notices. The run's ``TrainControl`` (torch-free, from ``model.core``)
is made for it; Pause, Resume and Stop reach the engine through it. When a run
ends its folder is read back, exactly as an earlier run is reopened, and the
``RunBrowser`` below the curves shows its results and offers its model.

The page composes and wires; the parts live beside it: ``TrainSidebar`` and
``RunPanel`` (the two columns), ``RunDriver`` (the run and its events),
``run_texts`` (what is said about a run), ``StripFeed`` (the augmentation
strip's samples), ``LRFinderLauncher``, ``Autostart`` and the Train menu.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QHBoxLayout, QMenu

from app.context import StudioContext
from app.pages import Page
from app.pages.train.autostart import Autostart
from app.pages.train.lr_finder_launch import LRFinderLauncher
from app.pages.train.run_driver import RunDriver
from app.pages.train.run_panel import RunPanel
from app.pages.train.sidebar import TrainSidebar
from app.pages.train.strip_feed import StripFeed
from app.pages.train.train_controls import RunState
from app.pages.train.train_form import TrainChoices
from app.pages.train.train_menu import fill_train_menu, follow_buttons
from app.state import BackendInfo
from app.widgets.drop_zone import local_paths


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
        self.autostart = Autostart(self)
        self._menu_actions: dict[str, object] = {}
        self._offer = ""  # the resume offer, shown below the curves once its run is open
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

    @property
    def trainer(self):
        """The run's ``TrainWorker`` while one trains, else None."""
        return self.driver.trainer

    @property
    def notices(self) -> list[tuple[str, str]]:
        """(level, sentence) said about the run shown, oldest first."""
        return self.message.notices

    @property
    def lr_finder(self):
        """The learning-rate finder opened last (None before the first)."""
        return self.lr_launcher.dialog

    # --- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        sidebar = TrainSidebar(self.context)
        self.dataset, self.form, self.strip, self.controls = sidebar.dataset, sidebar.form, sidebar.strip, sidebar.controls
        self.dataset.scanned.connect(self._on_scanned)
        self.dataset.changed.connect(self._update_buttons)
        self.form.changed.connect(self._on_form_changed)
        self.form.augmentation_changed.connect(self.refresh_strip)
        self.form.find_lr_requested.connect(self.find_lr)
        self.controls.start_button.clicked.connect(self.start)
        self.controls.pause_button.clicked.connect(self.pause)
        self.controls.resume_button.clicked.connect(self.resume)
        self.controls.stop_button.clicked.connect(self.stop)
        self.strip_feed = StripFeed(self.context.pool, self.strip, self)
        self.lr_launcher = LRFinderLauncher(self.context.pool, self.form, self)

        panel = RunPanel(self.context, self.settings.runs_folder)
        self.run_panel = panel
        self.run_info, self.progress, self.message, self.curves, self.runs = (
            panel.run_info, panel.progress, panel.notices, panel.curves, panel.runs)
        self.driver = RunDriver(self.context, self.curves, self.progress, self.runs, self.run_info, self.message, self)
        self.driver.started.connect(self._on_training_started)
        self.driver.paused.connect(self.training_paused)
        self.driver.finished.connect(self.training_finished)
        self.driver.state_changed.connect(self._update_buttons)
        self.lr_launcher.notice_posted.connect(self.message.add)
        self.runs.run_loaded.connect(self._on_run_loaded)
        self.runs.open_requested.connect(self.open_run)
        self.runs.notice_posted.connect(self.message.add)
        self.runs.changed.connect(self._update_buttons)
        self.runs.resume_offered.connect(self._on_resume_offered)
        # Short names for what tests and the screenshot look at.
        self.summary, self.results, self.runs_list = self.dataset.summary, self.runs.results, self.runs.runs_list
        self.use_button, self.save_button, self.export_button = self.runs.use_button, self.runs.save_button, self.runs.export_button
        self.int8_button = self.runs.int8_button

        layout = QHBoxLayout(self)
        layout.addWidget(sidebar)
        layout.addWidget(panel, 1)

    def fill_menu(self, menu: QMenu) -> None:
        self._menu_actions = fill_train_menu(menu, self)
        self._update_buttons()

    @Slot()
    def _on_form_changed(self) -> None:
        if self.trainer is None and self.record is None:
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
        self.autostart.check()

    # --- augmented samples and the learning-rate finder ---------------------------------------------
    @Slot()
    def refresh_strip(self) -> None:
        """Augment a few of the dataset's images with the form's preset, in a worker."""
        self.strip_feed.refresh(self.scan, self.form.choices())

    @Slot()
    def find_lr(self) -> None:
        """Open the learning-rate finder on the scanned dataset with the form's settings."""
        data_dir = str(self.scan.root) if self.scan is not None else None
        self.lr_launcher.open(data_dir, self.session.backend is not None, training=self.trainer is not None)

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
        self.driver.start(choices.to_config(data_dir=str(self.scan.root)), self.runs_root)

    @Slot()
    def pause(self) -> None:
        self.driver.pause()

    @Slot()
    def resume(self) -> None:
        """Un-pause the run, or (when idle) continue the stopped run shown from its checkpoint."""
        if self.driver.state is RunState.PAUSED:
            self.driver.resume()
        elif self.trainer is None and self.record is not None and self.record.can_resume:
            self.driver.continue_run(self.record, self.form.choices().device)

    @Slot()
    def stop(self) -> None:
        self.driver.stop()

    @Slot(object)
    def _on_training_started(self, started) -> None:
        self.run_dir = started.run_dir
        self.training_started.emit(started)

    # --- runs shown --------------------------------------------------------------------------------
    @Slot(str)
    def open_run(self, path: str) -> None:
        """Show an earlier run: its curves, its results and (when it was stopped) Resume."""
        if self.trainer is not None:
            self.message.add("warning", "A run is in progress: stop it before opening another one.")
            return
        self.runs.read_run(path, reopened=True)

    @Slot(str, str)
    def _on_resume_offered(self, path: str, text: str) -> None:
        """After a restart: show the interrupted run, with Resume ready, and say so wherever the user is."""
        if self.trainer is None and self.autostart.sample is None:
            self.open_run(path)
            self._offer = text  # shown once the run is on screen (opening it clears the notices)
            self.context.show_message(text)

    @Slot(object, bool)
    def _on_run_loaded(self, record, reopened: bool) -> None:
        self.run_dir = str(record.path)
        if reopened:
            self.run_panel.show_reopened(record)
        if self._offer:
            self.message.add("info", self._offer)
            self._offer = ""
        if self.autostart.sample is not None:
            self.runs.select_worst_cell()  # the screenshot shows some thumbnails
        self._update_buttons()
        self.run_shown.emit(record)

    # --- session -----------------------------------------------------------------------------------
    @Slot(object)
    def _on_backend_loaded(self, info: BackendInfo) -> None:
        self.form.set_backend(info.device, info.available_devices, self.session.weights_cached)
        self.runs.refresh_runs()  # listing reads run files with the backend, which is here now
        self._update_buttons()
        self.autostart.check()

    @Slot(str)
    def _on_backend_failed(self, message: str) -> None:
        self.message.add("warning", message)
        self.autostart.cancel()

    @Slot(str)
    def _on_weights_changed(self, variant: str) -> None:
        self.form.refresh_weights()

    # --- state -------------------------------------------------------------------------------------
    @Slot()
    def _update_buttons(self) -> None:
        ready = self.scan is not None and self.session.backend is not None and not self.dataset.busy
        can_continue = self.record is not None and self.record.can_resume
        self.controls.set_state(self.driver.state, can_start=ready, can_continue=can_continue)
        follow_buttons(self._menu_actions, {
            "start": self.controls.start_button, "pause": self.controls.pause_button,
            "resume": self.controls.resume_button, "stop": self.controls.stop_button,
            "use": self.use_button, "save": self.save_button, "export": self.export_button, "int8": self.int8_button,
            "compare": self.runs.compare_button,
        })

    # --- screenshots and benchmarks ----------------------------------------------------------------
    def prepare_screenshot(self) -> None:
        self.autostart.sample_run()

    def train_when_ready(self, folder: str) -> None:
        """Scan ``folder`` and start training with the form's choices once the scan and the backend are ready."""
        self.autostart.train_when_ready(folder)

    def is_settled(self) -> bool:
        return self.trainer is None and not self.dataset.busy and self.runs.is_settled() and not self.autostart.pending
