"""The line above the results that says which model and weights classify the images.

When ImageNet weights are missing it says so plainly, explains that the labels
come from random weights meanwhile, and offers the ways out: download (when
the internet can be reached), import a weights file, or train on your folders
(when the window has a Train page).
"""

from __future__ import annotations

from html import escape
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from app.state import ActiveModel, ModelChoice
from app.widgets.job_bar import JobBar


class ModelBanner(QFrame):
    """Shows the active model, or what is wrong with it and the buttons that fix it."""

    download_requested = Signal()
    import_requested = Signal()
    train_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.icon = QLabel()
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.download_button = QPushButton("Download ImageNet weights")
        self.download_button.clicked.connect(self.download_requested)
        self.import_button = QPushButton("Import weights file…")
        self.import_button.setToolTip("Use a .pth/.pt file of torchvision's ImageNet weights that you already have")
        self.import_button.clicked.connect(self.import_requested)
        self.train_button = QPushButton("Train on your folders")
        self.train_button.setToolTip("Fine-tune on a folder with one sub-folder of images per class")
        self.train_button.clicked.connect(self.train_requested)
        self.job = JobBar()
        # Asked each time the buttons show: the Train page may be added after this banner.
        self.can_train: Callable[[], bool] = lambda: False

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.download_button, self.import_button, self.train_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.buttons = QWidget()
        self.buttons.setLayout(buttons)

        right = QVBoxLayout()
        right.addWidget(self.text)
        right.addWidget(self.buttons)
        right.addWidget(self.job)
        layout = QHBoxLayout(self)
        layout.addWidget(self.icon)
        layout.addLayout(right, 1)
        self.show_loading(None)

    def _set_icon(self, pixmap: QStyle.StandardPixmap) -> None:
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(32, 32))

    def show_loading(self, choice: ModelChoice | None) -> None:
        from app.session import ModelSession

        self._set_icon(QStyle.StandardPixmap.SP_BrowserReload)
        what = "the backend (PyTorch)" if choice is None else escape(ModelSession.describe_choice(choice))
        self.text.setText(f"<b>Loading {what}…</b> You can drop images already; they are classified as soon as it is ready.")
        self.buttons.hide()

    def show_failed(self, message: str, backend: bool = False) -> None:
        """No classifier: say why; offer other weights unless the backend itself did not load."""
        self._set_icon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        what = "The backend (PyTorch) could not be loaded." if backend else "No classifier could be loaded."
        self.text.setText(f"<b>{what}</b> {escape(message)}")
        if backend:
            self.buttons.hide()
        else:
            self._show_buttons(download=False)

    def show_active(self, active: ActiveModel, online: bool | None) -> None:
        notes = "".join(f"<br>{escape(n)}" for n in active.notes)
        where = escape(active.device_name)
        if active.imagenet_missing:
            self._set_icon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            reach = (
                "and there is no internet connection to download them"
                if online is False
                else "yet"
            )
            self.text.setText(
                f"<b>ImageNet weights for {escape(active.title)} are not on this computer {reach}.</b> "
                f"Meanwhile it classifies with <b>random weights</b>, so the labels below are meaningless."
                f"{notes}"
            )
            self._show_buttons(download=online is not False)
            self.download_button.setEnabled(bool(online))
            self.download_button.setToolTip(
                "Download torchvision's ImageNet weights" if online else "Checking the internet connection…"
            )
            return
        if active.uses_random_weights:
            self._set_icon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self.text.setText(
                f"Classifying with <b>{escape(active.title)}</b> and <b>random weights</b> (chosen on the Models page): "
                f"the labels are meaningless.{notes}"
            )
            self.buttons.hide()
            return
        self._set_icon(QStyle.StandardPixmap.SP_MessageBoxInformation)
        kind = "fine-tuned " if active.is_fine_tuned else ""
        self.text.setText(
            f"Classifying with {kind}<b>{escape(active.title)}</b> · {escape(active.source)} · "
            f"{active.class_count} classes · on {where}{notes}"
        )
        self.buttons.hide()

    def _show_buttons(self, download: bool) -> None:
        self.download_button.setVisible(download)
        self.train_button.setVisible(self.can_train())
        self.buttons.show()
