"""Start, Pause, Resume and Stop: four buttons whose states follow the run.

Resume does two things, both "carry on": it un-pauses a paused run, and when
nothing is running it continues a stopped run from its last checkpoint.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QStyle, QWidget


class RunState(Enum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


class TrainControls(QWidget):
    """The buttons; the page connects their ``clicked`` and calls ``set_state`` as the run changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style = self.style()
        icon = style.standardIcon
        P = QStyle.StandardPixmap
        self.start_button = QPushButton(icon(P.SP_MediaPlay), "Start")
        self.pause_button = QPushButton(icon(P.SP_MediaPause), "Pause")
        self.resume_button = QPushButton(icon(P.SP_MediaSeekForward), "Resume")
        self.stop_button = QPushButton(icon(P.SP_MediaStop), "Stop")
        self.start_button.setToolTip("Start a new run with these settings (Ctrl+T)")
        self.pause_button.setToolTip("Pause after the current step; nothing is lost (Ctrl+P)")
        self.stop_button.setToolTip("Stop after the current step; the best model and a checkpoint are saved (Ctrl+Shift+T)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for b in (self.start_button, self.pause_button, self.resume_button, self.stop_button):
            layout.addWidget(b)
        self.state = RunState.IDLE
        self.set_state(RunState.IDLE, can_start=False, can_continue=False)

    def set_state(self, state: RunState, can_start: bool, can_continue: bool) -> None:
        """``can_start``: a dataset is ready; ``can_continue``: the run shown was stopped and can go on."""
        self.state = state
        idle = state is RunState.IDLE
        self.start_button.setEnabled(idle and can_start)
        self.pause_button.setEnabled(state is RunState.RUNNING)
        self.resume_button.setEnabled(state is RunState.PAUSED or (idle and can_continue))
        self.stop_button.setEnabled(state in (RunState.RUNNING, RunState.PAUSED))
        self.resume_button.setToolTip(
            "Continue the stopped run from its last checkpoint (Ctrl+R)" if idle
            else "Continue the paused run (Ctrl+R)"
        )
        if state is RunState.STOPPING:
            self.stop_button.setText("Stopping…")
        else:
            self.stop_button.setText("Stop")
