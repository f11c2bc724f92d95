"""Class comparison of SE gates over a folder: the SENet paper's analysis for the user's data.

For a folder with one sub-folder per class, ``class_comparison`` records the
excitation vector of every SE block for every image and reports, per block,
the mean excitation of each class and a class-divergence score:

    divergence = mean over class pairs of ‖μ_k − μ_l‖ / (mean over classes of σ_k + ε)

where μ_k is class k's mean gate vector and σ_k its within-class spread (the
root-mean-square distance of the class's gate vectors to μ_k). About 0 means
the block gates every class alike; large values mean the gates tell classes
apart, i.e. where in depth the excitations become class-specific (early
blocks are expected to be class-agnostic, late ones class-specific).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import nn

from model.core.atomic import atomic_write
from model.core.errors import DatasetError, ImageError
from model.core.events import Progress
from model.explain.se_recorder import BlockInfo, SERecorder
from model.core.variants import Preprocessing

SPREAD_EPS = 1e-6  # keeps the score finite when every image of each class gates identically


def divergence_score(class_means: np.ndarray, within_spread: np.ndarray) -> float:
    """Mean pairwise distance of the class means [K, C] over the mean within-class spread [K]."""
    means = np.asarray(class_means, np.float64)
    pairs = list(combinations(range(len(means)), 2))
    if not pairs:
        return 0.0
    between = np.mean([np.linalg.norm(means[a] - means[b]) for a, b in pairs])
    return float(between / (float(np.mean(within_spread)) + SPREAD_EPS))


class ClassExcitationStats:
    """Running per-class, per-block sums of s and of ‖s‖², so memory does not grow with the folder."""

    def __init__(self, num_classes: int, channels: list[int]) -> None:
        self.counts = np.zeros(num_classes, np.int64)
        self.sums = [np.zeros((num_classes, c), np.float64) for c in channels]
        self.square_sums = [np.zeros(num_classes, np.float64) for _ in channels]

    def add(self, labels: list[int], excitations: list[np.ndarray]) -> None:
        """Add a batch: ``labels[n]`` is image n's class, ``excitations[b]`` is block b's [N, C]."""
        labels_arr = np.asarray(labels, np.int64)
        np.add.at(self.counts, labels_arr, 1)
        for b, s in enumerate(excitations):
            s = np.asarray(s, np.float64)
            np.add.at(self.sums[b], labels_arr, s)
            np.add.at(self.square_sums[b], labels_arr, (s * s).sum(axis=1))

    def class_means(self, block: int) -> np.ndarray:
        """[K, C] mean gate vector per class (classes without images give NaN rows)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sums[block] / self.counts[:, None]

    def within_spread(self, block: int) -> np.ndarray:
        """[K] RMS distance of each class's gate vectors to the class mean: √(E‖s‖² − ‖μ‖²)."""
        mean = self.class_means(block)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_sq = self.square_sums[block] / self.counts
        return np.sqrt(np.maximum(mean_sq - (mean * mean).sum(axis=1), 0.0))


