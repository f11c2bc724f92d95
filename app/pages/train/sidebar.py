"""The Train page's left column: the dataset, the settings, what training sees, and the run's buttons.

The boxes scroll together when the window is too short for them (the form fits
at 800 px high); Start, Pause, Resume and Stop stay below them, always in view.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QScrollArea, QVBoxLayout, QWidget

from app.context import StudioContext
from app.pages.train.augment_strip import AugmentStrip
from app.pages.train.dataset import DatasetPanel
from app.pages.train.quality_workers import STRIP_SAMPLES
from app.pages.train.train_controls import TrainControls
from app.pages.train.train_form import TrainForm

WIDTH = 390


class TrainSidebar(QWidget):
    """Holds ``dataset``, ``form``, ``strip`` and ``controls``; the page connects their signals."""

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = DatasetPanel(context)
        self.form = TrainForm()
        self.strip = AugmentStrip(STRIP_SAMPLES)
        self.controls = TrainControls()
        settings_box = QGroupBox("Settings")
        QVBoxLayout(settings_box).addWidget(self.form)
        strip_box = QGroupBox("What training sees")
        QVBoxLayout(strip_box).addWidget(self.strip)

        boxes = QWidget()
        boxes_layout = QVBoxLayout(boxes)
        boxes_layout.setContentsMargins(0, 0, 6, 0)
        boxes_layout.addWidget(self.dataset)
        boxes_layout.addWidget(settings_box)
        boxes_layout.addWidget(strip_box)
        boxes_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(boxes)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.controls)
