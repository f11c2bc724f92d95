"""A progress row for one background job: what it does, how far it is, and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from model.core.events import Progress


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class JobBar(QWidget):
    """Hidden while idle. ``track(worker)`` shows the worker's progress until it finishes;
    Cancel asks the worker to stop (it ends at its next step)."""

    finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this job (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 2)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.cancel_button)
        self.worker = None
        self.units = ""
        self.hide()

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def track(self, worker, text: str, units: str = "") -> None:
        """Show ``text`` and follow ``worker``'s progressed/finished signals."""
        self.worker = worker
        self.units = units
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy indicator until the first progress arrives
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        worker.progressed.connect(self.on_progressed)
        worker.finished.connect(self.on_finished)
        self.show()

    @Slot()
    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Stopping…")

    @Slot(object)
    def on_progressed(self, progress: Progress) -> None:
        if progress.total <= 0:
            self.bar.setRange(0, 0)
            if self.units == "bytes":
                self.bar.setFormat(format_bytes(progress.done))
            return
        # QProgressBar holds ints: show permille so byte counts above 2 GB still fit.
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * min(progress.done, progress.total) / progress.total))
        if self.units == "bytes":
            self.bar.setFormat(f"{format_bytes(progress.done)} of {format_bytes(progress.total)}")
        else:
            self.bar.setFormat(f"{progress.done} of {progress.total}")

    @Slot()
    def on_finished(self) -> None:
        self.worker = None
        self.hide()
        self.bar.setFormat("%p%")
        self.finished.emit()
