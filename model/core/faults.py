"""Faults of the machine (disk, permissions, memory) as one sentence a user can act on.

The operating system reports a full disk, a read-only file system or a missing
permission as an ``OSError`` with an errno, and torch reports a failed save as a
``RuntimeError`` from its zip writer. ``describe_os_error`` turns the errno into
words, ``WriteError`` names the file that could not be written, and
``describe_fault`` is what the CLI prints for any of them instead of a traceback.
"""

from __future__ import annotations

import errno
import os

from model.core.errors import StudioError

# errno → what happened, in words a user understands.
_REASONS: dict[int, str] = {
    errno.ENOSPC: "no space left on the disk",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOTDIR: "part of the path is a file, not a folder",
    errno.EEXIST: "it already exists",
    errno.EISDIR: "it is a folder",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "input/output error (a failing disk or a disconnected drive)",
    errno.EMFILE: "too many open files",
    errno.ENOMEM: "out of memory",
}
if hasattr(errno, "EDQUOT"):
    _REASONS[errno.EDQUOT] = "disk quota exceeded"

# What a user can do about each, when writing.
_WRITE_ADVICE: dict[int, str] = {
    errno.ENOSPC: "free some space or choose another folder",
    errno.EACCES: "choose a folder you may write to",
    errno.EPERM: "choose a folder you may write to",
    errno.EROFS: "choose a folder on a writable disk",
    errno.ENOTDIR: "choose a folder path",
    errno.EEXIST: "choose another name",
    errno.EISDIR: "choose a file name, not a folder",
}

# Fragments of the messages torch's zip writer raises when the underlying write fails.
_TORCH_WRITE_FAILURES = ("PytorchStreamWriter", "file write failed", "failed writing", "unexpected pos")


def describe_os_error(e: OSError) -> str:
    """The cause of ``e`` in words: "no space left on the disk", "permission denied", …"""
    if e.errno in _REASONS:
        return _REASONS[e.errno]
    return (e.strerror or str(e) or type(e).__name__).rstrip(".").lower()


def is_write_failure(e: BaseException) -> bool:
    """True for an OSError, or torch's RuntimeError around a failed write."""
    if isinstance(e, OSError):
        return True
    return isinstance(e, RuntimeError) and any(s in str(e) for s in _TORCH_WRITE_FAILURES)


def is_machine_fault(e: BaseException) -> bool:
    """A failed write or running out of (GPU) memory: the machine's doing, not a bug of ours."""
    return isinstance(e, MemoryError) or is_write_failure(e) or type(e).__name__ == "OutOfMemoryError"


def _errno_of(e: BaseException) -> int | None:
    if isinstance(e, OSError):
        return e.errno
    text = str(e).lower()
    if "no space" in text or "file write failed" in text or "unexpected pos" in text:
        return errno.ENOSPC  # torch hides the errno; a short write is almost always a full disk
    return None


class WriteError(StudioError, OSError):
    """A file could not be written: names the file and the cause.

    It is also an ``OSError`` (with the cause's errno), so code that already
    handles a failed write keeps working.
    """

    def __init__(self, path: object, cause: BaseException) -> None:
        self.path = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
        code = _errno_of(cause)
        reason = describe_os_error(cause) if isinstance(cause, OSError) else _REASONS.get(code or -1, "the write failed")
        advice = _WRITE_ADVICE.get(code or -1, "check the disk and try again")
        self.message = f"Cannot write {self.path}: {reason}; {advice}."
        super().__init__(self.message)
        self.errno = code
        self.strerror = self.reason = reason  # for handlers that word an OSError by its strerror
        self.filename = self.path

    def __str__(self) -> str:  # OSError's own would be "[Errno 28] …: 'path'"
        return self.message


def describe_fault(e: BaseException) -> str:
    """One sentence for an OSError, MemoryError or failed write that reached the top of a command."""
    if isinstance(e, StudioError):
        return str(e)
    if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError":
        return "Ran out of memory; close other programs, or use a smaller batch size, image size or variant."
    if isinstance(e, OSError):
        name = e.filename if e.filename is not None else None
        where = f"{os.fsdecode(name) if isinstance(name, bytes) else name}: " if name is not None else ""
        what = describe_os_error(e)
        advice = _WRITE_ADVICE.get(e.errno or -1)
        return f"{where}{what}" + (f"; {advice}." if advice else ".")
    if is_write_failure(e):
        return f"A file could not be written ({WriteError('the output', e).reason}); check the disk and try again."
    return f"{type(e).__name__}: {e}"
