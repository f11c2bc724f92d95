"""What makes a run win by default, gathered for the trainer: balance, EMA, mixing, selection, calibration.

``RunQuality`` is made once per run from the resolved settings. The trainer asks
it for the loss weights, sampler and batch mixer, updates the EMA after each
step, lets it choose between the raw and the averaged weights after each
validation, scores epochs (macro F1 when the classes are imbalanced, accuracy
otherwise) and, at the end, fits the temperature (``model.training.calibration``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from model.training.augment import BatchMixer
from model.training.balance import BalancedSampler, ClassBalance, class_balance, class_weights
from model.training.ema import ModelEma, decay_for_steps


@dataclass
class Validation:
    """One validation of one set of weights."""

    loss: float | None
    acc: float | None
    outputs: tuple | None  # (paths, labels, logits)
    macro_f1: float | None = None
    ema: bool = False


def macro_f1(labels: torch.Tensor, logits: torch.Tensor, num_classes: int) -> float:
    """Mean F1 over the classes present in ``labels`` or predicted."""
    pred = logits.argmax(1)
    scores = []
    for c in range(num_classes):
        tp = int(((pred == c) & (labels == c)).sum())
        predicted, actual = int((pred == c).sum()), int((labels == c).sum())
        if predicted == 0 and actual == 0:
            continue
        scores.append(2 * tp / (predicted + actual))
    return sum(scores) / max(1, len(scores))


class RunQuality:
    def __init__(self, settings, train_labels: list[int], class_names: list[str], steps_per_epoch: int) -> None:
        """``settings``: the run's ``RunSettings``."""
        # Head mode shuffles cached features itself: the weighted loss is its remedy.
        self.balance: ClassBalance = class_balance(train_labels, class_names, settings.balance)
        if not settings.trains_backbone and self.balance.remedy == "sampler":
            self.balance = ClassBalance(self.balance.counts, self.balance.class_names, "loss")
        self.train_labels = list(train_labels)
        self.num_classes = len(class_names)
        self.steps_total = max(1, steps_per_epoch * int(settings.epochs))
        self.ema: ModelEma | None = None
        self.use_ema = False  # whether the best weights so far are the averaged ones

    # --- what training uses ---------------------------------------------------------------------
    def loss_weights(self) -> torch.Tensor | None:
        return class_weights(self.balance.counts) if self.balance.remedy == "loss" else None

    def sampler(self, active: list[int], seed: int):
        if self.balance.remedy != "sampler":
            return None
        return BalancedSampler(active, self.train_labels, seed)

    def mixer(self, preset: str, seed: int) -> BatchMixer | None:
        return BatchMixer(self.num_classes, seed=seed) if preset == "strong" else None

    def start_ema(self, net: torch.nn.Module) -> float:
        self.ema = ModelEma(net, decay_for_steps(self.steps_total))
        return self.ema.decay

    def after_step(self, net: torch.nn.Module) -> None:
        if self.ema is not None:
            self.ema.update(net)

    # --- choosing ---------------------------------------------------------------------------------
    def scored(self, v: Validation) -> Validation:
        if v.outputs is not None:
            v.macro_f1 = macro_f1(v.outputs[1], v.outputs[2], self.num_classes)
        return v

    def score(self, v: Validation) -> tuple[float, float]:
        """Higher is better: (macro F1 or accuracy, −loss)."""
        main = v.macro_f1 if self.balance.imbalanced else v.acc
        return (-math.inf if main is None else main, -(v.loss if v.loss is not None else math.inf))

    def better_of(self, raw: Validation, averaged: Validation | None) -> Validation:
        if averaged is None or self.score(averaged) <= self.score(raw):
            return raw
        averaged.ema = True
        return averaged


def calibrate(outputs, class_names) -> tuple[float, float, float]:
    """(temperature, ECE before, ECE after) on validation outputs (paths, labels, logits)."""
    from model.training.calibration import calibrated_probs, expected_calibration_error, fit_temperature

    _, labels, logits = outputs
    t = fit_temperature(logits, labels)
    before = expected_calibration_error(logits.softmax(1), labels)
    after = expected_calibration_error(calibrated_probs(logits, t), labels)
    return t, before, after


__all__ = ["RunQuality", "Validation", "calibrate", "macro_f1"]
