"""Small thumbnails decoded off the UI thread (the Classify page's results, the Train page's mistakes)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QImage

from app.workers.base import Worker

THUMBNAIL_SIZE = 80  # pixels; the results list draws them at this size


class ThumbnailWorker(Worker):
    """Decodes small thumbnails off the UI thread; files that do not decode are skipped."""

    thumbnail_ready = Signal(int, int, QImage)  # batch, row, image

    def __init__(self, paths: list[str], first_row: int, batch: int = 0, size: int = THUMBNAIL_SIZE) -> None:
        super().__init__("Making thumbnails")
        self.paths = list(paths)
        self.first_row = first_row
        self.batch = batch  # lets the receiver drop thumbnails of rows it has cleared since
        self.size = size

    def work(self) -> None:
        from model.core.errors import ImageError
        from model.imaging.images import load_image

        for offset, path in enumerate(self.paths):
            if self.stop_requested:
                return
            try:
                image = load_image(path, draft_size=(self.size * 2, self.size * 2))
            except ImageError:
                continue  # the prediction row explains the problem
            image.thumbnail((self.size, self.size))
            data = image.tobytes()
            # QImage is safe to build outside the UI thread; copy() makes it own its pixels.
            qimage = QImage(data, image.width, image.height, 3 * image.width, QImage.Format.Format_RGB888).copy()
            self.thumbnail_ready.emit(self.batch, self.first_row + offset, qimage)
