"""The generic worker: any backend generator becomes signals; stop and pause reach its control."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from app.workers import GeneratorWorker, ProgressThrottle, WorkerPool
from model.core.events import Progress


@dataclass(frozen=True)
class Result:
    value: int


class Recorder(QObject):
    """Records every signal of a GeneratorWorker in the UI thread, in order."""

    done = Signal()

    def __init__(self, worker: GeneratorWorker) -> None:
        super().__init__()
        self.events: list[tuple] = []
        worker.started.connect(self._on_started)
        worker.progressed.connect(self._on_progressed)
        worker.yielded.connect(self._on_yielded)
        worker.failed.connect(self._on_failed)
        worker.aborted.connect(self._on_aborted)
        worker.finished.connect(self._on_finished)

    @Slot()
    def _on_started(self):
        self.events.append(("started",))

    @Slot(object)
    def _on_progressed(self, p):
        self.events.append(("progressed", p.done))

    @Slot(object)
    def _on_yielded(self, event):
        self.events.append(("yielded", event))

    @Slot(str)
    def _on_failed(self, message):
        self.events.append(("failed", message))

    @Slot()
    def _on_aborted(self):
        self.events.append(("aborted",))

    @Slot()
    def _on_finished(self):
        self.events.append(("finished",))
        self.done.emit()


def run(qtbot, worker: GeneratorWorker) -> list[tuple]:
    pool = WorkerPool()
    recorder = Recorder(worker)
    with qtbot.waitSignal(recorder.done, timeout=10_000):
        pool.start(worker)
    qtbot.waitUntil(lambda: pool.idle)
    return recorder.events


def test_every_event_becomes_a_signal_in_order_with_progress_throttled(qtbot):
    def events():
        for i in range(1000):  # far more reports than anyone can read
            yield Progress(i + 1, 1000, "working")
        yield Result(1)
        yield Progress(0, 2, "next stretch")  # after a result: shown at once
        yield Result(2)

    got = run(qtbot, GeneratorWorker("Test work", events))
    assert got[0] == ("started",) and got[-1] == ("finished",)
    progress = [e[1] for e in got if e[0] == "progressed"]
    assert progress[0] == 1 and 1000 in progress and len(progress) < 100
    assert got[-4:] == [("yielded", Result(1)), ("progressed", 0), ("yielded", Result(2)), ("finished",)]
    assert not any(e[0] in ("failed", "aborted") for e in got)


def test_a_subclass_routes_event_kinds_to_their_own_signals(qtbot):
    class Counting(GeneratorWorker):
        counted = Signal(object)

        def events(self):
            yield Result(7)
            yield "something else"

        def routes(self):
            return {Result: self.counted}

    worker = Counting("Counting")
    routed = []
    worker.counted.connect(routed.append)
    got = run(qtbot, worker)
    assert routed == [Result(7)] and ("yielded", "something else") in got


def test_stop_closes_the_generator_and_drops_later_results(qtbot):
    closed = threading.Event()
    worker = None

    def events():
        try:
            yield Result(1)
            worker.stop()  # as if the user pressed Cancel right now
            yield Progress(1, 3, "working")
            yield Result(2)
        finally:
            closed.set()

    worker = GeneratorWorker("Stoppable", events)
    got = run(qtbot, worker)
    assert closed.is_set()
    assert [e for e in got if e[0] == "yielded"] == [("yielded", Result(1))]
    assert ("progressed", 1) in got  # where it stopped
    assert got[-2:] == [("aborted",), ("finished",)]


class FakeControl:
    """Like TrainControl: the generator decides when a stop ends it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.stopped = threading.Event()

    def pause(self):
        self.calls.append("pause")

    def resume(self):
        self.calls.append("resume")

    def stop(self):
        self.calls.append("stop")
        self.stopped.set()


def test_pause_resume_and_stop_go_through_the_backends_control(qtbot):
    control = FakeControl()
    worker = None

    def events():
        worker.pause()
        worker.resume()
        worker.stop()
        assert control.stopped.is_set()
        yield Result(1)  # with a control, the generator ends itself: its last events still arrive
        yield Result(2)

    worker = GeneratorWorker("Controlled", events, control=control)
    got = run(qtbot, worker)
    assert control.calls == ["pause", "resume", "stop"]
    assert [e[1] for e in got if e[0] == "yielded"] == [Result(1), Result(2)]
    assert got[-2:] == [("aborted",), ("finished",)]


def test_a_failing_generator_reports_one_sentence(qtbot):
    from model.core.errors import StudioError

    def events():
        yield Result(1)
        raise StudioError("The folder is empty; choose another.")

    got = run(qtbot, GeneratorWorker("Failing", events))
    assert got[-2:] == [("failed", "The folder is empty; choose another."), ("finished",)]


def test_the_throttle_lets_the_first_the_last_and_a_reset_through():
    throttle = ProgressThrottle(interval_s=3600)
    assert throttle.ready(1, 10)
    assert not throttle.ready(2, 10)
    assert throttle.ready(10, 10)
    throttle.reset()
    assert throttle.ready(3, 10)
