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

    quit_name = "Downloading the weights"
    quit_note = "The download can be started again from the Models page."

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

    quit_name = "Importing weights"
    quit_note = "Nothing is imported; import the file again later."

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
    """Times every runtime and precision of each variant on the device and keeps the fastest that
    agrees with fp32 (model.inference.runtime_trials): ``tried`` per candidate, then per variant the
    chosen one's ``measured`` and the ``chosen`` verdict."""

    quit_name = "Measuring speed"
    quit_note = ""

    measured = Signal(object)  # model.inference.benchmark.Measurement (of the chosen runtime)
    tried = Signal(object)  # model.inference.runtime_trials.RuntimeTrial
    chosen = Signal(object)  # model.inference.runtime_trials.RuntimeVerdict

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
        from app.platform.resources import sample_photos
        from model.inference.runtime_trials import inputs_from_photos, measure_runtimes

        photos = sample_photos()
        return measure_runtimes(
            self.variants, self.device, lambda variant, size: inputs_from_photos(photos, variant, size),
            cancel=self._stop, batch_size=self.batch_size, repeats=self.repeats, image_size=self.image_size,
        )

    def routes(self) -> dict[type, object]:
        from model.inference.runtime_trials import RuntimeTrial, RuntimeVerdict

        return {RuntimeTrial: self.tried, RuntimeVerdict: self.chosen}

    def deliver(self, event, routes: dict[type, object]) -> None:
        if type(event).__name__ == "RuntimeVerdict":
            self.measured.emit(event.measurement)  # the table shows the speed of the runtime that will be used
        super().deliver(event, routes)
