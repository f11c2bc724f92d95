"""The big "drop images here" area, reading local paths out of drags and the clipboard, and the
drag-and-drop handling every widget that takes dropped files shares (``PathDropTarget``)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget


def local_paths(mime: QMimeData) -> list[str]:
    """Local files and folders named by dragged or copied urls (or plain-text paths)."""
    if mime.hasUrls():
        return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]
    if mime.hasText():
        # Some file managers and terminals copy paths as text, one per line.
        lines = [line.strip() for line in mime.text().splitlines() if line.strip()]
        paths = [line.removeprefix("file://") for line in lines]
        if paths and all(Path(p).exists() for p in paths):
            return paths
    return []


def save_pasted_image(image: QImage, folder: Path | None = None) -> str:
    """Write clipboard image data to a PNG so it can be classified like any file."""
    folder = folder or Path(tempfile.gettempdir()) / "efficientnet-studio-pasted"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 1_000_000:06d}.png"
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return str(path)


def accepts(mime: QMimeData) -> bool:
    return bool(local_paths(mime))


class PathDropTarget:
    """Mixin for a QWidget that takes drops of local files and folders: it accepts drags that name
    some and hands a drop's paths to ``take_paths``, refusing anything else (web urls, plain words).

    List it before the Qt class (``class Page(PathDropTarget, QWidget)``) so its event handlers
    win, and call ``setAcceptDrops(True)``.
    """

    def take_paths(self, paths: list[str]) -> None:
        """Do what the widget does with dropped files and folders (in the order they were dragged)."""
        raise NotImplementedError(f"{type(self).__name__} takes drops but does not say what to do with them")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.take_paths(paths)


class DropZone(PathDropTarget, QFrame):
    """A large target for files and folders, with Open buttons for those who prefer them."""

    paths_dropped = Signal(list)  # [str]
    open_files_requested = Signal()
    open_folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFrameShadow(QFrame.Shadow.Sunken)
        self.setAutoFillBackground(True)
        self.setMinimumHeight(180)

        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon).pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Drop photos or folders here")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel(
            "Each image gets its top-5 labels. Folders are searched for images, sub-folders included.\n"
            "You can also paste an image or copied files with Ctrl+V."
        )
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.open_files_button = QPushButton("Open images…")
        self.open_files_button.clicked.connect(self.open_files_requested)
        self.open_folder_button = QPushButton("Open folder…")
        self.open_folder_button.clicked.connect(self.open_folder_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_files_button)
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(icon)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addStretch(3)
        self._set_highlight(False)

    def _set_highlight(self, on: bool) -> None:
        # Use the theme's own colours: the base colour normally, the highlight while dragging over.
        palette = self.palette()
        role = QPalette.ColorRole.Highlight if on else QPalette.ColorRole.Base
        colour = self.palette().color(role)
        if on:
            colour.setAlpha(60)
        palette.setColor(QPalette.ColorRole.Window, colour)
        self.setPalette(palette)

    def take_paths(self, paths: list[str]) -> None:
        self.paths_dropped.emit(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        super().dragEnterEvent(event)
        self._set_highlight(event.isAccepted())

    def dragLeaveEvent(self, event) -> None:
        self._set_highlight(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_highlight(False)
        super().dropEvent(event)
