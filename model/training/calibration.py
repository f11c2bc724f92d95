"""Calibrated confidence: one temperature fitted on validation, and the calibration error.

A network trained with label smoothing and augmentation is usually under- or
over-confident: it says 80 % when it is right 96 % of the time. Dividing its
logits by one temperature T, fitted after training by minimising the validation
negative log-likelihood (LBFGS on log T, so T stays positive) with a weak prior
that keeps T near 1 when the validation set cannot say (no mistakes in it), fixes
most of it without changing a single prediction (Guo et al., 2017). The bundle stores T and
every place that shows or exports probabilities divides by it.

``expected_calibration_error``: top-1 confidence in 15 equal-width bins; the
weighted mean gap between each bin's accuracy and its mean confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

ECE_BINS = 15
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 20.0
# A Gaussian prior on log T (standard deviation 0.5: T within about ×0.37 to ×2.7 of 1 at two
# deviations). A validation set with no mistakes says nothing about how confident mistakes should
# be, and its NLL keeps falling as T → 0: on digits the plain fit gave T = 0.05, and every test
# mistake then read "100 %" (test NLL 0.50 against 0.06 at T = 0.5). With the prior, the same
# perfect validation gives T = 0.43, while a set with mistakes moves by under 2 % (0.596 → 0.606).
LOG_TEMPERATURE_PRIOR_SD = 0.5


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, max_iter: int = 100) -> float:
    """The temperature T that minimises the summed NLL of ``softmax(logits / T)`` on ``labels`` plus
    the prior on log T (``LOG_TEMPERATURE_PRIOR_SD``): the data decide when they can; 1.0 without data."""
    logits = logits.detach().float().cpu()
    labels = labels.detach().long().cpu()
    if logits.shape[0] == 0:
        return 1.0
    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        prior = log_t.pow(2).sum() / (2 * LOG_TEMPERATURE_PRIOR_SD**2)
        loss = F.cross_entropy(logits / log_t.exp(), labels, reduction="sum") + prior
        loss.backward()
        return loss

    opt.step(closure)
    t = float(log_t.detach().exp())
    if not torch.isfinite(torch.tensor(t)):
        return 1.0
    return min(MAX_TEMPERATURE, max(MIN_TEMPERATURE, t))


@dataclass(frozen=True)
class ReliabilityBins:
    """Per confidence bin: how many predictions, their accuracy and mean confidence (NaN when empty)."""

    edges: tuple[float, ...]  # ECE_BINS + 1 edges from 0 to 1
    counts: tuple[int, ...]
    accuracy: tuple[float, ...]
    confidence: tuple[float, ...]

    @property
    def ece(self) -> float:
        n = sum(self.counts)
        if n == 0:
            return 0.0
        return sum(c / n * abs(a - f) for c, a, f in zip(self.counts, self.accuracy, self.confidence) if c)

    def to_dict(self) -> dict:
        def num(v):
            return None if v != v else v  # NaN is not JSON

        return {
            "edges": list(self.edges),
            "counts": list(self.counts),
            "accuracy": [num(v) for v in self.accuracy],
            "confidence": [num(v) for v in self.confidence],
        }


def reliability_bins(probs: torch.Tensor, labels: torch.Tensor, bins: int = ECE_BINS) -> ReliabilityBins:
    """Top-1 confidence of ``probs`` [N, C] binned into ``bins`` equal-width bins (right-closed, as (a, b])."""
    probs = probs.detach().float().cpu()
    labels = labels.detach().long().cpu()
    conf, pred = probs.max(1) if probs.numel() else (torch.zeros(0), torch.zeros(0, dtype=torch.long))
    right = (pred == labels).float()
    edges = torch.linspace(0, 1, bins + 1)
    # Bin b holds confidences in (edges[b], edges[b+1]]; a confidence of exactly 0 goes to the first.
    which = (torch.bucketize(conf, edges, right=False) - 1).clamp(0, bins - 1)
    counts, acc, mean_conf = [], [], []
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        counts.append(n)
        acc.append(float(right[mask].mean()) if n else float("nan"))
        mean_conf.append(float(conf[mask].mean()) if n else float("nan"))
    return ReliabilityBins(tuple(float(e) for e in edges), tuple(counts), tuple(acc), tuple(mean_conf))


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = ECE_BINS) -> float:
    """Top-1 ECE with ``bins`` equal-width confidence bins."""
    return reliability_bins(probs, labels, bins).ece


def calibrated_probs(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T): the probabilities every view of a calibrated model shows."""
    return (logits.float() / float(temperature)).softmax(-1)


__all__ = [
    "ECE_BINS",
    "ReliabilityBins",
    "calibrated_probs",
    "expected_calibration_error",
    "fit_temperature",
    "reliability_bins",
]
