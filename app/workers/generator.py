"""The generic worker: iterates any backend generator and turns its events into signals.

Long work in the backend is a generator of events (frozen dataclasses); every
``yield`` is a report and a place where the work can pause or stop. This worker
runs the generator in its thread and emits, per event:

* the signal ``routes()`` names for the event's type (``TrainWorker`` maps each
  engine event to its own signal), else
* ``progressed`` for a ``Progress`` (at most about ten a second, and at once after
  any other event), else
* ``yielded(event)``.

Stopping: when the backend takes a control object (``TrainControl``), stop and
pause go through it and the generator ends itself (a training run still saves
its checkpoint and reports ``Finished``); otherwise the worker stops iterating
at the next yield and closes the generator; of what it yielded after the stop
request only that last progress report reaches the UI, never a result.
"""

from __future__ import annotations

from typing import Callable, Iterable

from PySide6.QtCore import Signal

from app.workers.base import ProgressThrottle, Worker
from model.core.events import Progress


class GeneratorWorker(Worker):
    """Runs ``events()`` (or the ``make_events`` given) in the worker thread, one signal per event."""

    yielded = Signal(object)  # any event that has no signal of its own

    def __init__(self, description: str, make_events: Callable[[], Iterable] | None = None, control=None) -> None:
        """``make_events``: called in the worker thread (so it may import torch) to make the generator.
        ``control``: the object the generator was given to be paused and stopped through, if any."""
        super().__init__(description, control)
        self._make_events = make_events
        self._throttle = ProgressThrottle()

    def events(self) -> Iterable:
        """The backend generator to iterate; subclasses override this or pass ``make_events``."""
        if self._make_events is None:
            raise NotImplementedError
        return self._make_events()

    def routes(self) -> dict[type, object]:
        """Event type → the signal that carries it; subclasses name their own."""
        return {}

    def work(self) -> None:
        routes = self.routes()
        stream = iter(self.events())
        try:
            for event in stream:
                if self.stop_requested and self.control is None:
                    if isinstance(event, Progress):  # where the work stopped is still worth showing
                        self.deliver(event, routes)
                    return
                self.deliver(event, routes)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # a generator left early runs its clean-up now, in this thread

    def deliver(self, event, routes: dict[type, object]) -> None:
        """Emit ``event`` on its signal."""
        if isinstance(event, Progress) and type(event) not in routes:
            if self._throttle.ready(event.done, event.total):
                self.progressed.emit(event)
            return
        # Progress after a result starts a new stretch of work: report it at once.
        self._throttle.reset()
        routes.get(type(event), self.yielded).emit(event)

