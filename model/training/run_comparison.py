"""Several runs side by side: what each was trained with, how well it did, and its validation curves.

``compare_runs`` turns ``RunRecord``s (``model.training.runs.read_run``) into plain
rows of text, one column per run, and one validation curve per run, so the app's
comparison dialog (and any script) only lays them out. A value a run did not
record is ``MISSING`` ("—"), never a guess. A settings row says whether the runs
differ in it (what the user changed between them); a results row says which run
did best, when "best" has a direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from model.training.auto import resolve_ema
from model.training.runs import RunRecord

MISSING = "—"


@dataclass(frozen=True)
class ComparisonRow:
    """One fact about every run: ``values[i]`` is run ``i``'s, as text."""

    label: str
    values: tuple[str, ...]
    section: str  # "settings" (what a run was trained with) or "results" (how well it did)
    best: int | None = None  # results: the run with the best value; None without a direction, or for a tie
    tip: str = ""

    @property
    def differs(self) -> bool:
        """The runs do not all show the same value (a run that did not record it counts as different)."""
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class RunCurve:
    """One run's validation metric over its epochs (epochs without validation are left out)."""

    run: str
    epochs: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class RunComparison:
    """What the comparison view shows: run names (its columns), rows, and the two validation curves."""

    runs: tuple[str, ...]
    rows: tuple[ComparisonRow, ...]
    val_acc: tuple[RunCurve, ...]  # fractions, 0..1
    val_loss: tuple[RunCurve, ...]

    def row(self, label: str) -> ComparisonRow:
        return next(r for r in self.rows if r.label == label)


def format_took(seconds: float) -> str:
    """"40 s", "3 min", "1 h 05 min": the time a run spent training, in all its sessions."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = int(seconds / 60 + 0.5)  # half up: two and a half minutes read as 3, not round()'s 2
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _text(value, show: Callable = str) -> str:
    return MISSING if value is None or value == "" else show(value)


def _percent(value: float | None) -> str:
    return _text(value, lambda v: f"{100 * v:.1f} %")


def _weights(config: dict) -> str:
    """What the run started from: "ImageNet weights", "random weights", or a weights file's name."""
    source = str(config.get("weights_source") or config.get("weights") or "")
    return Path(source).name if ("/" in source or "\\" in source) else source


def _ema(config: dict) -> str:
    asked, mode = config.get("ema"), config.get("mode")
    if not asked or not mode:
        return MISSING
    used = "on" if resolve_ema(str(asked), str(mode)) else "off"
    return f"{used} (auto)" if asked == "auto" else used


def _settings(record: RunRecord) -> dict[str, str]:
    c = record.config
    return {
        "Variant": _text(c.get("variant"), lambda v: str(v).upper()),
        "Mode": _text(c.get("mode")),
        "Weights": _text(_weights(c)),
        "Image size": _text(c.get("image_size"), lambda v: f"{v} px"),
        "Epochs done / asked": f"{record.epochs_done} / {c['epochs']}" if c.get("epochs") else f"{record.epochs_done} / {MISSING}",
        "Batch size": _text(c.get("batch_size") or None),  # 0 means "sized automatically" and was never run
        "Learning rate": _text(c.get("lr"), lambda v: f"{float(v):g}"),
        "Augmentation": _text(c.get("augment")),
        # Runs from before the flip setting always flipped (as RunSettings.from_dict reads them).
        "Flip": _text(c.get("flip", True if c else None), lambda v: "on" if v else "off"),
        "Balance": _text(c.get("balance")),
        "EMA": _ema(c),
    }


SETTING_TIPS = {
    "Mode": "head: a new classifier on the frozen backbone; full: every layer trains",
    "Augmentation": "The preset for training images (head mode trains on unaugmented features)",
    "Balance": "How imbalanced classes were evened out: a balanced sampler, a weighted loss, or off",
    "EMA": "Whether an average of the weights was kept and could become the model",
}


def _results(record: RunRecord) -> dict[str, tuple[float | None, str]]:
    """Each result as (number to rank by, or None; text shown)."""
    history, ev, test = record.history, record.evaluation, record.test_evaluation
    accs = [h.val_acc for h in history if h.val_acc is not None]
    best_acc = max(accs) if accs else None
    f1 = ev.macro_f1 if ev is not None else None
    if f1 is None:  # no evaluation file: the best epoch's own score, when the run recorded one
        best = [h for h in history if h.is_best and h.val_macro_f1 is not None]
        f1 = best[-1].val_macro_f1 if best else None
    test_acc = test.accuracy if test is not None else None
    calibrated = ev is not None and ev.reliability is not None  # older evaluation files have neither
    ece = ev.ece if calibrated else None
    temperature = ev.temperature if calibrated else None
    seconds = sum(h.seconds for h in history)
    return {
        "Best val accuracy": (best_acc, _percent(best_acc)),
        "Val macro F1": (f1, _text(f1, lambda v: f"{v:.3f}")),
        "Test accuracy": (test_acc, _percent(test_acc)),
        "ECE": (ece, _text(ece, lambda v: f"{v:.3f}")),
        "Temperature": (None, _text(temperature, lambda v: f"{v:.2f}")),
        "Took": (None, format_took(seconds) if seconds > 0 else MISSING),
    }


# Which way is better, for the results that have one: +1 higher, -1 lower.
BETTER = {"Best val accuracy": 1, "Val macro F1": 1, "Test accuracy": 1, "ECE": -1}
RESULT_TIPS = {
    "Best val accuracy": "The best epoch's accuracy on the validation images",
    "Val macro F1": "The mean of the per-class F1 scores of the kept model: low when a class is neglected",
    "Test accuracy": "On the images set aside in test/, which nothing was tuned on",
    "ECE": "Expected calibration error of the kept model: how far its confidence is from its accuracy (lower is better)",
    "Temperature": "The calibration temperature its probabilities are divided by",
    "Took": "Training time in all its sessions",
}


def _best(numbers: list[float | None], direction: int) -> int | None:
    known = [(direction * n, i) for i, n in enumerate(numbers) if n is not None]
    if len(known) < 2:
        return None  # nothing to beat
    top = max(k for k, _ in known)
    winners = [i for k, i in known if k == top]
    return winners[0] if len(winners) == 1 else None


def _curve(record: RunRecord, metric: str) -> RunCurve:
    points = [(h.epoch, getattr(h, metric)) for h in record.history if getattr(h, metric) is not None]
    return RunCurve(record.path.name, tuple(e for e, _ in points), tuple(float(v) for _, v in points))


def compare_runs(records: Sequence[RunRecord]) -> RunComparison:
    """The runs' settings and results as rows (one value per run, in ``records``' order) and their curves."""
    settings = [_settings(r) for r in records]
    results = [_results(r) for r in records]
    rows = [ComparisonRow(label, tuple(s[label] for s in settings), "settings", tip=SETTING_TIPS.get(label, ""))
            for label in (settings[0] if settings else {})]
    for label in results[0] if results else {}:
        numbers = [r[label][0] for r in results]
        best = _best(numbers, BETTER[label]) if label in BETTER else None
        rows.append(ComparisonRow(label, tuple(r[label][1] for r in results), "results", best, RESULT_TIPS[label]))
    return RunComparison(
        runs=tuple(r.path.name for r in records),
        rows=tuple(rows),
        val_acc=tuple(_curve(r, "val_acc") for r in records),
        val_loss=tuple(_curve(r, "val_loss") for r in records),
    )


__all__ = ["MISSING", "ComparisonRow", "RunComparison", "RunCurve", "compare_runs", "format_took"]
