"""The app's garbage collection: on the UI thread only, with the backend's imports frozen."""

import gc
import threading

import pytest
from PySide6.QtCore import QObject, Signal

from app.platform.gc_policy import UiThreadGarbageCollection


class FakeSession(QObject):
    backend_loaded = Signal(object)


class Cyclic:
    """Garbage only the cyclic collector can free; notes the thread that freed it."""

    freed_on: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        Cyclic.freed_on.append(threading.current_thread().name)


@pytest.fixture
def policy(qapp):
    gc.collect()
    session = FakeSession()
    policy = UiThreadGarbageCollection(session.backend_loaded, interval_s=0.02)
    yield policy, session
    policy.stop()


def test_python_no_longer_collects_on_its_own_and_gets_that_back_after_stop(policy):
    assert not gc.isenabled()
    policy[0].stop()
    assert gc.isenabled()


def test_garbage_made_on_a_worker_thread_is_collected_on_the_ui_thread(policy, qtbot):
    Cyclic.freed_on.clear()

    def make_garbage():
        for _ in range(3000):  # well past the collector's threshold: Python would collect right here
            Cyclic()

    worker = threading.Thread(target=make_garbage, name="worker")
    worker.start()
    worker.join()
    assert Cyclic.freed_on == []  # nothing was collected on the worker
    qtbot.waitUntil(lambda: len(Cyclic.freed_on) == 3000, timeout=5000)
    assert set(Cyclic.freed_on) == {threading.main_thread().name}


def test_the_backends_imports_are_frozen_once_it_is_loaded(policy):
    policy_object, session = policy
    assert gc.get_freeze_count() == 0
    session.backend_loaded.emit(object())
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # torch and the rest: these tests import them
    session.backend_loaded.emit(object())  # a second load freezes nothing more
    assert gc.get_freeze_count() == frozen
    policy_object.stop()
    assert gc.get_freeze_count() == 0
