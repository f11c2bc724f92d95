"""Writing files so that a crash mid-write never leaves a broken one.

Every file the backend writes for the user (bundles, checkpoints, metrics,
evaluations, exports, downloaded weights) goes to a temporary file in the same
folder, is flushed and fsynced, and only then renamed over the destination:
readers see the old file or the new one, never half of one. A failure, or a
cancel raised by the writer, removes the temporary file and leaves the
destination as it was.

``atomic_write`` hands the writer an open file; ``atomic_path`` hands it a path,
for writers that only take a file name (ONNX export, downloads with their own
streaming).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path next to ``path``: write it inside the block; on success it replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], binary: bool = True) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``."""
    path = Path(path)
    mode = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}
    with atomic_path(path) as tmp, open(tmp, **mode) as f:
        write(f)
    return path


def atomic_write_text(text: str, path: str | os.PathLike) -> Path:
    """Write a UTF-8 text file atomically."""
    return atomic_write(path, lambda f: f.write(text), binary=False)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # Windows fsyncs only a writable descriptor
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["atomic_path", "atomic_write", "atomic_write_text"]
