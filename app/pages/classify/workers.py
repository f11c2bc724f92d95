"""Background work of the Classify page: listing the dropped files and streaming their predictions."""

from __future__ import annotations

from PySide6.QtCore import Signal

from app.workers import ProgressThrottle, Worker
from model.core.events import Progress


class ClassifyWorker(Worker):
    """Lists the image files under the dropped paths, then streams one prediction per file."""

    files_listed = Signal(list)  # [str]: every file that will be classified, in order
    prediction_ready = Signal(int, object)  # index into files_listed, model.inference.predict.Prediction

    def __init__(self, predictor, paths: list[str], top_k: int = 5, fast_decode: bool = False) -> None:
        super().__init__("Classifying images")
        self.predictor = predictor
        self.paths = list(paths)
        self.top_k = top_k
        self.fast_decode = fast_decode

    def work(self) -> None:
        from model.imaging.images import iter_image_files

        files = []
        for path in iter_image_files(self.paths):
            if self.stop_requested:
                return
            files.append(str(path))
        self.files_listed.emit(files)
        total = len(files)
        throttle = ProgressThrottle()
        stream = self.predictor.predict_iter(files, top_k=self.top_k, cancel=self._stop, fast_decode=self.fast_decode)
        for index, prediction in enumerate(stream):
            self.prediction_ready.emit(index, prediction)
            if throttle.ready(index + 1, total):
                self.progressed.emit(Progress(index + 1, total, "Classifying"))
            if self.stop_requested:
                return
