"""Writing files so that a crash mid-write never leaves a broken one.

Every file the backend writes for the user (bundles, checkpoints, metrics,
evaluations, exports) goes to a temporary file in the same folder, is flushed
and fsynced, and only then renamed over the destination: readers see the old
file or the new one, never half of one.

The temporary file gets the permissions an ordinary ``open()`` would give
(0666 less the umask), not mkstemp's private 0600, so a run folder shared with
a group stays readable by it. A write that fails (disk full, read-only file
system, permission) becomes a ``WriteError`` naming the file and the cause.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Callable

from model.core.faults import WriteError, is_write_failure


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere the only way to read it is to set it (and put it back at once)
    os.umask(mask)
    return mask


def temp_file_next_to(path: Path) -> tuple[int, Path]:
    """(open fd, path) of a new hidden temporary file beside ``path``, with umask permissions."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise WriteError(path, e) from None
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    except (OSError, AttributeError):  # no fchmod (Windows): the default is fine there
        pass
    return fd, Path(tmp)


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], binary: bool = True) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``."""
    path = Path(path)
    fd, tmp = temp_file_next_to(path)
    try:
        mode = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, **mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if is_write_failure(e):
            raise WriteError(path, e) from None
        raise
    return path
