"""Writes that a second Ctrl-C must not cut in half.

A signal handler that raises ``KeyboardInterrupt`` while ``torch.save`` is
writing lands inside torch's zip writer, which turns it into a traceback and a
lost file. ``model.core.atomic`` marks every write with ``uninterruptible()``;
a handler calls ``interrupt()`` instead of raising, and the interrupt is raised
the moment the write (all nested writes) is complete.

Signal handlers run in the main thread, between Python bytecodes; the state here
is only touched from there and from the writes on that thread.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

_depth = 0  # writes in progress on the main thread
_pending: BaseException | None = None


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def uninterruptible() -> Iterator[None]:
    """Defer ``interrupt()`` until the block has finished (the block's own errors win)."""
    global _depth, _pending
    if not _on_main_thread():  # signals are not delivered to other threads
        yield
        return
    _depth += 1
    try:
        yield
    except BaseException:
        _depth -= 1
        if _depth == 0:
            _pending = None  # the write failed: its error ends the command, the interrupt adds nothing
        raise
    _depth -= 1
    if _depth == 0 and _pending is not None:
        pending, _pending = _pending, None
        raise pending


def interrupt(error: BaseException | None = None) -> None:
    """From a signal handler: raise ``error`` (default ``KeyboardInterrupt``) now, or when the write in
    progress is complete."""
    global _pending
    error = error if error is not None else KeyboardInterrupt()
    if _depth:
        _pending = error
        return
    raise error


def writing() -> bool:
    """Whether a write is in progress on the main thread."""
    return _depth > 0


__all__ = ["interrupt", "uninterruptible", "writing"]
