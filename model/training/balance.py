"""Class imbalance: detecting it, and the two remedies (a class-balanced sampler, a class-weighted loss).

A training set is *imbalanced* when its largest class has more than
``IMBALANCE_RATIO`` times the images of its smallest. Then the rare classes are
easy to ignore: a model can score well on accuracy while never predicting them.
``bench/train_quality.py`` measures both remedies on the digits; the engine uses
``DEFAULT_REMEDY``. Under imbalance the best epoch is chosen by macro F1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # torch is imported where it is used: the GUI's dataset summary describes the balance without it
    import torch

IMBALANCE_RATIO = 3.0
REMEDIES = ("auto", "sampler", "loss", "off")
DEFAULT_REMEDY = "sampler"  # measured: see bench/train_quality.py and the README


@dataclass(frozen=True)
class ClassBalance:
    """The training set's class counts and what the run does about them."""

    counts: tuple[int, ...]  # training images per class index
    class_names: tuple[str, ...]
    remedy: str  # "sampler", "loss" or "off"

    @property
    def ratio(self) -> float:
        return max(self.counts) / max(1, min(self.counts))

    @property
    def imbalanced(self) -> bool:
        return self.ratio > IMBALANCE_RATIO

    def describe(self) -> str:
        """One sentence for the first lines of a run and the GUI's dataset summary."""
        big = max(range(len(self.counts)), key=self.counts.__getitem__)
        small = min(range(len(self.counts)), key=self.counts.__getitem__)
        facts = (
            f"'{self.class_names[big]}' has {self.counts[big]} training images, "
            f"'{self.class_names[small]}' {self.counts[small]} ({self.ratio:.1f}×)"
        )
        if not self.imbalanced:
            return f"Classes are balanced enough: {facts}."
        if self.remedy == "sampler":
            what = "a class-balanced sampler shows every class equally often, and the best epoch is chosen by macro F1"
        elif self.remedy == "loss":
            what = "the loss weighs each class by its rarity, and the best epoch is chosen by macro F1"
        else:
            what = "nothing is done about it (balancing is off)"
        return f"Classes are imbalanced: {facts}; {what}."


def class_balance(labels: Sequence[int], class_names: Sequence[str], remedy: str = "auto") -> ClassBalance:
    """The balance of ``labels``; ``remedy`` "auto" picks ``DEFAULT_REMEDY`` when imbalanced, "off" otherwise."""
    counts = Counter(int(y) for y in labels)
    per_class = tuple(counts.get(i, 0) for i in range(len(class_names)))
    balance = ClassBalance(per_class, tuple(class_names), "off")
    if remedy == "auto":
        remedy = DEFAULT_REMEDY if balance.imbalanced else "off"
    elif not balance.imbalanced:
        remedy = "off"
    return ClassBalance(per_class, tuple(class_names), remedy)


def balance_of_counts(counts: dict[str, int], remedy: str = "auto") -> ClassBalance:
    """``class_balance`` from per-class image counts (a ``DatasetScan.counts``)."""
    names = list(counts)
    return class_balance([i for i, n in enumerate(counts.values()) for _ in range(n)], names, remedy)


def class_weights(counts: Sequence[int]) -> "torch.Tensor":
    """Loss weights inversely proportional to class frequency, averaging 1 over the samples' classes."""
    import torch
    c = torch.tensor([max(1, n) for n in counts], dtype=torch.float32)
    return c.sum() / (len(c) * c)


class BalancedSampler:
    """Draws ``len(active)`` indices per epoch with replacement, each class equally likely.

    Same interface as ``model.training.loaders.SubsetSampler`` with ``augment_seeds``:
    ``active`` is the live list of usable sample indices (bad files drop out), ``epoch``
    seeds the draw, and it yields (index, augmentation seed) pairs; an image drawn twice
    in an epoch gets two different augmentations.
    """

    def __init__(self, active: list[int], labels: Sequence[int], seed: int = 0) -> None:
        self.active = active
        self.labels = list(labels)
        self.seed = seed
        self.epoch = 0
        self.shuffle = True

    def __len__(self) -> int:
        return len(self.active)

    def __iter__(self):
        import torch

        if not self.active:
            return iter([])
        counts = Counter(self.labels[i] for i in self.active)
        weights = torch.tensor([1.0 / counts[self.labels[i]] for i in self.active], dtype=torch.float64)
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        picks = torch.multinomial(weights, len(self.active), replacement=True, generator=g).tolist()
        from model.training.rng_state import sample_seed

        n = len(self.labels)
        return iter([(self.active[k], sample_seed(self.seed, self.epoch, self.active[k] + n * p)) for p, k in enumerate(picks)])


__all__ = ["IMBALANCE_RATIO", "REMEDIES", "BalancedSampler", "ClassBalance", "balance_of_counts", "class_balance", "class_weights"]
