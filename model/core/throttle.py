"""``Throttle``: at most one progress update per interval, however often the work reports.

Backend loops and GUI workers report progress per file, per batch or per byte;
the UI only needs about ten updates a second (more would flood the event queue).
Every such loop asks one ``Throttle`` whether to report now; the first report and
the last one (``done >= total``) always go through.
"""

from __future__ import annotations

import time
from typing import Callable

UI_INTERVAL_S = 0.1  # about ten updates a second: smooth to the eye, cheap for the event queue


class Throttle:
    """Says when a progress report is worth sending: the first, the last, and then one per ``interval_s``."""

    def __init__(self, interval_s: float = UI_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._last: float | None = None

    def ready(self, done: int = 0, total: int | None = None) -> bool:
        """True (and the interval restarts) for the first report, the last (``done >= total``), or once
        ``interval_s`` has passed since the last one let through."""
        now = self._clock()
        if self._last is None or (total and done >= total) or now - self._last >= self.interval_s:
            self._last = now
            return True
        return False

    def reset(self) -> None:
        """Let the next report through (say, the first one after a result)."""
        self._last = None


__all__ = ["Throttle", "UI_INTERVAL_S"]
