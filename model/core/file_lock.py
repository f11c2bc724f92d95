"""Exclusive OS locks on files: who holds a run folder, and whether a temporary is still being written.

The lock is the kernel's (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on
Windows), taken on an open file descriptor, so it goes away with the process
however that process ends: a crash or ``kill -9`` never leaves a stale lock
behind, which a lock *file* alone (checked by its existence) would.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

WINDOWS_LOCK_OFFSET = 1 << 20
# What a non-blocking lock attempt fails with when another holder has the lock.
HELD = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)}


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open ``fd`` without waiting; False when another holder has it.

    On a file system without locks (some network mounts) it is True: nothing can be checked there,
    and refusing every run would be worse than the race the lock guards against."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            # A byte far past the pid, so that others can still read the pid while it is locked;
            # the file position is put back for the writes that follow.
            where = os.lseek(fd, 0, os.SEEK_CUR)
            os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            finally:
                os.lseek(fd, where, os.SEEK_SET)
    except OSError as e:
        return e.errno not in HELD
    return True


def is_locked_by_another(path: Path) -> bool:
    """Whether some open file description other than ours holds ``path``'s lock (False if it is gone)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        return not try_lock(fd)  # closing the fd drops the lock we may just have taken
    finally:
        os.close(fd)


def lock_holder(folder: Path) -> int | None:
    """Who holds ``folder``'s ``FolderLock`` now: its pid (0 when it has not written it yet), or None when no
    one does. It takes no lock and creates nothing, so it can ask about a folder it must not touch."""
    lock_file = Path(folder) / FolderLock.NAME
    if not is_locked_by_another(lock_file):
        return None
    try:
        pid = lock_file.read_text(encoding="ascii", errors="replace").split()[0]
    except (OSError, IndexError):
        return 0
    return int(pid) if pid.isdigit() else 0


class FolderLock:
    """An exclusive lock on ``folder/.lock`` holding the owner's pid, for as long as the object is open.

    ``acquire()`` returns None when it got the lock, or the pid written by the
    process that holds it (0 when that process has not written it yet).
    """

    NAME = ".lock"

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / self.NAME
        self.fd: int | None = None

    def acquire(self) -> int | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            if not try_lock(fd):
                return self._holder(fd)
            if self._still_named(fd):
                break
            os.close(fd)  # the holder removed the file as we opened it: lock the new one instead
        # The pid goes after the lock, so whoever reads a pid reads the holder's.
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return None

    def _still_named(self, fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except OSError:
            return False

    @staticmethod
    def _holder(fd: int) -> int:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            text = os.read(fd, 32).split()
        finally:
            os.close(fd)
        try:
            return int(text[0]) if text else 0
        except ValueError:
            return 0

    def release(self) -> None:
        """Let go and remove the file (a process that opened it meanwhile sees that and opens a new one)."""
        if self.fd is None:
            return
        if fcntl is not None:  # Windows cannot remove a file that is open; it stays there, unlocked
            try:
                self.path.unlink()
            except OSError:
                pass
        os.close(self.fd)
        self.fd = None


__all__ = ["FolderLock", "is_locked_by_another", "lock_holder", "try_lock"]
