"""Feeding images to training and evaluation: decode once, cache, batch, skip bad files.

Images are decoded with the safe decoder (``model.imaging.images.load_image``). Before
the first epoch the engine *prepares* them: each image is decoded once (JPEGs at a
reduced DCT scale), shrunk to a little more than the training size and kept in
memory up to a budget, so later epochs only crop, flip and jitter small arrays.
Evaluation crops are deterministic, so they are cached in their final uint8 form.
Batches stay uint8 until they reach the device, where ``normalize_batch`` turns
them into floats: four times less data to copy and no float work in workers.

A file that fails to decode is never fatal: it comes back in ``Batch.failed``
(or from ``prepare_cache``) with the reason, and the engine reports and drops it.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from PIL import Image

from model.core.errors import ImageError
from model.imaging.images import load_image
from model.imaging.transforms import eval_uint8
from model.core.variants import Preprocessing
from model.training.rng_state import sample_seed

Sample = tuple[Path, int]
TRAIN_CACHE_SCALE = 1.25  # cached short side / training size: room for random crops without upscaling much


@dataclass
class Batch:
    """A batch of uint8 images [N, 3, S, S], their labels, sample indices and the files that failed."""

    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    failed: list[tuple[int, str]]

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def pin_memory(self) -> "Batch":
        """Called by the DataLoader's pinning thread (CUDA): page-locked memory copies asynchronously."""
        self.images = self.images.pin_memory()
        self.labels = self.labels.pin_memory()
        return self


def memory_budget_bytes() -> int:
    """How much RAM the image cache may use: a quarter of the machine's memory, at most 4 GiB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return int(min(total // 4, 4 * 2**30))


def fits_in_cache(num_train: int, num_val: int, image_size: int, budget: int) -> bool:
    """Whether the prepared images of a run will (about) fit ``budget``: 4:3 photos assumed."""
    side = max(image_size, round(image_size * TRAIN_CACHE_SCALE))
    return num_train * side * side * 4 // 3 * 3 + num_val * image_size * image_size * 3 <= budget


def decode_for_training(path: Path, image_size: int) -> np.ndarray:
    """Decode and shrink so the short side is about ``TRAIN_CACHE_SCALE × image_size`` (never enlarged)."""
    side = max(image_size, round(image_size * TRAIN_CACHE_SCALE))
    img = load_image(path, draft_size=(side, side))
    short = min(img.size)
    if short > side:
        w, h = img.size
        img = img.resize((max(1, round(w * side / short)), max(1, round(h * side / short))), Image.BILINEAR, reducing_gap=2.0)
    return np.asarray(img)


def decode_for_eval(path: Path, prep: Preprocessing) -> torch.Tensor:
    """The deterministic eval crop as uint8 [3, S, S]; the same for validation and ``evaluate``."""
    size = prep.resize_size
    return eval_uint8(load_image(path, draft_size=(size, size)), prep)


class ImageSamples(torch.utils.data.Dataset):
    """Samples as (uint8 tensor or None, label, index, failure reason or None).

    ``cache`` maps a sample index to a prepared entry: a decoded array (still to be
    transformed: training) or a finished tensor (evaluation).
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        decode: Callable[[Path], "np.ndarray | torch.Tensor"],
        transform: Callable[[Image.Image], torch.Tensor] | None = None,
        cache: dict[int, "np.ndarray | torch.Tensor"] | None = None,
    ) -> None:
        self.samples = list(samples)
        self.decode = decode
        self.transform = transform
        self.cache = cache if cache is not None else {}

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: "int | tuple[int, int]"):
        """``key``: a sample index, or (index, augmentation seed) from a ``SubsetSampler`` with seeds."""
        i, seed = key if isinstance(key, tuple) else (key, None)
        path, label = self.samples[i]
        try:
            entry = self.cache.get(i)
            if entry is None:
                entry = self.decode(path)
            if isinstance(entry, torch.Tensor):
                return entry, label, i, None
            return self.augment(Image.fromarray(entry), seed), label, i, None
        except ImageError as e:
            return None, label, i, e.reason

    def augment(self, image: Image.Image, seed: int | None) -> torch.Tensor:
        if seed is None:
            return self.transform(image)
        # The sample's own seed, in a forked generator: the same crop in any worker process,
        # before or after a resume, and torch's global generator (dropout) is left alone.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.transform(image)


