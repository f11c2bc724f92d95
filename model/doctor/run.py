"""Running the doctor: collect the images, get their features, analyse, report.

``diagnose`` is a generator of ``Progress`` events (each one a place to cancel)
whose return value is the ``DoctorReport``; ``diagnose_all`` runs it to the end.
``analyse`` is the doctor's own work on features already computed, shared by both
and timed by bench/doctor.py. Nothing here writes to the data set except the
feature cache under ``DATA_DIR/.studio/``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generator, Sequence

import numpy as np

from model.core.errors import StudioError
from model.core.events import Progress
from model.doctor.collect import collect
from model.doctor.duplicates import DuplicateFinding, find_duplicates, nearest, normalised, normalised_rows
from model.doctor.features import RANDOM_WARNING, FeatureSource, extract_features
from model.doctor.labels import LabelFindings, find_label_issues
from model.doctor.outliers import K, Imbalance, OutlierFinding, find_outliers, imbalance
from model.doctor.pixel_check import PixelCheck
from model.doctor.projection import principal_components, project_2d
from model.doctor.report import DoctorReport, DuplicateGroup, LabelIssue, Outlier

NEIGHBOUR_DIMS = 256  # principal components kept for neighbours, duplicates and the linear head


@dataclass
class Analysis:
    """What ``analyse`` finds, by index into the analysed rows."""

    unit: np.ndarray
    components: np.ndarray  # principal components of ``unit``, strongest first
    labels: LabelFindings
    duplicates: list[DuplicateFinding]
    outliers: list[OutlierFinding]
    imbalance: Imbalance

    @property
    def issue_mask(self) -> np.ndarray:
        return self.labels.flagged


def analyse(
    features: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    splits: Sequence[str],
    sizes: np.ndarray,
    hashes: Sequence[str],
    folds: int = 5,
    seed: int = 0,
    same_picture: Callable[[int, int], bool] | None = None,
) -> Analysis:
    """Label issues, duplicates, outliers and imbalance from features and facts about the files;
    ``same_picture`` confirms near duplicates by their pixels (``PixelCheck``) when the files are at hand."""
    labels = np.asarray(labels, dtype=np.int64)
    unit = normalised(features)
    components = principal_components(unit, NEIGHBOUR_DIMS)
    # Cosine similarity on the top components: nearly the full one, at a fifth of the cost.
    reduced = normalised_rows(components)
    neighbours = nearest(reduced, K) if len(unit) > 1 else (np.zeros((len(unit), 0), np.int64), np.zeros((len(unit), 0), np.float32))
    train = np.array([s == "train" for s in splits])
    return Analysis(
        unit,
        components,
        find_label_issues(components, labels, len(class_names), folds, seed),
        find_duplicates(neighbours, hashes, splits, same_picture=same_picture),
        find_outliers(neighbours[1], sizes),
        imbalance(class_names, labels[train] if train.any() else labels),
    )


def diagnose(
    data_dir: str | os.PathLike,
    source: FeatureSource | None = None,
    folds: int = 5,
    device: str = "auto",
    cancel: threading.Event | None = None,
) -> Generator[Progress, None, DoctorReport]:
    """Yield progress while diagnosing ``data_dir``; return the report. Never changes a data file."""
    source = source or FeatureSource()
    if folds < 2:
        raise StudioError(f"--folds must be at least 2 (got {folds}).")
    root = Path(data_dir).expanduser()
    yield Progress(0, 0, "Reading the folder…")
    coll = collect(root)
    items = coll.items
    features, ok, model_text = yield from extract_features(root, items, source, device, cancel)
    unreadable = list(coll.unreadable) + [(it.rel, "could not be decoded") for it, good in zip(items, ok) if not good]
    keep = np.flatnonzero(ok)
    items = [items[i] for i in keep]
    features = np.asarray(features[keep], dtype=np.float32)
    if cancel is not None and cancel.is_set():
        raise StudioError("The doctor was cancelled; nothing was changed.")
    yield Progress(0, 1, "Looking for wrong labels, duplicates and outliers…")
    found = analyse(
        features,
        np.array([it.label for it in items]),
        coll.class_names,
        [it.split for it in items],
        np.array([(it.width, it.height) for it in items]).reshape(-1, 2),
        [it.print.sha256 for it in items],
        folds,
        same_picture=PixelCheck([it.path for it in items]).same_picture,
    )
    embedding, method = project_2d(found.unit, found.components)
    yield Progress(1, 1, "Done.")
    return _report(root, coll.class_names, items, found, unreadable, model_text, source, embedding, method)


def _report(root, classes, items, found: Analysis, unreadable, model_text, source, embedding, method) -> DoctorReport:
    lab = found.labels
    issues = [
        LabelIssue(int(i), items[i].rel, classes[items[i].label], classes[int(lab.suggested[i])], float(lab.scores[i]))
        for i in np.flatnonzero(lab.flagged)
    ]
    issues.sort(key=lambda x: (-x.score, x.path))
    dups = [
        DuplicateGroup(tuple(d.members), tuple(items[i].rel for i in d.members), d.similarity, d.across_splits)
        for d in found.duplicates
    ]
    outliers = [Outlier(o.index, items[o.index].rel, o.score, o.reason) for o in found.outliers]
    warnings = [RANDOM_WARNING] if source.is_random else []
    if found.imbalance.warning:
        warnings.append(found.imbalance.warning)
    return DoctorReport(
        root, list(classes), items, issues, dups, outliers, found.imbalance, unreadable, model_text, warnings,
        found.unit, lab.probabilities, embedding, method,
    )


def diagnose_all(data_dir: str | os.PathLike, model=None, variant: str = "b0", weights: str = "imagenet", **kw) -> DoctorReport:
    """Run ``diagnose`` to the end and return its report."""
    gen = diagnose(data_dir, FeatureSource(model, variant, weights), **kw)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
