"""Training runs kept on disk: naming new run folders, listing earlier runs, reading one back.

An app keeps its runs side by side in one folder of run folders; each run
folder has the layout described in ``model.training.checkpoint``. Listing reads only the
small text files, so it stays fast with many runs. Reading one run also opens
its last checkpoint (or its best bundle) for the settings it was trained with,
which is what resuming it needs.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from model.training.checkpoint import RunPaths, history_events
from model.core.errors import BundleError, StudioError
from model.training.evaluate import Evaluation
from model.core.events import EpochMetrics

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class RunSummary:
    """One earlier run, as a runs list shows it."""

    path: Path
    name: str
    epochs_done: int
    best_val_acc: float | None
    has_model: bool  # model.pt after at least one epoch: the run can be used, saved or exported
    has_checkpoint: bool  # last.pt: the run can be resumed
    modified: float  # seconds since the epoch, of the newest file
    epochs_planned: int | None = None  # from the checkpoint's settings; None when unknown
    test_acc: float | None = None  # the best model on the data set's test/ folder, when it had one

    @property
    def interrupted(self) -> bool:
        """Stopped before its last epoch, with a checkpoint to resume from."""
        return self.has_checkpoint and self.epochs_planned is not None and self.epochs_done < self.epochs_planned

    def describe(self) -> str:
        """"3 epochs · best val acc 87.5 %", "stopped at epoch 3 of 10: Resume" (or why there is nothing yet)."""
        acc = "" if self.best_val_acc is None else f" · best val acc {100 * self.best_val_acc:.1f} %"
        if self.test_acc is not None:
            acc += f" · test {100 * self.test_acc:.1f} %"
        if self.interrupted and not self.epochs_done:
            return "stopped before its first epoch: Resume"
        if self.interrupted:
            return f"stopped at epoch {self.epochs_done} of {self.epochs_planned}: Resume{acc}"
        if not self.epochs_done:
            return "no finished epoch"
        return f"{self.epochs_done} epoch{'s' if self.epochs_done != 1 else ''}{acc}"


@dataclass
class RunRecord:
    """Everything the app shows about a run: its curves, its evaluation and its settings."""

    path: Path
    history: tuple[EpochMetrics, ...]
    evaluation: Evaluation | None
    config: dict  # the settings it was trained with (model.training.trainer's resolved settings); {} if unknown
    class_names: list[str]
    notes: list[str] = field(default_factory=list)  # files that could not be read, in one sentence each
    test_evaluation: Evaluation | None = None  # the best model on the dataset's test/ folder, when it had one

    @property
    def paths(self) -> RunPaths:
        return RunPaths(self.path)

    @property
    def epochs_done(self) -> int:
        return self.history[-1].epoch if self.history else 0

    @property
    def epochs_planned(self) -> int:
        return int(self.config.get("epochs") or self.epochs_done)

    @property
    def bundle_path(self) -> Path | None:
        """The run's trained model; None before its first epoch ended (model.pt then holds the
        starting weights, which nobody should mistake for a fine-tuned model)."""
        return self.paths.model if self.paths.model.is_file() and self.epochs_done > 0 else None

    @property
    def can_resume(self) -> bool:
        """A stopped run: its checkpoint is there and it has epochs left to train."""
        return self.paths.last.is_file() and bool(self.config) and self.epochs_done < self.epochs_planned


def run_folder_name(dataset: str | os.PathLike, variant: str, when: datetime | None = None) -> str:
    """``2026-11-24_19-05-12_flowers_b0``: sorts by time, says what was trained."""
    stamp = (when or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    name = _UNSAFE.sub("-", Path(dataset).name).strip("-.") or "dataset"
    return f"{stamp}_{name[:40]}_{variant}"


def new_run_dir(root: str | os.PathLike, dataset: str | os.PathLike, variant: str, when: datetime | None = None) -> Path:
    """Create and return a fresh, empty run folder under ``root`` (a suffix keeps names unique)."""
    root = Path(root).expanduser()
    base = run_folder_name(dataset, variant, when)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            path = root / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as e:
        raise StudioError(f"No run folder can be made in {root} ({e.strerror or e}); choose another runs folder.") from None
    raise StudioError(f"{root} already holds too many runs named {base}; choose another runs folder.")


def read_metrics_csv(path: str | os.PathLike) -> tuple[EpochMetrics, ...]:
    """The epochs of a run's metrics.csv (``epochs`` is unknown there: it is set to the last epoch)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as e:  # not text: a broken table must not stop the listing of the others
        raise StudioError(f"{path}: the metrics table is damaged ({type(e).__name__}).") from None

    def number(value: str | None) -> float | None:
        return None if value in (None, "") else float(value)

    def flag(value: str | None) -> bool:
        return str(value).strip().lower() in ("true", "1")

    try:
        epochs = [int(r["epoch"]) for r in rows]
        last = max(epochs, default=0)
        return tuple(
            EpochMetrics(
                epoch=e, epochs=last, train_loss=float(r["train_loss"]), train_acc=float(r["train_acc"]),
                val_loss=number(r.get("val_loss")), val_acc=number(r.get("val_acc")), lr=float(r["lr"]),
                seconds=float(r.get("seconds") or 0.0), is_best=flag(r.get("is_best")),
                backbone_frozen=flag(r.get("backbone_frozen")),
                val_macro_f1=number(r.get("val_macro_f1")), ema=flag(r.get("ema")),  # absent in older runs
            )
            for e, r in zip(epochs, rows)
        )
    except (KeyError, TypeError, ValueError) as e:
        raise StudioError(f"{path}: the metrics table is damaged ({type(e).__name__}: {e}).") from None


