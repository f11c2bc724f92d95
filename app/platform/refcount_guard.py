"""A guard against PySide6 6.12.0 dropping references to None, True and False on Python < 3.12.

shiboken6/PySide6 6.12.0 hands None, True and False back to Python without
taking a reference: every Qt call that returns nothing (``label.setText``,
``painter.setPen``, ``index.data`` of an empty role) and every
``Signal.emit()`` leaves one reference fewer. On Python 3.12 and later these
objects are immortal (PEP 683), so nothing happens. On 3.10 and 3.11 the count
reaches zero after some thousands of calls and the interpreter aborts with
"Fatal Python error: none_dealloc" (or bool_dealloc): a few seconds of
scrolling results or a minute of training curves. PySide6 6.11 does not do
this; the real fix is to exclude 6.12.0 from the dependencies.

``protect_singletons`` checks whether the running PySide6 leaks and, only if it
does, gives the three objects a reference count so large that it cannot run
out — what Python 3.12 does for them anyway. They are static objects that are
never freed, so the larger count changes nothing else.
"""

from __future__ import annotations

import ctypes
import sys

BOOST = 1 << 40  # at a million leaked references per second, lasts for 12 days
_protected = False


def pyside_leaks_references() -> bool:
    """True when a Qt call that returns nothing costs None one reference."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.parent()  # returns None for a parentless object
    return sys.getrefcount(None) <= before - 32


def protect_singletons() -> bool:
    """Make None, True and False effectively immortal if this PySide6 needs it; True if it did."""
    global _protected
    if _protected:
        return True
    if sys.version_info >= (3, 12) or not pyside_leaks_references():
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object.
        ctypes.c_ssize_t.from_address(id(obj)).value += BOOST
    _protected = True
    return True
