"""Fixtures for the GUI tests: isolated settings, a fake predictor, and a ready window."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QCoreApplication, QSettings

from app.platform.refcount_guard import protect_singletons
from model.core.errors import ImageError
from model.imaging.images import load_image
from model.core.variants import VARIANTS

COLOURS = ["red", "green", "blue"]

# PySide6 6.12.0 on Python < 3.12 drops references to None/True/False; without this a long
# test session aborts with "Fatal Python error: none_dealloc" (see app/refcount_guard.py).
protect_singletons()


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path):
    """Every test gets its own empty settings file under tmp_path; the user's are never touched."""
    folder = tmp_path / "settings"
    QCoreApplication.setOrganizationName("EfficientNet Studio Tests")
    QCoreApplication.setApplicationName("efficientnet-studio-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@dataclass(frozen=True)
class FakePrediction:
    """Same fields as model.inference.predict.Prediction."""

    path: str
    labels: list
    scores: list
    indices: list
    error: str | None
    seconds: float


class FakePredictor:
    """Stands in for model.inference.predict.Predictor in GUI tests: labels an image by its dominant colour.

    It decodes with the real ``load_image``, so bad files give the real one-sentence errors.
    ``delay`` slows each image down so that tests can cancel a batch half-way."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.device = "cpu"
        self.runtime_label = "fake runtime"  # what the status bar shows for a real Predictor's runtime
        self.class_names = COLOURS
        self.classifier = SimpleNamespace(variant=VARIANTS["b0"], source="fake weights", class_names=COLOURS)
        self.seen: list[str] = []
        self.started = threading.Event()

    def predict_iter(self, paths, top_k=5, batch_size=None, cancel=None, fast_decode=None):
        self.started.set()
        self.fast_decode = fast_decode
        for path in paths:
            if cancel is not None and cancel.is_set():
                return
            time.sleep(self.delay)
            self.seen.append(str(path))
            try:
                r, g, b = load_image(path).resize((1, 1)).getpixel((0, 0))
            except ImageError as e:
                yield FakePrediction(str(path), [], [], [], str(e), 0.0)
                continue
            total = float(r + g + b) or 1.0
            ranked = sorted(zip((r / total, g / total, b / total), range(3)), reverse=True)[:top_k]
            yield FakePrediction(
                str(path), [COLOURS[i] for _, i in ranked], [s for s, _ in ranked], [i for _, i in ranked], None, 0.004
            )


def fake_active_model(variant: str = "b0", missing: bool = False):
    from app.state import ActiveModel, ModelChoice

    return ActiveModel(
        choice=ModelChoice(variant=variant),
        variant=variant,
        source="random weights" if missing else "ImageNet weights",
        class_count=len(COLOURS),
        device="cpu",
        device_name="CPU · 2 cores",
        imagenet_missing=missing,
    )


def stop_background_work(win) -> None:
    """Stop and join the window's workers. pytest-qt closes and deletes the window after each
    test; a worker still running then would report to a deleted pool."""
    win.pool.wait_all()


@pytest.fixture
def window(qtbot):
    """The real main window with the backend not started (tests inject what they need)."""
    from app.main_window import MainWindow
    from app.settings import AppSettings

    win = MainWindow(AppSettings())
    qtbot.addWidget(win, before_close_func=stop_background_work)
    return win


@pytest.fixture
def attention_page(qtbot, window):
    """The Attention page, shown, with a real predictor (a calibrated random B0 at 64 px) as the active classifier."""
    from tests.app.attention_helpers import make_predictor

    window.session.use_predictor(make_predictor(), fake_active_model())
    window.show_page("attention")
    window.show()
    qtbot.waitExposed(window)
    return window.page("attention")


@pytest.fixture
def ready_window(window):
    """The window with a fake predictor as the active classifier."""
    predictor = FakePredictor()
    window.session.use_predictor(predictor, fake_active_model())
    window.fake_predictor = predictor
    return window


from PySide6.QtCore import QObject, Signal, Slot  # noqa: E402


class Relay(QObject):
    """Receives a worker's signals in the UI thread, queued exactly as the pages receive them,
    and re-emits them, so tests can ``waitSignals`` on what the UI really sees (and in what order)."""

    files_listed = Signal(list)
    prediction_ready = Signal(int, object)
    measured = Signal(object)
    progressed = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, worker) -> None:
        super().__init__()
        self.events: list[tuple] = []
        for name in ("files_listed", "prediction_ready", "measured", "progressed", "failed", "finished"):
            if hasattr(worker, name):
                getattr(worker, name).connect(getattr(self, f"_on_{name}"))

    @Slot(list)
    def _on_files_listed(self, files):
        self.events.append(("files_listed", files))
        self.files_listed.emit(files)

    @Slot(int, object)
    def _on_prediction_ready(self, index, prediction):
        self.events.append(("prediction_ready", index))
        self.prediction_ready.emit(index, prediction)

    @Slot(object)
    def _on_measured(self, measurement):
        self.events.append(("measured", measurement.variant))
        self.measured.emit(measurement)

    @Slot(object)
    def _on_progressed(self, progress):
        self.events.append(("progressed", progress.done))
        self.progressed.emit(progress)

    @Slot(str)
    def _on_failed(self, message):
        self.events.append(("failed", message))
        self.failed.emit(message)

    @Slot()
    def _on_finished(self):
        self.events.append(("finished",))
        self.finished.emit()
