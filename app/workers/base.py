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

from PySide6.QtCore import QObject, Signal, Slot

from model.core.errors import StudioError
from model.core.throttle import Throttle

log = logging.getLogger(__name__)

# The core's throttle, at its default pace of about ten reports a second: the first and the last always pass.
ProgressThrottle = Throttle


class Worker(QObject):
    """Base of every worker; subclasses implement ``work()`` and emit their own result signals."""

    started = Signal()
    progressed = Signal(object)  # model.core.events.Progress
    failed = Signal(str)
    aborted = Signal()  # the work ended early because stop() was called
    finished = Signal()
    ended = Signal(object)  # self, right after finished: how the pool learns that the thread may go
    pause_changed = Signal(object)  # self, when pause()/resume() was called (from the UI thread)

    # Work the user would miss if quitting stopped it: closing the window asks first
    # ("<quit_name> is running. Stop it and quit? <quit_note>"). None: stopped without asking.
    quit_name: str | None = None
    quit_note = ""

    def __init__(self, description: str, control=None) -> None:
        """``control``: the backend's control object for this work (with ``stop()`` and, when the work
        can pause, ``pause()``/``resume()``), or None when the stop flag is all the work needs."""
        super().__init__()
        self.description = description
        self.control = control
        self._stop = threading.Event()
        self.paused = False  # held by pause(): the status bar says so instead of showing it busy

    def stop(self) -> None:
        """Ask the work to end at its next step. Safe to call from any thread."""
        self._stop.set()
        if self.control is not None:
            self.control.stop()

    def pause(self) -> None:
        """Hold the work at its next step (only work with a pausable control can). Any thread."""
        if self.control is not None and hasattr(self.control, "pause"):
            self.control.pause()
            self.paused = True
            self.pause_changed.emit(self)

    def resume(self) -> None:
        """Let paused work go on. Any thread."""
        if self.control is not None and hasattr(self.control, "resume"):
            self.control.resume()
            self.paused = False
            self.pause_changed.emit(self)

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
                self.failed.emit(e.for_place("app"))  # the advice names buttons, not command-line flags
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
