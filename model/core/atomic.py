"""Writing files so that a crash mid-write never leaves a broken one.

Every file the backend writes for the user (bundles, checkpoints, metrics,
evaluations, exports) goes to a temporary file in the same folder, is flushed
and fsynced, and only then renamed over the destination: readers see the old
file or the new one, never half of one.

The temporary file gets the permissions an ordinary ``open()`` would give
(0666 less the umask), not mkstemp's private 0600, so a run folder shared with
a group stays readable by it. A write that fails (disk full, read-only file
system, permission) becomes a ``WriteError`` naming the file and the cause.

A process killed mid-write leaves its temporary behind (``.last.pt.<pid>-<random>.tmp``,
as large as the checkpoint). The next write of the same target removes such
leftovers first, but never one a live process may still be writing: the name
carries the writer's pid, and the writer holds an OS lock on the file while
it writes (``model.core.file_lock``).
"""

from __future__ import annotations

import glob
import os
import tempfile
import time
from pathlib import Path
from typing import IO, Callable

from model.core.faults import WriteError, is_write_failure
from model.core.file_lock import is_locked_by_another, try_lock
from model.core.interrupts import uninterruptible

# A temporary whose name carries no pid (written by an older version) is stale after this long.
UNNAMED_TEMP_STALE_SECONDS = 600


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


def _process_alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill would end it there; Windows temporaries are left to the age rule
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def _is_stale(tmp: Path, target: Path) -> bool:
    middle = tmp.name[len(target.name) + 2 : -len(".tmp")]
    pid_text = middle.split("-", 1)[0]
    try:
        if pid_text.isdigit() and "-" in middle:
            if _process_alive(int(pid_text)):
                return False
        elif time.time() - tmp.stat().st_mtime < UNNAMED_TEMP_STALE_SECONDS:
            return False
    except OSError:
        return False  # gone already
    return not is_locked_by_another(tmp)


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove what killed writes of ``target`` left behind (never a live writer's file); returns them."""
    removed = []
    try:
        candidates = list(target.parent.glob(f".{glob.escape(target.name)}.*.tmp"))
    except OSError:
        return removed
    for tmp in candidates:
        if _is_stale(tmp, target):
            try:
                tmp.unlink()
            except OSError:
                continue
            removed.append(tmp)
    return removed


def temp_file_next_to(path: Path) -> tuple[int, Path]:
    """(open fd, path) of a new hidden temporary file beside ``path``, with umask permissions.

    Stale temporaries of ``path`` are removed first; the new one is locked while ``fd`` is open."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise WriteError(path, e) from None
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    except (OSError, AttributeError):  # no fchmod (Windows): the default is fine there
        pass
    try_lock(fd)  # best effort: a file system without locks still has the pid in the name
    return fd, Path(tmp)


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], binary: bool = True) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``.

    A Ctrl-C that arrives meanwhile waits for the rename (``model.core.interrupts``)."""
    with uninterruptible():
        return _write_then_rename(Path(path), write, binary)


def _write_then_rename(path: Path, write: Callable[[IO], None], binary: bool) -> Path:
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
