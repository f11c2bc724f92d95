"""The doctor's view of each image: the pooled backbone features of a bundle or a variant's weights.

Computed once and cached like head mode's features (``model.training.features``):
a ``.npy`` under ``DATA_DIR/.studio/cache/`` named by the model, the image size
and every file's size and modification time, so a second run over an unchanged
folder (or after a few fixes, which change the key) decodes nothing.
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Generator, Sequence

import numpy as np
import torch

from model.core.errors import ImageError, StudioError
from model.core.events import Progress
from model.doctor.collect import STUDIO_FOLDER, Item
from model.nets.classifier import Classifier, load_classifier
from model.nets.device import resolve_device
from model.training.features import FeatureStore, PooledBackbone, cache_key, open_store
from model.imaging.transforms import normalize_batch
from model.training.loaders import decode_for_eval

BATCH = 32
RANDOM_WARNING = (
    "Random weights give meaningless features, so the label issues, near duplicates and outliers found "
    "with them mean little: train a model on this folder first and run the doctor with it (--model BUNDLE)."
)


@dataclass
class FeatureSource:
    """Where the features come from: a bundle file, or a variant with a weights choice."""

    model: str | os.PathLike | None = None  # a bundle (model.pt)
    variant: str = "b0"
    weights: str = "imagenet"  # "imagenet", "random" or a file
    image_size: int | None = None  # None: the model's own eval size (tests use a small one)

    @property
    def is_random(self) -> bool:
        return self.model is None and str(self.weights) == "random"

    def identity(self) -> str:
        """Names the weights for the cache key: a file by its path, size and mtime."""
        target = self.model if self.model is not None else self.weights
        if target in ("imagenet", "random"):
            return f"{self.variant}:{target}"
        st = os.stat(target)
        return f"{Path(target).resolve()}:{st.st_size}:{st.st_mtime_ns}"

    def load(self) -> Classifier:
        if self.model is not None:
            return load_classifier(bundle=self.model)
        return load_classifier(self.variant, self.weights)


def _cache_dir(root: Path) -> Path | None:
    folder = root / STUDIO_FOLDER / "cache"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder if os.access(folder, os.W_OK) else None
    except OSError:  # a read-only data set: features stay in memory
        return None


def extract_features(
    root: Path,
    items: Sequence[Item],
    source: FeatureSource,
    device: str = "auto",
    cancel: threading.Event | None = None,
) -> Generator[Progress, None, tuple[np.ndarray, np.ndarray, str]]:
    """Yield progress; return (features [n, dim] float32, decoded ok [n] bool, the classifier's description)."""
    clf = source.load()
    prep = clf.preprocessing if source.image_size is None else clf.preprocessing.at_size(source.image_size)
    backbone = PooledBackbone(clf.model).eval()
    dim = clf.model.classifier[-1].in_features
    samples = [(it.path, it.label) for it in items]
    key = cache_key(clf.variant.name, source.identity(), prep.crop_size, samples)
    folder = _cache_dir(root)
    store: FeatureStore
    if folder is None:
        store, complete = FeatureStore(len(items), dim), False
    else:
        store, complete = open_store(len(items), dim, folder, key, "disk", 0)
    if complete:
        yield Progress(len(items), len(items), "Reusing the cached features.")
        return np.asarray(store.array), store.valid.copy(), clf.source

    dev = resolve_device(device)
    backbone.to(dev)

    def decode(i: int) -> torch.Tensor | None:
        try:
            return decode_for_eval(items[i].path, prep)
        except ImageError:
            return None

    yield Progress(0, len(items), f"Computing features with {clf.source}…")
    with ThreadPoolExecutor(max_workers=2) as pool, torch.inference_mode():
        for start in range(0, len(items), BATCH):
            if cancel is not None and cancel.is_set():
                raise StudioError("The doctor was cancelled; nothing was changed.")
            idx = list(range(start, min(start + BATCH, len(items))))
            decoded = list(pool.map(decode, idx))
            good = [i for i, t in zip(idx, decoded) if t is not None]
            if good:
                x = torch.stack([t for t in decoded if t is not None]).to(dev)
                store.put(good, backbone(normalize_batch(x, prep)).float().cpu())
            yield Progress(idx[-1] + 1, len(items), "Computing features…")
    store.finish()
    return np.asarray(store.array), store.valid.copy(), clf.source


def file_sha_key(items: Sequence[Item]) -> str:
    """A short hash of every item's content hash: names a report's state of the data set."""
    h = hashlib.sha256()
    for it in items:
        h.update(f"{it.rel}:{it.print.sha256}|".encode())
    return h.hexdigest()[:16]
