"""The Train page's right-hand side: what the run shown says, its live curves, and its results.

From the top: the banner (what trains on what), the progress row, the notices,
then the curves above the run browser (results and earlier runs), split so
that either can be given more height. The results' "Full height" hides the
curves, for a confusion matrix of many classes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from app.context import StudioContext
from app.pages.train import run_texts
from app.pages.train.notices import NoticeBoard
from app.pages.train.runs import RunBrowser
from app.pages.train.train_curves import TrainCurves
from app.pages.train.train_progress import TrainProgress


class RunPanel(QWidget):
    """Holds ``run_info``, ``progress``, ``notices``, ``curves`` and ``runs``; the page wires them."""

    def __init__(self, context: StudioContext, runs_folder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_info = QLabel(run_texts.READY)
        self.run_info.setWordWrap(True)
        self.run_info.setTextFormat(Qt.TextFormat.RichText)
        self.progress = TrainProgress()
        self.notices = NoticeBoard()
        self.curves = TrainCurves()
        self.runs = RunBrowser(context, runs_folder)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.curves)
        self.splitter.addWidget(self.runs)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([290, 380])
        self.runs.results.full_height_toggled.connect(self._on_full_height)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.run_info)
        layout.addWidget(self.progress)
        layout.addWidget(self.notices)
        layout.addWidget(self.splitter, 1)

    @Slot(bool)
    def _on_full_height(self, full: bool) -> None:
        self.curves.setVisible(not full)

    def show_reopened(self, record) -> None:
        """An earlier run (``RunRecord``) opened again: its curves, how far it got, its banner; no old notices."""
        self.notices.clear_notices()
        self.curves.show_history(record.history, record.epochs_planned)
        self.progress.show_run(record.epochs_done, record.epochs_planned)
        self.run_info.setText(run_texts.reopened_banner(record))