def collate(items) -> Batch:
    good = [it for it in items if it[0] is not None]
    failed = [(it[2], it[3]) for it in items if it[0] is None]
    if good:
        images = torch.stack([it[0] for it in good])
    else:
        images = torch.empty(0, 3, 1, 1, dtype=torch.uint8)
    labels = torch.tensor([it[1] for it in good], dtype=torch.long)
    indices = torch.tensor([it[2] for it in good], dtype=torch.long)
    return Batch(images, labels, indices, failed)


def prepare_cache(
    dataset: ImageSamples, budget: int, threads: int
) -> Iterator[tuple[int, str | None]]:
    """Decode samples into ``dataset.cache`` with a thread pool until ``budget`` bytes are used.

    Yields (index, failure reason or None) per sample so the caller can report
    progress, drop bad files and stop early; samples beyond the budget stay lazy.
    """
    used = 0
    todo = [i for i in range(len(dataset)) if i not in dataset.cache]

    def work(i: int):
        try:
            return i, dataset.decode(dataset.samples[i][0]), None
        except ImageError as e:
            return i, None, e.reason

    # Decoding releases the GIL (Pillow), so threads use every core without pickling anything.
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        chunk = max(8, 4 * threads)
        for start in range(0, len(todo), chunk):
            if used >= budget:
                return
            for i, entry, reason in pool.map(work, todo[start : start + chunk]):
                if entry is not None:
                    used += entry.nbytes if isinstance(entry, np.ndarray) else entry.numel() * entry.element_size()
                    dataset.cache[i] = entry
                yield i, reason


class SubsetSampler(torch.utils.data.Sampler[int]):
    """Iterates over the indices still in ``active`` (shuffled per epoch with a seed): bad files drop out.

    ``augment_seeds``: yield (index, augmentation seed) pairs instead (``model.training.rng_state.sample_seed``).
    """

    def __init__(self, active: list[int], shuffle: bool, seed: int = 0, augment_seeds: bool = False) -> None:
        self.active = active
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.augment_seeds = augment_seeds

    def __len__(self) -> int:
        return len(self.active)

    def __iter__(self):
        order = list(self.active)
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            order = [order[k] for k in torch.randperm(len(order), generator=g).tolist()]
        if self.augment_seeds:
            return iter([(i, sample_seed(self.seed, self.epoch, i)) for i in order])
        return iter(order)


def _worker_init(_: int) -> None:
    # Ctrl-C (and systemd's or Slurm's SIGTERM) may go to the whole process group: the main process
    # handles it with a clean stop, and still needs its workers for the steps until then.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def make_loader(
    dataset: ImageSamples,
    sampler: SubsetSampler,
    batch_size: int,
    workers: int,
    pin_memory: bool,
    drop_last: bool = False,
    batch_sampler: torch.utils.data.Sampler | None = None,
) -> torch.utils.data.DataLoader:
    """A DataLoader over ``dataset`` in ``sampler`` order, with persistent workers when there are any.

    ``batch_sampler``, when given, chooses the batches instead (``sampler``, ``batch_size`` and
    ``drop_last`` are then unused): a distributed run's shards of the global batches.
    """
    batching = (
        dict(batch_sampler=batch_sampler)
        if batch_sampler is not None
        else dict(batch_size=batch_size, sampler=sampler, drop_last=drop_last)
    )
    return torch.utils.data.DataLoader(
        dataset,
        **batching,
        num_workers=workers,
        collate_fn=collate,
        pin_memory=pin_memory,
        persistent_workers=workers > 0,
        worker_init_fn=_worker_init if workers > 0 else None,
        prefetch_factor=4 if workers > 0 else None,
        # Its own generator for the workers' base seed: iterating a loader then draws nothing from
        # torch's global generator, whose state a resumed run restores (``model.training.rng_state``).
        generator=torch.Generator().manual_seed(0),
    )
