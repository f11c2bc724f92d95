"""Head mode's feature cache: the frozen backbone's pooled features, computed once.

Training only a new classifier on a frozen backbone means every epoch would
push the same images through the same backbone. Computing the features once and
training the head on them makes every epoch after the first almost free (this is
how Create ML and Lobe fine-tune fast). The features live in memory, or in a
``.npy`` file under the run folder's ``cache/`` when they are large; a complete
file is reused when the run resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from model.training.checkpoint import atomic_write_text


class PooledBackbone(nn.Module):
    """Backbone → global average pool → flatten: what the classifier head sees."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.features = net.features
        self.avgpool = net.avgpool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.avgpool(self.features(x)), 1)


class FeatureStore:
    """Rows of float32 features for ``n`` samples, plus which rows are filled (failed decodes are not)."""

    def __init__(self, n: int, dim: int, path: Path | None = None) -> None:
        self.path = path
        if path is None:
            self.array = np.zeros((n, dim), dtype=np.float32)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
        self.valid = np.zeros(n, dtype=bool)

    @property
    def on_disk(self) -> bool:
        return self.path is not None

    def put(self, indices: Sequence[int], rows: torch.Tensor) -> None:
        idx = np.asarray(indices, dtype=np.int64)
        self.array[idx] = rows.numpy()
        self.valid[idx] = True

    def rows(self, indices: Sequence[int]) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(self.array[np.asarray(indices, dtype=np.int64)]))

    def finish(self) -> None:
        """Mark a disk store complete so a resumed run can reuse it."""
        if self.path is not None:
            self.array.flush()
            atomic_write_text(json.dumps({"valid": self.valid.tolist()}), self._marker(self.path))

    @staticmethod
    def _marker(path: Path) -> Path:
        return path.with_suffix(".json")

    @classmethod
    def reuse(cls, path: Path, n: int, dim: int) -> "FeatureStore | None":
        """A finished store at ``path`` with the expected shape, or None."""
        marker = cls._marker(path)
        if not (path.is_file() and marker.is_file()):
            return None
        try:
            array = np.load(path, mmap_mode="r")
            valid = np.asarray(json.loads(marker.read_text())["valid"], dtype=bool)
        except (OSError, ValueError, KeyError):
            return None
        if array.shape != (n, dim) or array.dtype != np.float32 or valid.shape != (n,):
            return None
        store = cls.__new__(cls)
        store.path, store.array, store.valid = path, array, valid
        return store


def cache_key(variant: str, weights: str, image_size: int, samples: Sequence[tuple[Path, int]]) -> str:
    """Names a feature file by everything that determines its content."""
    h = hashlib.sha256(f"{variant}|{weights}|{image_size}".encode())
    for p, y in samples:
        try:
            st = os.stat(p)
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            stamp = "missing"
        h.update(f"|{p}:{y}:{stamp}".encode("utf-8", "surrogateescape"))  # file names need not be UTF-8
    return h.hexdigest()[:16]


def open_store(n: int, dim: int, cache_dir: Path, key: str, where: str, budget: int) -> tuple[FeatureStore, bool]:
    """(store, already complete). ``where``: "memory", "disk" or "auto" (disk above ``budget`` bytes)."""
    on_disk = where == "disk" or (where == "auto" and n * dim * 4 > budget)
    if not on_disk:
        return FeatureStore(n, dim), False
    path = cache_dir / f"features-{key}.npy"
    found = FeatureStore.reuse(path, n, dim)
    if found is not None:
        return found, True
    return FeatureStore(n, dim, path), False
