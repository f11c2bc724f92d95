"""A titled picture that scales to fit its space, and numpy RGB → QImage.

The Attention page shows the model's input crop and its overlays in three of
these side by side. Pictures are drawn scaled with the aspect ratio kept;
before there is a picture the pane shows a hint instead.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """An RGB uint8 [H, W, 3] array as a QImage that owns a copy of its pixels."""
    rgb = np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class ScaledImage(QWidget):
    """Paints a QImage as large as fits, centred, aspect ratio kept; reports hovers in image pixels."""

    hovered = Signal(float, float)  # x, y in image pixels; (-1, -1) when the pointer leaves the picture

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self.hint = ""
        self.setMouseTracking(True)
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def image(self) -> QImage:
        return self._image

    def set_image(self, image: QImage) -> None:
        self._image = image
        self.update()

    def clear(self, hint: str = "") -> None:
        self._image = QImage()
        self.hint = hint
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(300, 300)

    def target_rect(self) -> QRectF:
        """Where the picture is drawn inside the widget."""
        if self._image.isNull():
            return QRectF()
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        w, h = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self._image.isNull():
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.hint)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(self.target_rect(), self._image)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.hovered.emit(*self.image_point(event.position()))

    def leaveEvent(self, event) -> None:
        self.hovered.emit(-1.0, -1.0)

    def image_point(self, pos: QPointF) -> tuple[float, float]:
        """The image pixel under widget position ``pos``; (-1, -1) outside the picture."""
        rect = self.target_rect()
        if rect.isEmpty() or not rect.contains(pos):
            return -1.0, -1.0
        scale = self._image.width() / rect.width()
        return (pos.x() - rect.x()) * scale, (pos.y() - rect.y()) * scale


class ImagePane(QWidget):
    """A ``ScaledImage`` with a title above it and a caption below."""

    def __init__(self, title: str, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(title)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.view = ScaledImage()
        self.view.clear(hint)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)

    def set_picture(self, rgb: np.ndarray, title: str | None = None, caption: str = "") -> None:
        if title is not None:
            self.title.setText(title)
        self.caption.setText(caption)
        self.view.set_image(rgb_to_qimage(rgb))

    def clear(self, hint: str = "") -> None:
        self.caption.setText("")
        self.view.clear(hint)

    def image(self) -> QImage:
        """The picture shown now (a null QImage when none)."""
        return self.view.image()
