"""Background work: QObject workers on QThreads, and the pool that owns them.

This is the only threading code of the app. Each worker wraps one backend call
or generator. It runs in its own QThread, emits one signal per kind of result
(named in the past tense), and checks a ``threading.Event`` between steps, so a
stop request works even while the worker is busy (a queued stop *signal* would
wait behind the running slot). Errors become ``failed(one sentence)``; they are
never raised into Qt. The UI thread only ever receives signals.

Imports of torch and of the heavy backend modules happen inside ``work()``, in
the worker thread, so the window is on screen before torch loads.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import replace

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage

from app.state import ActiveModel, BackendInfo, ModelChoice, VariantFacts
from model.core.errors import StudioError
from model.core.events import Progress

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 80  # pixels; the results list draws them at this size
PROGRESS_INTERVAL_S = 0.1  # at most ~10 progress signals per second


class Worker(QObject):
    """Base of every worker: ``progressed(Progress)``, ``failed(str)``, ``finished()``."""

    progressed = Signal(object)  # model.core.events.Progress
    failed = Signal(str)
    finished = Signal()
    ended = Signal(object)  # self, right after finished: how the pool learns that the thread may go

    # Work the user would miss if quitting stopped it: closing the window asks first
    # ("<quit_name> is running. Stop it and quit? <quit_note>"). None: stopped without asking.
    quit_name: str | None = None
    quit_note = ""

    def __init__(self, description: str) -> None:
        super().__init__()
        self.description = description
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask the work to end at its next step. Safe to call from any thread."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @Slot()
    def run(self) -> None:
        try:
            self.work()
        except StudioError as e:
            if not self.stop_requested:  # a cancelled job reports nothing more
                self.failed.emit(e.for_place("app"))  # the advice names buttons, not command-line flags
        except MemoryError:
            self.failed.emit("The computer ran out of memory; try a smaller variant or fewer images at once.")
        except Exception as e:  # a bug must not kill the thread silently or show a traceback to the user
            log.exception("%s failed", self.description)
            self.failed.emit(f"{self.description} failed unexpectedly ({type(e).__name__}: {e}).")
        finally:
            self.finished.emit()
            self.ended.emit(self)

    def work(self) -> None:
        raise NotImplementedError


class WorkerPool(QObject):
    """Starts workers on their own QThreads, knows what is running, and stops it all on exit."""

    busy_changed = Signal(str)  # what is running ("" when idle)
    all_finished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[Worker, QThread] = {}

    def start(self, worker: Worker) -> Worker:
        """Run ``worker`` on a new thread. Connect to its signals before calling this."""
        thread = QThread()
        thread.setObjectName(worker.description)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit() is thread-safe, and a queued call could not arrive while
        # the UI thread waits for the thread in wait_all().
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        # The worker names itself in ``ended``, so the pool needs no sender() lookup.
        worker.ended.connect(self._on_worker_ended)
        self._running[worker] = thread
        thread.start()
        self.busy_changed.emit(self.busy_text())
        return worker

    @property
    def idle(self) -> bool:
        return not self._running

    def busy_text(self) -> str:
        return " · ".join(w.description for w in self._running)

    def workers(self) -> list[Worker]:
        return list(self._running)

    def stop_all(self) -> None:
        """Ask every worker to stop; they finish at their next step."""
        for worker in self._running:
            worker.stop()

    def wait_all(self) -> None:
        """Block until every thread has ended (used only when the app is quitting)."""
        self.stop_all()
        for thread in list(self._running.values()):
            thread.wait()
        self._running.clear()

    @Slot(object)
    def _on_worker_ended(self, worker: Worker) -> None:
        thread = self._running.pop(worker, None)
        if thread is None:
            return
        thread.wait()  # run() has returned and quit() was called: the thread ends at once
        self.busy_changed.emit(self.busy_text())
        if not self._running:
            self.all_finished.emit()


class BackendLoader(Worker):
    """Imports torch and the backend, picks the device and reads every variant's facts."""

    loaded = Signal(object)  # BackendInfo

    def __init__(self, device: str = "auto") -> None:
        super().__init__("Loading the backend")
        self.device = device

    def work(self) -> None:
        from model.nets.device import available_devices, describe_device, resolve_device
        from model.core.errors import DeviceError
        from model.inference.predict import Predictor  # noqa: F401 (imported here so the first load is fast)
        from model.core.variants import VARIANTS
        from model.nets.weights import is_imagenet_cached

        note = ""
        try:
            device = resolve_device(self.device)
        except DeviceError as e:
            note = f"{e} Using the best available device instead."
            device = resolve_device("auto")
        facts = tuple(
            VariantFacts(
                name=v.name,
                resolution=v.resolution,
                params=v.params,
                gflops=v.gflops,
                top1=v.top1,
                download_mb=float(v.weights_enum.meta.get("_file_size", 0.0)) or None,
                cached=is_imagenet_cached(v.name),
            )
            for v in VARIANTS.values()
        )
        info = BackendInfo(str(device), describe_device(device), tuple(available_devices()), facts, note)
        self.loaded.emit(info)