def _newest_mtime(paths: RunPaths) -> float:
    stamps = [p.stat().st_mtime for p in (paths.model, paths.last, paths.metrics, paths.evaluation) if p.exists()]
    return max(stamps, default=paths.root.stat().st_mtime)


def planned_epochs(last: Path) -> int | None:
    """The epochs a run's checkpoint was set to train, or None. Memory-mapped: the weights stay on disk."""
    import torch

    try:
        obj = torch.load(last, map_location="cpu", weights_only=True, mmap=True)
        return int(obj["bundle"]["config"]["epochs"])
    except Exception:  # damaged, foreign or older: the list just says less; opening the run says why
        return None


def summarize_run(path: str | os.PathLike) -> RunSummary | None:
    """A run folder's summary from its metrics table; None when the folder holds no run."""
    paths = RunPaths(Path(path))
    if not (paths.holds_a_run() or paths.metrics.is_file()):
        return None
    history: tuple[EpochMetrics, ...] = ()
    if paths.metrics.is_file():
        try:
            history = read_metrics_csv(paths.metrics)
        except (OSError, StudioError):
            history = ()  # still listed: opening it says what is wrong
    accs = [h.val_acc for h in history if h.val_acc is not None]
    return RunSummary(
        path=paths.root,
        name=paths.root.name,
        epochs_done=history[-1].epoch if history else 0,
        best_val_acc=max(accs) if accs else None,
        has_model=paths.model.is_file() and bool(history),
        has_checkpoint=paths.last.is_file(),
        modified=_newest_mtime(paths),
        epochs_planned=planned_epochs(paths.last) if paths.last.is_file() else None,
        test_acc=_test_accuracy(paths.test_evaluation),
    )


def _test_accuracy(path: Path) -> float | None:
    """The accuracy in a run's test_evaluation.json; None when there is none or it cannot be read (opening
    the run says why)."""
    try:
        accuracy = json.loads(path.read_text(encoding="utf-8"))["accuracy"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(accuracy) if isinstance(accuracy, (int, float)) and 0 <= accuracy <= 1 else None


def list_runs(root: str | os.PathLike) -> list[RunSummary]:
    """Every run folder directly under ``root``, newest first; [] when ``root`` does not exist yet."""
    root = Path(root).expanduser()
    if not root.is_dir():
        return []
    runs = []
    for entry in root.iterdir():
        try:
            summary = summarize_run(entry) if entry.is_dir() and not entry.name.startswith(".") else None
        except OSError:
            continue  # a folder that vanished or cannot be read is not a run we can show
        if summary is not None:
            runs.append(summary)
    return sorted(runs, key=lambda r: (r.modified, r.name), reverse=True)


def read_run(path: str | os.PathLike) -> RunRecord:
    """A run's curves, evaluation and settings; a file that cannot be read becomes a note, not an error."""
    from model.nets.bundle import load_bundle
    from model.training.checkpoint import load_checkpoint

    paths = RunPaths(Path(path).expanduser())
    if not paths.root.is_dir():
        raise StudioError(f"{paths.root}: the run folder is gone; it may have been moved or deleted.")
    notes: list[str] = []
    config: dict = {}
    class_names: list[str] = []
    bundle_history: list[dict] = []
    # last.pt holds the latest settings (a resume may have added epochs); model.pt is the fallback.
    for source, load in ((paths.last, lambda p: load_checkpoint(p).bundle), (paths.model, load_bundle)):
        if source.is_file():
            try:
                bundle = load(source)
            except BundleError as e:
                notes.append(str(e))
                continue
            config, class_names, bundle_history = dict(bundle.config), list(bundle.class_names), list(bundle.history)
            break

    history: tuple[EpochMetrics, ...] = ()
    if paths.metrics.is_file():
        try:
            history = read_metrics_csv(paths.metrics)
        except (OSError, StudioError) as e:
            notes.append(str(e) if isinstance(e, StudioError) else f"{paths.metrics}: cannot be read ({e}).")
    if not history and bundle_history:
        history = history_events(bundle_history)
    planned = int(config.get("epochs") or 0)
    if planned and history:
        history = tuple(replace(h, epochs=planned) for h in history)

    evaluation = _read_evaluation(paths.evaluation, notes)
    if not class_names and evaluation is not None:
        class_names = list(evaluation.class_names)
    if not history and not config and evaluation is None:
        raise StudioError(f"{paths.root} holds no training run that can be read: {' '.join(notes) or 'no run files'}")
    return RunRecord(paths.root, history, evaluation, config, class_names, notes, _read_evaluation(paths.test_evaluation, notes))


def _read_evaluation(path: Path, notes: list[str]) -> Evaluation | None:
    """An evaluation file read back; None when there is none, or a note when it cannot be read."""
    if not path.is_file():
        return None
    try:
        return Evaluation.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as e:
        notes.append(f"{path}: the evaluation cannot be read ({type(e).__name__}).")
        return None


__all__ = [
    "RunRecord",
    "RunSummary",
    "list_runs",
    "new_run_dir",
    "read_metrics_csv",
    "read_run",
    "run_folder_name",
    "summarize_run",
]
