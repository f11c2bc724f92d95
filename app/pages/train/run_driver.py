"""One training run at a time: its worker, its state, and where each of its events goes on the page.

``RunDriver`` starts a ``TrainWorker`` (a new run, or a stopped one continued
from its checkpoint), passes Pause, Resume and Stop to it, and turns its events
into the live curves, the progress row, the banner and the notices. When the run
ends, its folder is read back by the run browser, exactly as an earlier run is
reopened, unless the window is closing (then nothing new may start).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QLabel

from app.context import StudioContext
from app.pages.train import run_texts
from app.pages.train.notices import NoticeBoard
from app.pages.train.runs import RunBrowser
from app.pages.train.train_controls import RunState
from app.pages.train.train_curves import TrainCurves
from app.pages.train.train_progress import TrainProgress
from app.pages.train.workers import TrainWorker
from model.core.states import CheckpointKind
from model.core.train_config import TrainConfig
from model.core.train_control import TrainControl


class RunDriver(QObject):
    """Drives the page's run; ``trainer`` is its worker while one trains, ``state`` what the buttons follow."""

    # Emitted once the page has shown what happened (UI thread).
    started = Signal(object)  # model.core.events.TrainingStarted
    paused = Signal(object)  # model.core.events.Paused
    finished = Signal(object)  # model.core.events.Finished
    state_changed = Signal()  # the buttons may need updating

    def __init__(self, context: StudioContext, curves: TrainCurves, progress: TrainProgress, runs: RunBrowser,
                 run_info: QLabel, notices: NoticeBoard, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.curves = curves
        self.progress = progress
        self.runs = runs
        self.run_info = run_info
        self.notices = notices
        self.trainer: TrainWorker | None = None
        self.state = RunState.IDLE
        self._user_stop = False

    # --- what the buttons ask --------------------------------------------------------------------
    def start(self, config: TrainConfig, runs_root: str) -> None:
        """A new run in a new folder under ``runs_root``."""
        self._begin(TrainWorker(config, TrainControl(), runs_root=runs_root))

    def continue_run(self, record, device: str) -> None:
        """Continue a stopped run (``RunRecord``) from its checkpoint, on ``device``."""
        config = TrainConfig(data_dir=record.config["data_dir"], out_dir=str(record.path), resume=True, device=device)
        self._begin(TrainWorker(config, TrainControl()))

    def pause(self) -> None:
        if self.trainer is not None and self.state is RunState.RUNNING:
            self.trainer.pause()
            self.progress.pause()
            self._set_state(RunState.PAUSED)

    def resume(self) -> None:
        """Un-pause a paused run (a stopped one continues with ``continue_run``)."""
        if self.trainer is not None and self.state is RunState.PAUSED:
            self.trainer.resume()
            self.progress.resume()
            self._set_state(RunState.RUNNING)

    def stop(self) -> None:
        if self.trainer is not None and self.state in (RunState.RUNNING, RunState.PAUSED):
            self._user_stop = True
            self.trainer.stop()
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
        self.trainer = worker
        self._user_stop = False
        self.notices.clear_notices()
        self.curves.clear()
        self.runs.training = True
        self.runs.show_training()
        self.run_info.setText(run_texts.LOADING)
        self._set_state(RunState.RUNNING)
        self.context.pool.start(worker)  # after every connection, so no early signal is lost

    def _set_state(self, state: RunState) -> None:
        self.state = state
        self.state_changed.emit()

    # --- the worker's events ---------------------------------------------------------------------
    @Slot(object)
    def _on_run_started(self, s) -> None:
        self.progress.start(s)
        self.curves.show_history(s.history, s.epochs)
        for level, text in run_texts.started_notices(s):
            self.notices.add(level, text)
        self.run_info.setText(run_texts.started_banner(s))
        self.started.emit(s)

    @Slot(object)
    def _on_notice(self, notice) -> None:
        self.notices.add(notice.level, notice.message)

    @Slot(object)
    def _on_file_skipped(self, skipped) -> None:
        self.notices.add("warning", run_texts.skipped_notice(skipped))

    @Slot(object)
    def _on_batch_size_reduced(self, e) -> None:
        self.notices.add("warning", run_texts.batch_reduced_notice(e))

    @Slot(object)
    def _on_step(self, m) -> None:
        self.curves.add_step(m)
        if self.state is RunState.RUNNING:  # a paused or stopping run keeps saying so
            self.progress.step(m)

    @Slot(object)
    def _on_epoch(self, m) -> None:
        self.curves.add_epoch(m)
        if self.state is RunState.RUNNING:
            self.progress.epoch(m)

    @Slot(object)
    def _on_paused(self, paused) -> None:
        if self.state is RunState.PAUSED:
            self.progress.pause(run_texts.paused_text(paused))
        self.paused.emit(paused)

    @Slot(object)
    def _on_checkpoint_saved(self, saved) -> None:
        if saved.kind == CheckpointKind.BEST and saved.epoch:
            self.context.show_message(run_texts.best_epoch_message(saved))

    @Slot(object)
    def _on_run_finished(self, finished) -> None:
        self.curves.flush()
        self.progress.finish(finished)
        worker = self.trainer
        if worker is None or not worker.stop_requested or self._user_stop:
            # Not when the window is closing: the checkpoint is saved; nothing new may start.
            self.notices.add("info", run_texts.finished_notice(finished))
            self.runs.read_run(str(Path(finished.bundle_path).parent), reopened=False)
            self.runs.refresh_runs()
        self.finished.emit(finished)

    @Slot(str)
    def _on_train_failed(self, message: str) -> None:
        self.notices.add("warning", message)
        self.run_info.setText(run_texts.FAILED)

    @Slot()
    def _on_train_finished(self) -> None:
        self.trainer = None
        self.runs.training = False
        self._set_state(RunState.IDLE)
        self.runs.update_buttons()
