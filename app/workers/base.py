"""The base of every worker: a QObject that runs one piece of work on its own QThread.

It emits ``started``, ``progressed(Progress)``, ``failed(one sentence)``,
``aborted`` and ``finished`` (always, last), and checks a ``threading.Event``
between steps, so a stop request works even while the worker is busy (a queued
stop *signal* would wait behind the running slot). When the work takes a
control object from the backend (``TrainControl``), ``stop``, ``pause`` and
``resume`` are passed on to it. Errors become ``failed``; they are never raised
into Qt.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from model.core.errors import StudioError

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1  # at most ~10 progress signals per second


class ProgressThrottle:
    """Says when a progress report is worth sending: the first, the last, and then at most ~10 a second."""

    def __init__(self, interval_s: float = PROGRESS_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._last = None

    def ready(self, done: int, total: int | None) -> bool:
        now = time.monotonic()
        if self._last is None or (total and done >= total) or now - self._last >= self.interval_s:
            self._last = now
            return True
        return False

    def reset(self) -> None:
        """Let the next report through (say, the first one after a result)."""
        self._last = None


class Worker(QObject):
    """Base of every worker; subclasses implement ``work()`` and emit their own result signals."""

    started = Signal()
    progressed = Signal(object)  # model.core.events.Progress
    failed = Signal(str)
    aborted = Signal()  # the work ended early because stop() was called
    finished = Signal()
    ended = Signal(object)  # self, right after finished: how the pool learns that the thread may go

    def __init__(self, description: str, control=None) -> None:
        """``control``: the backend's control object for this work (with ``stop()`` and, when the work
        can pause, ``pause()``/``resume()``), or None when the stop flag is all the work needs."""
        super().__init__()
        self.description = description
        self.control = control
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask the work to end at its next step. Safe to call from any thread."""
        self._stop.set()
        if self.control is not None:
            self.control.stop()

    def pause(self) -> None:
        """Hold the work at its next step (only work with a pausable control can). Any thread."""
        if self.control is not None and hasattr(self.control, "pause"):
            self.control.pause()

    def resume(self) -> None:
        """Let paused work go on. Any thread."""
        if self.control is not None and hasattr(self.control, "resume"):
            self.control.resume()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @Slot()
    def run(self) -> None:
        self.started.emit()
        try:
            self.work()
        except StudioError as e:
            if not self.stop_requested:  # a cancelled job reports nothing more
                self.failed.emit(str(e))
        except MemoryError:
            self.failed.emit("The computer ran out of memory; try a smaller variant or fewer images at once.")
        except Exception as e:  # a bug must not kill the thread silently or show a traceback to the user
            log.exception("%s failed", self.description)
            self.failed.emit(f"{self.description} failed unexpectedly ({type(e).__name__}: {e}).")
        finally:
            if self.stop_requested:
                self.aborted.emit()
            self.finished.emit()
            self.ended.emit(self)

    def work(self) -> None:
        raise NotImplementedError
