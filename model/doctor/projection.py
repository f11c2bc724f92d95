"""Principal components of the features, and the 2-D map of the embedding view (PCA, or UMAP when installed).

The doctor's heavy steps (nearest neighbours, the linear head) run on the top
principal components instead of all 1,280+ feature dimensions: they keep almost
all of the variance and make a 10,000-image analysis take seconds.
"""

from __future__ import annotations

import importlib.util

import numpy as np


def umap_available() -> bool:
    return importlib.util.find_spec("umap") is not None


def principal_components(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` (rows already centred) projected on its top ``k`` principal axes: [n, min(k, dim)] float32."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    k = max(1, min(k, t.shape[1]))
    # The dim × dim covariance and its eigenvectors: one matrix product, fast for any n.
    _, vectors = torch.linalg.eigh(t.T @ t)  # float32: 20× faster than float64 here, ample for the top axes
    axes = vectors[:, -k:].flip(1).float()
    return (t @ axes).numpy()


def project_2d(unit_features: np.ndarray, components: np.ndarray, method: str = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """([n, 2] float32 coordinates, the method used: "PCA" or "UMAP"); ``components`` from ``principal_components``."""
    x = np.asarray(unit_features, dtype=np.float32)
    if len(x) < 3 or components.shape[1] < 2:
        return np.zeros((len(x), 2), dtype=np.float32), "PCA"
    if method == "umap" or (method == "auto" and umap_available() and len(x) >= 20):
        try:
            import umap

            coords = umap.UMAP(n_components=2, random_state=seed, metric="cosine").fit_transform(x)
            return np.asarray(coords, dtype=np.float32), "UMAP"
        except Exception:  # an optional extra that fails falls back to PCA rather than failing the doctor
            pass
    return np.ascontiguousarray(components[:, :2], dtype=np.float32), "PCA"
