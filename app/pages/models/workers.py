"""Background work of the Models page: ImageNet weights (download, import) and speed measurements.

The downloads and imports are started by ``WeightsActions``, which the Classify
page's banner borrows; they report new weights to the session.
"""

from __future__ import annotations

from PySide6.QtCore import Signal

from app.workers import GeneratorWorker, ProgressThrottle, Worker
from model.core.events import Progress


class DownloadWorker(Worker):
    """Downloads a variant's ImageNet weights into torch's cache, with progress and cancel."""

    downloaded = Signal(str, str)  # variant, path

    def __init__(self, variant: str) -> None:
        super().__init__(f"Downloading EfficientNet-{variant.upper()} weights")
        self.variant = variant
        self._throttle = ProgressThrottle()

    def work(self) -> None:
        from model.nets.weights import download_imagenet

        path = download_imagenet(self.variant, progress=self._on_bytes, cancel=self._stop)
        if not self.stop_requested:
            self.downloaded.emit(self.variant, str(path))

    def _on_bytes(self, done: int, total: int | None) -> None:
        if self._throttle.ready(done, total):
            self.progressed.emit(Progress(done, total or 0, "bytes"))


class ImportWeightsWorker(Worker):
    """Validates a user's weights file and copies it into the cache for a variant."""

    imported = Signal(str, str)  # variant, path in the cache

    def __init__(self, path: str, variant: str) -> None:
        super().__init__(f"Importing weights for EfficientNet-{variant.upper()}")
        self.path = path
        self.variant = variant

    def work(self) -> None:
        from model.nets.weights import import_weights_file

        target = import_weights_file(self.path, self.variant)
        self.imported.emit(self.variant, str(target))


class MeasureWorker(GeneratorWorker):
    """Times each variant on the device (model.inference.benchmark), one Measurement at a time."""

    measured = Signal(object)  # model.inference.benchmark.Measurement

    def __init__(
        self, variants: list[str], device: str, batch_size: int = 1, repeats: int = 5, image_size: int | None = None
    ) -> None:
        super().__init__("Measuring speed")
        self.variants = list(variants)
        self.device = device
        self.batch_size = batch_size
        self.repeats = repeats
        self.image_size = image_size  # None: each variant at its native resolution

    def events(self):
        from model.inference.benchmark import measure_variants

        return measure_variants(
            self.variants, self.device, cancel=self._stop, batch_size=self.batch_size, repeats=self.repeats,
            image_size=self.image_size,
        )

    def routes(self) -> dict[type, object]:
        from model.inference.benchmark import Measurement

        return {Measurement: self.measured}