@dataclass(frozen=True)
class ClassComparison:
    """Result of ``class_comparison``: per block, class means, spreads and divergence."""

    class_names: list[str]  # classes with at least one readable image, sorted by folder name
    counts: list[int]  # readable images per class
    blocks: list[BlockInfo]
    class_means: list[np.ndarray]  # per block: [K, C] float32 mean excitation per class
    within_spread: np.ndarray  # [B, K] float32
    divergence: np.ndarray  # [B] float32
    skipped: list[tuple[str, str]]  # unreadable files: (path, reason)

    @property
    def most_class_specific(self) -> BlockInfo:
        """The block whose gates differ most between classes."""
        return self.blocks[int(np.argmax(self.divergence))]

    def save_npz(self, path: str | os.PathLike) -> Path:
        """Write the comparison as an npz that ``np.load`` reads without pickle."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            "class_names": np.array(self.class_names, dtype=str),
            "counts": np.array(self.counts, np.int64),
            "block_names": np.array([b.name for b in self.blocks], dtype=str),
            "divergence": self.divergence,
            "within_spread": self.within_spread,
        }
        for block, means in zip(self.blocks, self.class_means):
            arrays[f"mean_{block.file_stem}"] = means
        return atomic_write(path, lambda f: np.savez(f, **arrays))


def _class_folders(root: Path) -> list[tuple[str, list[Path]]]:
    from model.imaging.images import iter_image_files

    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder; give a folder with one sub-folder of images per class.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    found = [(p.name, list(iter_image_files([p]))) for p in folders]
    found = [(name, files) for name, files in found if files]
    if len(found) < 2:
        raise DatasetError(
            f"{root}: found {len(found)} class sub-folder(s) with images; comparing classes needs at least two."
        )
    return found


def class_comparison(
    source: nn.Module,
    data_dir: str | os.PathLike,
    *,
    preprocessing: Preprocessing | None = None,
    batch_size: int = 16,
    cancel: threading.Event | None = None,
) -> Iterator[Progress | ClassComparison]:
    """Mean SE excitation per class and block over ``data_dir`` (one sub-folder per class).

    ``source`` is a ``Classifier`` (its model and preprocessing are used) or a
    bare model together with ``preprocessing``.

    A generator: it yields ``Progress(done, total, message)`` (first with
    done=0, then after every batch) and finally one ``ClassComparison``.
    Setting ``cancel`` stops it before the next batch, and then no result is
    yielded. Unreadable files are skipped and listed in ``result.skipped``.
    Runs on the model's device; hooks are attached only during each forward
    pass, so nothing stays hooked while the caller holds a paused generator.
    Raises ``DatasetError`` for a folder without at least two classes of
    readable images.
    """
    from model.imaging.images import load_image
    from model.imaging.transforms import eval_tensor

    model = getattr(source, "model", source)
    preprocessing = preprocessing or getattr(source, "preprocessing", None)
    if preprocessing is None:
        raise ValueError("class_comparison needs preprocessing for a bare model")
    root = Path(data_dir)
    classes = _class_folders(root)
    items = [(path, label) for label, (_, files) in enumerate(classes) for path in files]
    total = len(items)
    yield Progress(0, total, f"{total} images in {len(classes)} classes")
    recorder = SERecorder(model, keep_inputs=False)
    stats = ClassExcitationStats(len(classes), [b.channels for b in recorder.blocks])
    device = next(model.parameters()).device
    skipped: list[tuple[str, str]] = []
    size = (preprocessing.resize_size, preprocessing.resize_size)
    for start in range(0, total, batch_size):
        if cancel is not None and cancel.is_set():
            return
        tensors, labels = [], []
        for path, label in items[start : start + batch_size]:
            try:
                tensors.append(eval_tensor(load_image(path, draft_size=size), preprocessing))
                labels.append(label)
            except ImageError as e:
                skipped.append((str(path), e.reason))
        if tensors:
            _record_batch(model, recorder, torch.stack(tensors).to(device))
            stats.add(labels, [s.numpy() for s in recorder.excitations])
        done = min(total, start + batch_size)
        yield Progress(done, total, f"{done}/{total} images" + (f", {len(skipped)} unreadable" if skipped else ""))
    yield _finish(root, classes, recorder.blocks, stats, skipped)


def _record_batch(model: nn.Module, recorder: SERecorder, x: torch.Tensor) -> None:
    was_training = model.training
    if was_training:
        model.eval()
    try:
        with recorder, torch.no_grad():
            model(x)
    finally:
        if was_training:
            model.train()


def _finish(root, classes, blocks, stats: ClassExcitationStats, skipped) -> ClassComparison:
    keep = np.flatnonzero(stats.counts > 0)
    if len(keep) < 2:
        raise DatasetError(f"{root}: fewer than two classes have readable images ({len(skipped)} files could not be read).")
    means = [stats.class_means(b)[keep].astype(np.float32) for b in range(len(blocks))]
    spread = np.stack([stats.within_spread(b)[keep] for b in range(len(blocks))]).astype(np.float32)
    divergence = np.array([divergence_score(m, s) for m, s in zip(means, spread)], np.float32)
    return ClassComparison(
        class_names=[classes[k][0] for k in keep],
        counts=[int(stats.counts[k]) for k in keep],
        blocks=list(blocks),
        class_means=means,
        within_spread=spread,
        divergence=divergence,
        skipped=skipped,
    )