class PredictorLoader(Worker):
    """Builds the Predictor for a choice; ImageNet weights that are not on disk mean random weights."""

    loaded = Signal(object, object)  # Predictor, ActiveModel

    def __init__(self, choice: ModelChoice, device: str, notes: tuple[str, ...] = ()) -> None:
        what = "fine-tuned model" if choice.bundle else f"EfficientNet-{choice.variant.upper()}"
        super().__init__(f"Loading {what}")
        self.choice = choice
        self.device = device
        self.notes = notes

    def work(self) -> None:
        from app.predictor_loading import load_predictor
        from model.nets.device import describe_device
        from model.nets.weights import is_imagenet_cached

        choice = self.choice
        missing = not choice.bundle and choice.weights == "imagenet" and not is_imagenet_cached(choice.variant)
        # Never download behind the user's back: random weights now, the banner offers the rest.
        wanted = replace(choice, weights="random") if missing else choice
        predictor = load_predictor(wanted, self.device, self._stop)
        if predictor is None:  # stopped while loading
            return
        classifier = predictor.classifier
        active = ActiveModel(
            choice=choice,
            variant=classifier.variant.name,
            source=classifier.source,
            class_count=len(predictor.class_names),
            device=str(predictor.device),
            device_name=describe_device(predictor.device),
            imagenet_missing=missing,
            notes=self.notes,
        )
        self.loaded.emit(predictor, active)


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
        last = 0.0
        stream = self.predictor.predict_iter(files, top_k=self.top_k, cancel=self._stop, fast_decode=self.fast_decode)
        for index, prediction in enumerate(stream):
            self.prediction_ready.emit(index, prediction)
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL_S or index + 1 == total:
                last = now
                self.progressed.emit(Progress(index + 1, total, "Classifying"))
            if self.stop_requested:
                return


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


class DownloadWorker(Worker):
    """Downloads a variant's ImageNet weights into torch's cache, with progress and cancel."""

    quit_name = "Downloading the weights"
    quit_note = "The download can be started again from the Models page."

    downloaded = Signal(str, str)  # variant, path

    def __init__(self, variant: str) -> None:
        super().__init__(f"Downloading EfficientNet-{variant.upper()} weights")
        self.variant = variant
        self._last = 0.0

    def work(self) -> None:
        from model.nets.weights import download_imagenet

        path = download_imagenet(self.variant, progress=self._on_bytes, cancel=self._stop)
        if not self.stop_requested:
            self.downloaded.emit(self.variant, str(path))

    def _on_bytes(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL_S or (total and done >= total):
            self._last = now
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


class MeasureWorker(Worker):
    """Times each variant on the device (model.inference.benchmark), one Measurement at a time."""

    quit_name = "Measuring speed"
    quit_note = ""

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

    def work(self) -> None:
        from model.inference.benchmark import Measurement, measure_variants

        events = measure_variants(
            self.variants, self.device, cancel=self._stop, batch_size=self.batch_size, repeats=self.repeats,
            image_size=self.image_size,
        )
        for event in events:
            if isinstance(event, Measurement):
                self.measured.emit(event)
            else:
                self.progressed.emit(event)


class OnlineProbe(Worker):
    """Checks whether the weights server can be reached, so the UI offers downloads only then."""

    probed = Signal(bool)

    def __init__(self, host: str = "download.pytorch.org", port: int = 443, timeout: float = 3.0) -> None:
        super().__init__("Checking the internet connection")
        self.address = (host, port)
        self.timeout = timeout

    def work(self) -> None:
        try:
            with socket.create_connection(self.address, timeout=self.timeout):
                online = True
        except OSError:
            online = False
        self.probed.emit(online)
