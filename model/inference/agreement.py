"""Whether a faster runtime or precision keeps a classifier's answers: top-1, top-5 and probabilities.

A runtime is only worth choosing if it gives the same answers as the fp32
reference: the same top-1 class for at least 99 % of the images and the same
set of five best classes for at least 95 %. ``agreement`` compares two sets of
logits; the largest probability difference is reported alongside, because it
is the number a user can read (how far apart the shown percentages can be).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOP1_MIN = 0.99  # share of images whose best class must be the same
TOP5_MIN = 0.95  # share of images whose five best classes must be the same set


@dataclass(frozen=True)
class Agreement:
    """How closely a runtime's answers follow the fp32 reference on ``images`` inputs."""

    images: int
    top1: float  # share of images with the same best class
    top5: float  # share of images with the same set of (up to) five best classes
    max_prob_diff: float  # largest |softmax difference| over every image and class

    @property
    def passed(self) -> bool:
        return self.top1 >= TOP1_MIN and self.top5 >= TOP5_MIN

    def describe(self) -> str:
        return (f"top-1 {100 * self.top1:.1f} %, top-5 {100 * self.top5:.1f} % of {self.images} images, "
                f"max probability difference {self.max_prob_diff:.1e}")


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def agreement(reference_logits: np.ndarray, candidate_logits: np.ndarray, k: int = 5) -> Agreement:
    """Compare a candidate's logits with the reference's, image by image (same order, same classes)."""
    ref, got = np.asarray(reference_logits), np.asarray(candidate_logits)
    if ref.shape != got.shape or ref.ndim != 2 or len(ref) == 0:
        raise ValueError(f"logits to compare must have one equal [images, classes] shape, not {ref.shape} and {got.shape}")
    k = min(k, ref.shape[1])
    top1 = float(np.mean(ref.argmax(1) == got.argmax(1)))
    ref_top = np.argsort(-ref, axis=1)[:, :k]
    got_top = np.argsort(-got, axis=1)[:, :k]
    top5 = float(np.mean([set(a) == set(b) for a, b in zip(ref_top.tolist(), got_top.tolist())]))
    diff = float(np.abs(softmax(ref) - softmax(got)).max())
    return Agreement(len(ref), top1, top5, diff)
