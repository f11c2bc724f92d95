"""``Throttle``: at most one progress update per interval, however often the work reports.

Backend loops and GUI workers report progress per file, per batch or per byte;
the UI only needs about ten updates a second (more would flood the event queue).
Every such loop asks one ``Throttle`` whether to report now; the first update and
a forced one (typically the last: "done == total") always go through.
"""

from __future__ import annotations

import time
from typing import Callable

UI_INTERVAL_S = 0.1  # about ten updates a second: smooth to the eye, cheap for the event queue


class Throttle:
    """Says when the next update may go out: once per ``interval`` seconds."""

    def __init__(self, interval: float = UI_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last: float | None = None

    def ready(self, force: bool = False) -> bool:
        """True (and the clock restarts) for the first call, a forced one, or once ``interval`` has passed."""
        now = self._clock()
        if force or self._last is None or now - self._last >= self.interval:
            self._last = now
            return True
        return False


__all__ = ["Throttle", "UI_INTERVAL_S"]
