"""The doctor's report: what it found, as records for the app and one JSON object for everyone else.

``DoctorReport.to_dict`` is the documented ``--json`` object (keys exactly as in
the README); ``save`` writes it, with the fingerprint of every file, to
``REPORT_DIR/report.json``. The in-memory report also keeps what the app needs
to show and fix: the images, their unit features and a 2-D embedding.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.core.atomic import atomic_write
from model.doctor.collect import Item
from model.doctor.outliers import Imbalance


@dataclass(frozen=True)
class LabelIssue:
    """An image whose label looks wrong: its index in ``items``, given and suggested class, score in [0, 1]."""

    index: int
    path: str
    given: str
    suggested: str
    score: float

    def to_dict(self) -> dict:
        return {"path": self.path, "given": self.given, "suggested": self.suggested, "score": round(self.score, 4)}


@dataclass(frozen=True)
class DuplicateGroup:
    indices: tuple[int, ...]
    paths: tuple[str, ...]
    similarity: float
    across_splits: bool

    def to_dict(self) -> dict:
        return {"paths": list(self.paths), "similarity": self.similarity, "across_splits": self.across_splits}


@dataclass(frozen=True)
class Outlier:
    index: int
    path: str
    score: float
    reason: str

    def to_dict(self) -> dict:
        return {"path": self.path, "score": round(self.score, 4), "reason": self.reason}


@dataclass
class DoctorReport:
    """Everything the doctor found in one data set. It never changed a file to find it."""

    root: Path
    classes: list[str]
    items: list[Item]
    label_issues: list[LabelIssue]
    duplicates: list[DuplicateGroup]
    outliers: list[Outlier]
    imbalance: Imbalance
    unreadable: list[tuple[str, str]]
    model: str = ""  # which features: "bundle model.pt", "ImageNet weights", …
    warnings: list[str] = field(default_factory=list)
    unit_features: np.ndarray | None = None  # [n, dim], centred and unit length: cosine = dot product
    probabilities: np.ndarray | None = None  # [n, classes], out of fold
    embedding: np.ndarray | None = None  # [n, 2]
    embedding_method: str = "PCA"

    @property
    def images(self) -> int:
        return len(self.items)

    def to_dict(self) -> dict:
        return {
            "images": self.images,
            "classes": list(self.classes),
            "label_issues": [i.to_dict() for i in self.label_issues],
            "duplicates": [d.to_dict() for d in self.duplicates],
            "outliers": [o.to_dict() for o in self.outliers],
            "imbalance": self.imbalance.to_dict(),
            "unreadable": [{"path": p, "error": e} for p, e in self.unreadable],
        }

    def save(self, folder: str | Path) -> Path:
        """Write ``report.json`` (the JSON object plus the model, warnings and each file's fingerprint)."""
        data = self.to_dict()
        data["model"] = self.model
        data["warnings"] = list(self.warnings)
        data["made"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        data["files"] = {it.rel: it.print.to_dict() for it in self.items}
        path = Path(folder) / "report.json"
        return atomic_write(path, lambda f: f.write(json.dumps(data, indent=1, ensure_ascii=False)), binary=False)

    def flagged_indices(self) -> set[int]:
        """Every image that appears in a label issue, a duplicate group or an outlier."""
        out = {i.index for i in self.label_issues} | {o.index for o in self.outliers}
        for d in self.duplicates:
            out.update(d.indices)
        return out

    def neighbours_in_class(self, index: int, label: int, k: int = 3) -> list[int]:
        """The ``k`` images of class ``label`` most similar to image ``index`` (itself excluded)."""
        if self.unit_features is None:
            return []
        members = np.flatnonzero(np.fromiter((it.label == label for it in self.items), bool, len(self.items)))
        members = members[members != index]
        if not len(members):
            return []
        sims = self.unit_features[members] @ self.unit_features[index]
        return [int(members[j]) for j in np.argsort(-sims)[:k]]
