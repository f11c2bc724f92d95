"""``TrainControl``: pause, resume and stop a running training generator from another thread.

Plain ``threading`` and nothing else, so the UI thread can create it, hand it to the
worker and call ``pause``/``stop`` on it directly, without importing torch.
"""

from __future__ import annotations

import threading


class TrainControl:
    """Pause, resume and stop a running ``train`` generator from another thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused run so it can stop

    @property
    def paused(self) -> bool:
        return not self._running.is_set() and not self._stop.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self) -> None:
        while not self._running.wait(0.2):
            pass


__all__ = ["TrainControl"]
