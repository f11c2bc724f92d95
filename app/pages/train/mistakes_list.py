"""The misclassified images of one confusion-matrix cell: thumbnail, file name, what the model said."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

THUMBNAIL_SIZE = 64
PathRole = Qt.ItemDataRole.UserRole + 1


class MistakesList(QListWidget):
    """Rows come from ``model.training.evaluate.Mistake`` records; thumbnails arrive later, one by one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.setUniformItemSizes(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setWordWrap(False)
        # An empty square keeps the rows the same height before their thumbnails arrive.
        blank = QPixmap(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        blank.fill(Qt.GlobalColor.transparent)
        self._blank = QIcon(blank)

    def set_mistakes(self, mistakes: list) -> None:
        """Show ``mistakes`` (worst first, as the evaluation sorts them)."""
        self.clear()
        for m in mistakes:
            item = QListWidgetItem(
                self._blank, f"{Path(m.path).name}\npredicted '{m.predicted_label}' · {100 * m.confidence:.0f} % sure"
            )
            item.setToolTip(f"{m.path}\ntrue class '{m.true_label}', predicted '{m.predicted_label}' "
                            f"with {100 * m.confidence:.1f} % (loss {m.loss:.2f})")
            item.setData(PathRole, m.path)
            self.addItem(item)

    def set_thumbnail(self, row: int, image: QImage) -> None:
        item = self.item(row)
        if item is not None:
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    def paths(self) -> list[str]:
        return [self.item(i).data(PathRole) for i in range(self.count())]

    def has_thumbnail(self, row: int) -> bool:
        item = self.item(row)
        return item is not None and item.icon().cacheKey() != self._blank.cacheKey()
