"""Outliers and imbalance: images unlike the rest, and classes much bigger than others.

An image is far from every class when the mean cosine distance to its nearest
neighbours is far above the data set's usual one (a robust z-score: median and
MAD). Size outliers are images whose pixel area or aspect ratio is far from the
data set's median: a thumbnail among photos, a panorama among squares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

K = 5  # neighbours whose mean distance measures how isolated an image is
Z_LIMIT = 4.0  # robust z-score beyond which an image is an outlier
DISTANCE_RATIO = 2.0  # and this many times the usual neighbour distance
AREA_RATIO = 4.0  # this many times smaller or larger than the median area
ASPECT_RATIO = 1.6  # this much wider or taller than the median shape
IMBALANCE_WARNING = 3.0  # largest / smallest class at or beyond this deserves a warning


@dataclass
class OutlierFinding:
    index: int
    score: float  # in [0, 1): 0.5 at the threshold, higher = stranger
    reason: str


def _robust_z(values: np.ndarray) -> np.ndarray:
    med = np.median(values)
    mad = np.median(np.abs(values - med)) * 1.4826
    return (values - med) / max(mad, 1e-6)


def find_outliers(neighbour_sims: np.ndarray, sizes: np.ndarray) -> list[OutlierFinding]:
    """Outliers by feature isolation and by pixel size/shape, strangest first.

    ``neighbour_sims``: [n, ≥K] cosine similarities to the nearest others, best first;
    ``sizes``: [n, 2] width and height in pixels.
    """
    found: dict[int, OutlierFinding] = {}
    if len(neighbour_sims) > K:
        distance = 1.0 - neighbour_sims[:, :K].mean(axis=1)
        z = _robust_z(distance)
        # Both far in robust terms and far in absolute ones: a tight data set has a tiny MAD.
        for i in np.flatnonzero((z > Z_LIMIT) & (distance > DISTANCE_RATIO * np.median(distance))):
            found[int(i)] = OutlierFinding(int(i), float(z[i] / (z[i] + Z_LIMIT)), f"far from every other image (distance {distance[i]:.3g}, usual {np.median(distance):.3g})")
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    if len(sizes) > 2:
        log_area = np.log(sizes[:, 0] * sizes[:, 1])
        log_aspect = np.log(sizes[:, 0] / sizes[:, 1])
        area_off = np.abs(log_area - np.median(log_area))
        aspect_off = np.abs(log_aspect - np.median(log_aspect))
        area_z, aspect_z = np.abs(_robust_z(log_area)), np.abs(_robust_z(log_aspect))
        w_med, h_med = np.median(sizes[:, 0]), np.median(sizes[:, 1])
        for i in range(len(sizes)):
            why = []
            if area_off[i] > np.log(AREA_RATIO) and area_z[i] > Z_LIMIT:
                why.append(f"size {sizes[i, 0]:.0f}×{sizes[i, 1]:.0f} px, most are about {w_med:.0f}×{h_med:.0f}")
            if aspect_off[i] > np.log(ASPECT_RATIO) and aspect_z[i] > Z_LIMIT:
                why.append(f"aspect ratio {sizes[i, 0] / sizes[i, 1]:.2f}, most are {w_med / h_med:.2f}")
            if why:
                off = max(area_off[i] / np.log(AREA_RATIO), aspect_off[i] / np.log(ASPECT_RATIO))
                score = float(off / (off + 1.0))
                prior = found.get(i)
                reason = "; ".join(([prior.reason] if prior else []) + why)
                found[i] = OutlierFinding(i, max(score, prior.score if prior else 0.0), reason)
    return sorted(found.values(), key=lambda o: -o.score)


@dataclass
class Imbalance:
    counts: dict[str, int]
    ratio: float | None  # largest / smallest; None when a class has no images
    warning: str | None

    def to_dict(self) -> dict:
        return {"counts": dict(self.counts), "ratio": self.ratio, "warning": self.warning}


def imbalance(class_names: Sequence[str], labels: np.ndarray) -> Imbalance:
    """Images per class, the largest/smallest ratio, and a warning when it is high."""
    counts = {name: int(n) for name, n in zip(class_names, np.bincount(labels, minlength=len(class_names)))}
    if not counts:
        return Imbalance({}, None, None)
    big, small = max(counts, key=counts.get), min(counts, key=counts.get)
    if counts[small] == 0:
        return Imbalance(counts, None, f"'{small}' has no images: add some, or remove the empty class folder.")
    ratio = round(counts[big] / counts[small], 2)
    warning = None
    if ratio >= IMBALANCE_WARNING:
        warning = (
            f"Classes are imbalanced: '{big}' has {counts[big]} images but '{small}' only {counts[small]} "
            f"({ratio:g}×); add images of the small classes or expect the model to favour '{big}'."
        )
    return Imbalance(counts, ratio, warning)
