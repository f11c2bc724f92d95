"""Main window: pages, status bar, the worker pool, and a clean shutdown."""

from __future__ import annotations

import threading
import time


from app.main_window import PAGE_KEYS
from app.workers import Worker, WorkerPool
from model.core.errors import StudioError
from tests.app.conftest import Relay, fake_active_model


class SlowWorker(Worker):
    """Steps until asked to stop; records that it stopped cooperatively."""

    def __init__(self) -> None:
        super().__init__("Slow work")
        self.stopped_cleanly = False
        self.running = threading.Event()

    def work(self) -> None:
        self.running.set()
        while not self.stop_requested:
            time.sleep(0.01)
        self.stopped_cleanly = True


class FailingWorker(Worker):
    def __init__(self, error: Exception) -> None:
        super().__init__("Failing work")
        self.error = error

    def work(self) -> None:
        raise self.error


def test_pages_in_order_and_switching(window):
    assert PAGE_KEYS == ("classify", "models", "train", "doctor", "attention")
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == ["Classify", "Models", "Train", "Doctor", "Attention"]
    window.show_page("models")
    assert window.tabs.currentWidget() is window.page("models")
    assert window.settings.page == "models"
    assert window.has_page("train") and not window.has_page("nonexistent")


def test_the_first_page_can_be_chosen(qtbot):
    from app.main_window import MainWindow

    win = MainWindow(page="models")
    qtbot.addWidget(win)
    assert win.tabs.currentWidget() is win.page("models")


def test_status_bar_shows_model_device_and_busy_state(qtbot, window):
    assert window.busy_label.text() == "Ready"
    window.session.use_predictor(object(), fake_active_model("b2"))
    assert window.model_label.text() == "EfficientNet-B2 · ImageNet weights"
    assert window.device_label.text() == "Device: CPU · 2 cores"
    worker = SlowWorker()
    window.pool.start(worker)
    assert window.busy_label.text() == "Slow work…" and window.busy_bar.isVisibleTo(window)
    worker.stop()
    qtbot.waitUntil(lambda: window.busy_label.text() == "Ready", timeout=5000)


def test_a_studio_error_becomes_one_sentence_and_a_bug_does_not_escape(qtbot):
    pool = WorkerPool()
    clear = FailingWorker(StudioError("The file is broken; choose another."))
    relay = Relay(clear)
    with qtbot.waitSignals([relay.failed, relay.finished], order="strict"):
        pool.start(clear)
    assert relay.events == [("failed", "The file is broken; choose another."), ("finished",)]
    bug = FailingWorker(KeyError("oops"))
    relay = Relay(bug)
    with qtbot.waitSignal(relay.finished):
        pool.start(bug)
    assert relay.events[0][1].startswith("Failing work failed unexpectedly (KeyError")
    qtbot.waitUntil(lambda: pool.idle)


def test_a_cancelled_job_reports_no_error(qtbot):
    pool = WorkerPool()
    worker = FailingWorker(StudioError("Download cancelled."))
    worker.stop()
    relay = Relay(worker)
    with qtbot.waitSignal(relay.finished):
        pool.start(worker)
    qtbot.waitUntil(lambda: pool.idle)
    assert relay.events == [("finished",)]


def test_closing_the_window_stops_workers_and_waits_for_them(qtbot, window):
    window.show()
    worker = SlowWorker()
    window.pool.start(worker)
    assert worker.running.wait(5)
    with qtbot.waitSignal(window.pool.all_finished, timeout=5000):
        assert not window.close()  # refused for now: work is still stopping
        assert not window.isVisible()
    assert worker.stopped_cleanly
    qtbot.waitUntil(lambda: window.pool.idle, timeout=5000)
    # Once idle, the window closes for real (it was asked to).
    qtbot.waitUntil(lambda: window._close_when_idle and not window.isVisible())
    assert window.close()


def test_closing_saves_the_geometry(qtbot, window):
    window.show()
    window.resize(1000, 700)
    assert window.close()
    from app.settings import AppSettings

    assert AppSettings().geometry is not None


def test_wait_all_blocks_until_threads_end():
    pool = WorkerPool()
    worker = SlowWorker()
    pool.start(worker)
    assert worker.running.wait(5)
    pool.wait_all()
    assert worker.stopped_cleanly and pool.idle
