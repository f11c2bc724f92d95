"""How far a training run is: a progress bar, images per second, the time left and the device.

The estimate of the time left divides the time spent training so far (pauses
excluded) by the part of the run done in that time, so it includes validation
and checkpoints, and it settles after the first epoch.
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from model.core.events import EpochMetrics, Finished, Progress, StepMetrics, TrainingStarted
from model.core.states import FinishReason

BAR_STEPS = 1000


def format_duration(seconds: float) -> str:
    """"40 s", "3 min", "1 h 05 min": as precise as a person wants to read it."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class TrainProgress(QWidget):
    """The run's progress row; fed by the Train page with the engine's events."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setValue(0)
        self.bar.setFormat("No training yet")
        self.label = QLabel()
        self.label.setToolTip("Progress of the run: epoch, step, speed, time left and the device it runs on")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.label, 3)
        self.device_name = ""
        self.epochs = 0
        self._start_fraction = 0.0
        self._fraction = 0.0
        self._started_at = 0.0
        self._paused_at: float | None = None
        self._paused_for = 0.0
        self._earlier = 0.0
        self.images_per_sec: float | None = None

    # --- events ------------------------------------------------------------------------------
    def start(self, started: TrainingStarted) -> None:
        self.device_name = started.device_name
        self.epochs = max(1, started.epochs)
        self._start_fraction = self._fraction = (started.start_epoch - 1) / self.epochs
        self._started_at = time.monotonic()
        self._earlier = sum(h.seconds for h in started.history)  # sessions before a resume
        self._paused_at, self._paused_for = None, 0.0
        self.images_per_sec = None
        self._set_bar(f"Epoch {min(started.start_epoch, self.epochs)} of {self.epochs}")
        self.label.setText(f"Starting on {self.device_name}")

    def phase(self, progress: Progress) -> None:
        """Before the first epoch: decoding images or computing backbone features."""
        text = f"{progress.message} {progress.done} of {progress.total}"
        self.label.setText(self._join(text, self.device_name))

    def step(self, m: StepMetrics) -> None:
        self.images_per_sec = m.images_per_sec
        self._fraction = ((m.epoch - 1) + m.step / max(1, m.steps_per_epoch)) / self.epochs
        self._set_bar(f"Epoch {m.epoch} of {self.epochs}")
        self.label.setText(
            self._join(
                f"step {m.step} of {m.steps_per_epoch}", f"{m.images_per_sec:.0f} images/s", self.eta_text(),
                self.device_name,
            )
        )

    def epoch(self, m: EpochMetrics) -> None:
        self._fraction = m.epoch / self.epochs
        self._set_bar(f"Epoch {m.epoch} of {self.epochs}")
        speed = f"{self.images_per_sec:.0f} images/s" if self.images_per_sec else ""
        scores = ""
        if m.val_acc is not None:
            scores = f"val accuracy {100 * m.val_acc:.1f} %"
            if getattr(m, "val_macro_f1", None) is not None:
                scores += f", macro F1 {100 * m.val_macro_f1:.1f} %" + (" (EMA weights)" if getattr(m, "ema", False) else "")
        self.label.setText(self._join(f"epoch {m.epoch} done", scores, speed, self.eta_text(), self.device_name))

    def pause(self, text: str = "Pausing after this step…") -> None:
        if self._paused_at is None:
            self._paused_at = time.monotonic()
        self.label.setText(self._join(text, self.device_name))

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_for += time.monotonic() - self._paused_at
            self._paused_at = None
        self.label.setText(self._join("Running", self.device_name))

    def stopping(self) -> None:
        self.label.setText(self._join("Stopping: saving the checkpoint…", self.device_name))

    def finish(self, finished: Finished) -> None:
        if finished.outcome is FinishReason.COMPLETED:
            self._fraction = 1.0
        self._set_bar(f"{finished.epochs_done} of {self.epochs} epochs")
        took = ""
        if self._started_at:  # every session of the run, not only this one
            took = f"took {format_duration(self._earlier + self._active_seconds())}"
            took += " in all its sessions" if self._earlier else ""
        self.label.setText(self._join(finished.reason.capitalize(), took, self.device_name))

    def show_run(self, epochs_done: int, epochs: int) -> None:
        """A reopened run: how far it got, with no speed or time left."""
        self.epochs = max(1, epochs)
        self._fraction = epochs_done / self.epochs
        self._started_at = 0.0
        self._set_bar(f"{epochs_done} of {epochs} epochs")
        self.label.setText("Reopened run" if epochs_done >= epochs else "Stopped run: Resume continues it")

    # --- estimates ---------------------------------------------------------------------------
    def _active_seconds(self) -> float:
        now = time.monotonic()
        paused = self._paused_for + (now - self._paused_at if self._paused_at is not None else 0.0)
        return max(0.0, now - self._started_at - paused)

    def eta_seconds(self) -> float | None:
        done = self._fraction - self._start_fraction
        if done <= 0 or not self._started_at:
            return None
        return self._active_seconds() * (1.0 - self._fraction) / done

    def eta_text(self) -> str:
        eta = self.eta_seconds()
        return "" if eta is None else f"about {format_duration(eta)} left"

    def _set_bar(self, text: str) -> None:
        self.bar.setValue(round(BAR_STEPS * min(1.0, max(0.0, self._fraction))))
        self.bar.setFormat(f"{text} · {100 * self._fraction:.0f} %")

    @staticmethod
    def _join(*parts: str) -> str:
        return " · ".join(p for p in parts if p)
