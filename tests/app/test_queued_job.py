"""QueuedJob, the shape of the Attention page's jobs: one worker at a time, the newest request wins,
and a request that cannot start yet waits until ``start_pending``."""

from __future__ import annotations

import threading

from app.pages.attention.queued_job import QueuedJob
from app.workers import Worker, WorkerPool


class HoldingWorker(Worker):
    """Records its request, then waits until it is stopped or released."""

    def __init__(self, request, log: list, release: threading.Event) -> None:
        super().__init__(f"request {request}")
        self.request, self.log, self.release = request, log, release

    def work(self) -> None:
        self.log.append(self.request)
        while not (self.stop_requested or self.release.wait(0.01)):
            pass


class RecordingJob(QueuedJob):
    def __init__(self, pool: WorkerPool) -> None:
        super().__init__(pool)
        self.started: list = []
        self.stopped: list = []
        self.allowed = True
        self.release = threading.Event()

    def ready(self, request) -> bool:
        return self.allowed

    def make_worker(self, request) -> Worker:
        return HoldingWorker(request, self.started, self.release)

    def worker_ended(self, worker) -> None:
        if worker.stop_requested:
            self.stopped.append(worker.request)


def test_the_newest_request_wins_and_the_running_one_is_stopped(qtbot):
    pool = WorkerPool()
    job = RecordingJob(pool)
    job.queue("a")
    qtbot.waitUntil(lambda: job.started == ["a"])
    job.queue("b")  # stops a; b waits for a to end …
    job.queue("c")  # … and c replaces b
    job.release.set()
    qtbot.waitUntil(lambda: job.idle, timeout=5000)
    assert job.started == ["a", "c"] and job.stopped == ["a"]
    pool.wait_all()


def test_a_request_that_cannot_start_waits_for_start_pending(qtbot):
    pool = WorkerPool()
    job = RecordingJob(pool)
    job.allowed = False
    job.queue("a")
    assert job.worker is None and job.pending == "a" and not job.idle
    job.allowed = True
    job.release.set()
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.start_pending()
    assert job.started == ["a"] and job.stopped == [] and job.idle
    job.allowed = False
    job.queue("b")
    job.drop_pending()
    assert job.idle
    pool.wait_all()
