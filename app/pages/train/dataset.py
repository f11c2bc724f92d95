"""The Train page's dataset box: the chosen folder, its background scan, and what it holds."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.context import StudioContext
from app.pages.train.workers import ScanWorker
from app.pages.train.dataset_summary import DatasetSummary

FOLDER_LABEL_WIDTH = 230  # pixels for the folder path before it is elided in the middle


class DatasetPanel(QGroupBox):
    """Choose… (or ``set_folder`` from a drop) scans the folder in a worker and shows the summary."""

    scanned = Signal(object)  # model.training.data.DatasetScan, once a scan is in
    changed = Signal()  # a scan started, arrived or failed

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__("Dataset", parent)
        self.context = context
        self.scan = None  # model.training.data.DatasetScan of the current folder
        self.remember = True  # False: the folder is not the user's (screenshots, benchmarks)
        self._scanner: ScanWorker | None = None
        self.folder_label = QLabel("No dataset chosen")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.setToolTip("A folder with one sub-folder of images per class (Ctrl+Shift+F), or drop it here")
        self.choose_button.clicked.connect(self.choose)
        row = QHBoxLayout()
        row.addWidget(self.folder_label, 1)
        row.addWidget(self.choose_button)
        self.summary = DatasetSummary()
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)

    @property
    def busy(self) -> bool:
        return self._scanner is not None

    @Slot()
    def choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose a dataset: one sub-folder of images per class", self.context.settings.last_folder("dataset")
        )
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> None:
        """Scan ``folder`` in the background; a scan still running for an earlier folder is dropped."""
        if self._scanner is not None:
            self._scanner.stop()
        if self.remember:
            self.context.settings.set_last_folder("dataset", folder)
        self.scan = None
        metrics = self.folder_label.fontMetrics()
        self.folder_label.setText(metrics.elidedText(folder, Qt.TextElideMode.ElideMiddle, FOLDER_LABEL_WIDTH))
        self.folder_label.setToolTip(folder)
        self.summary.show_scanning(folder)
        scanner = ScanWorker(folder)
        scanner.scanned.connect(self._on_scanned)
        scanner.failed.connect(self._on_failed)
        scanner.ended.connect(self._on_ended)
        self._scanner = scanner
        self.context.pool.start(scanner)  # after every connection, so no early signal is lost
        self.changed.emit()

    @Slot(object)
    def _on_scanned(self, scan) -> None:
        if self.sender() is not self._scanner:
            return  # a scan that a newer choice replaced
        self._scanner = None  # its result is in; the thread only has to end
        self.scan = scan
        self.summary.show_scan(scan)
        self.changed.emit()
        self.scanned.emit(scan)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.sender() is self._scanner:
            self.summary.show_error(message)

    @Slot(object)
    def _on_ended(self, worker) -> None:
        if worker is self._scanner:
            self._scanner = None
            self.changed.emit()
