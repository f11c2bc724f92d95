"""Is an output folder usable? Checked before any slow work starts.

A read-only or impossible ``--out`` used to fail only after the first epoch of
training (or after every overlay had been computed). ``check_output_folder``
creates the folder, writes and removes a probe file in it and compares the free
space with what one save needs, so the user learns in a second, with one
sentence, that the folder will not do.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from model.core.errors import StudioError
from model.core.faults import describe_os_error


class OutputFolderError(StudioError):
    """An output folder cannot be created, written to, or has no room for what will be saved."""


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"


def check_output_folder(path: str | os.PathLike, needed_bytes: int = 0) -> Path:
    """Create ``path`` if needed and make sure a file of ``needed_bytes`` can be written in it.

    Returns the folder. Raises ``OutputFolderError`` naming the folder and the
    cause: it is a file, it cannot be created, it is not writable, or the disk
    has less free space than ``needed_bytes``.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(f"{folder} is a file, not a folder; choose a folder for the output.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputFolderError(f"Cannot create the output folder {folder}: {describe_os_error(e)}; choose another folder.") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=folder)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as e:
        raise OutputFolderError(f"Cannot write to the output folder {folder}: {describe_os_error(e)}; choose another folder.") from None
    if needed_bytes > 0:
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            return folder  # no way to ask (some network file systems): the write itself will tell
        if free < needed_bytes:
            raise OutputFolderError(
                f"Not enough free space in {folder}: {_mb(free)} free, one save needs about {_mb(needed_bytes)}; "
                "free some space or choose another folder."
            )
    return folder
