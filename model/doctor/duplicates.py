"""Duplicates and near duplicates: equal file hashes, or features pointing the same way.

Exact copies share a SHA-256. Resized or re-encoded copies do not, but their
features are almost parallel: pairs whose cosine similarity passes a threshold,
and that are each among the other's few nearest neighbours (so one dense class
does not chain into a single group), are joined once a look at the pixels agrees
(``pixel_check``: a network trained on the data makes a class's features alike).
Groups are the connected pieces; a group with images in more than one split (train and val/test) is a
leak and is marked ``across_splits``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

SIMILARITY = 0.97  # cosine similarity of features above which two images count as near duplicates
NEIGHBOURS = 3  # a near-duplicate pair must be mutual nearest neighbours within this many
BLOCK = 2048  # rows of the similarity matrix computed at once (memory: BLOCK × n floats)


@dataclass
class DuplicateFinding:
    """Indices of one group of copies, its lowest linking similarity, and whether it spans splits."""

    members: list[int]
    similarity: float
    across_splits: bool


def normalised(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (centred first, so the shared mean does not make everything similar)."""
    x = np.asarray(features, dtype=np.float64)
    return normalised_rows(x - x.mean(axis=0, keepdims=True))


def normalised_rows(x: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (an all-zero row stays zero)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    # A floor relative to the typical norm, not an absolute epsilon: untrained networks give
    # features of magnitude 1e-14, which an absolute epsilon would flatten to nothing.
    floor = max(float(np.median(norms)) * 1e-6, np.finfo(np.float64).tiny)
    return (x / np.maximum(norms, floor)).astype(np.float32)


def nearest(unit: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices [n, k], cosine similarities [n, k]) of each row's k nearest other rows, best first."""
    n = len(unit)
    k = max(1, min(k, n - 1))
    idx = np.zeros((n, k), dtype=np.int64)
    sims = np.zeros((n, k), dtype=np.float32)
    for start in range(0, n, BLOCK):
        block = unit[start : start + BLOCK] @ unit.T
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -np.inf  # never one's own neighbour
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        part_sims = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-part_sims, axis=1)
        idx[start : start + BLOCK] = np.take_along_axis(part, order, axis=1)
        sims[start : start + BLOCK] = np.take_along_axis(part_sims, order, axis=1)
    return idx, sims


class _Groups:
    """Union-find that remembers the weakest link of each group."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.weakest: dict[int, float] = {}

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def join(self, a: int, b: int, similarity: float) -> None:
        ra, rb = self.find(a), self.find(b)
        low = min(similarity, self.weakest.pop(ra, 1.0), self.weakest.pop(rb, 1.0) if ra != rb else 1.0)
        self.parent[rb] = ra
        self.weakest[ra] = low


def find_duplicates(
    neighbours: tuple[np.ndarray, np.ndarray],
    hashes: Sequence[str],
    splits: Sequence[str],
    threshold: float = SIMILARITY,
    same_picture: Callable[[int, int], bool] | None = None,
) -> list[DuplicateFinding]:
    """Groups of copies, most similar first; ``neighbours`` from ``nearest``. ``same_picture(i, j)``, when
    given, must also agree before two images with different contents are joined (``pixel_check``)."""
    idx, sims = neighbours
    groups = _Groups(len(hashes))
    first_with: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if h in first_with:
            groups.join(first_with[h], i, 1.0)
        else:
            first_with[h] = i
    close = {(i, int(j)): float(s) for i in range(len(idx)) for j, s in zip(idx[i, :NEIGHBOURS], sims[i, :NEIGHBOURS]) if s >= threshold}
    for (i, j), s in close.items():
        if i < j and (j, i) in close and groups.find(i) != groups.find(j):
            if same_picture is None or same_picture(i, j):
                groups.join(i, j, s)
    members: dict[int, list[int]] = {}
    for i in range(len(hashes)):
        members.setdefault(groups.find(i), []).append(i)
    found = [
        DuplicateFinding(m, round(groups.weakest.get(root, 1.0), 4), len({splits[i] for i in m}) > 1)
        for root, m in members.items()
        if len(m) > 1
    ]
    return sorted(found, key=lambda d: (-d.similarity, d.members[0]))
