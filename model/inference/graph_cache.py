"""The folder of exported ONNX graphs: kept within a size bound, least recently used first out.

Every fine-tune, variant and input size gets its own graph (B7: 260 MB), so
without a bound the cache only grows. A graph is touched whenever it is used;
after each new export the oldest graphs are removed until the folder fits
``MAX_CACHE_BYTES`` again. The graph just used is never removed, even when it
alone is larger than the bound.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

MAX_CACHE_BYTES = 1 << 30


def touch(path: Path) -> None:
    """Mark ``path`` as just used (its mtime is the LRU clock)."""
    try:
        os.utime(path, None)
    except OSError:
        pass  # a read-only cache still works, it just cannot keep order


def prune(folder: Path, keep: Path, limit: int | None = None) -> list[Path]:
    """Remove the least recently used graphs in ``folder`` beyond ``limit`` bytes
    (default ``MAX_CACHE_BYTES``); returns what went."""
    limit = MAX_CACHE_BYTES if limit is None else limit
    graphs = []
    for p in folder.glob("*.onnx"):
        try:
            st = p.stat()
        except OSError:
            continue  # removed by another process meanwhile
        graphs.append((st.st_mtime, st.st_size, p))
    total = sum(size for _, size, _ in graphs)
    removed = []
    for _, size, p in sorted(graphs):
        if total <= limit:
            break
        if p == keep:
            continue
        try:
            p.unlink()
        except OSError:
            continue
        total -= size
        removed.append(p)
    if removed:
        log.info("graph cache over %d MB: removed %d least recently used graph(s)", limit >> 20, len(removed))
    return removed

