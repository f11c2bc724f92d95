"""Where and when Python's cyclic garbage collector runs while the app is open.

Left alone, the collector runs on whichever thread happens to allocate when
its counters fill up: often a worker decoding photos or training. Two things
go wrong then:

- A full collection walks every tracked object. torch, torchvision and ONNX
  Runtime alone create about 380,000, so it takes 120-140 ms, all of it
  holding the GIL: the window freezes for that long (measured: 180 ms gaps
  in the UI heartbeat while training after a model switch).
- Qt objects caught in a reference cycle are destroyed on that worker thread,
  which Qt forbids ("Timers cannot be stopped from another thread", then a
  crash).

So the app collects on the UI thread only, from a timer (pyqtgraph's
``GarbageCollector``, made for this). The timer looks ten times a second, so
what workers allocate in between stays a short walk. Once the backend is
imported, every object alive is frozen (``gc.freeze``): modules, classes and
functions that live as long as the process, which no collection then needs
to walk again. Collections then take 10-13 ms, a few up to 90 ms while a B7
is being built.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, Slot
from pyqtgraph.util.garbage_collector import GarbageCollector


class UiThreadGarbageCollection(QObject):
    """Collects garbage on the thread that creates it (the UI thread) and freezes the backend's imports.

    ``backend_loaded`` is the session's signal that torch and the backend are
    imported. ``stop`` gives collection back to Python, as it was.
    """

    def __init__(self, backend_loaded, interval_s: float = 0.1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._collector = GarbageCollector(interval=interval_s)  # disables automatic collection
        self._froze = False
        backend_loaded.connect(self._freeze_long_lived)

    @Slot(object)
    def _freeze_long_lived(self, _info=None) -> None:
        if not self._froze:
            self._froze = True
            # No collection first: it would walk all of them once more (0.2 s on
            # the UI thread), to free the little garbage the imports left.
            gc.freeze()

    def stop(self) -> None:
        """Stop the timer, unfreeze, and let Python collect on its own again (if it did before)."""
        self._collector.timer.stop()
        if self._froze:
            gc.unfreeze()
        if self._was_enabled:
            gc.enable()
