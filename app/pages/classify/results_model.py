"""The classification results as a Qt list model, and their export to CSV.

One row per image file: waiting, classified (top-k labels and probabilities) or
failed (the backend's one-sentence reason). Predictions arrive in bursts from
the worker; ``set_predictions`` applies a burst with one ``dataChanged``.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QImage

PredictionRole = Qt.ItemDataRole.UserRole + 1
ThumbnailRole = Qt.ItemDataRole.UserRole + 2
StateRole = Qt.ItemDataRole.UserRole + 3


class RowState(Enum):
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class ResultRow:
    path: str
    state: RowState = RowState.WAITING
    prediction: object = None  # model.inference.predict.Prediction
    thumbnail: QImage | None = None

    @property
    def error(self) -> str | None:
        if self.state is RowState.FAILED:
            return getattr(self.prediction, "error", None)
        if self.state is RowState.CANCELLED:
            return "Not classified: the batch was cancelled."
        return None


def short_error(path: str, error: str) -> str:
    """The backend's message without the path the row already shows."""
    prefix = f"{path}: "
    return error[len(prefix):] if error.startswith(prefix) else error


class ResultsModel(QAbstractListModel):
    """Rows of ``ResultRow``; the delegate draws them, the page fills them in."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[ResultRow] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(row.path) or row.path
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.path if row.error is None else f"{row.path}\n{short_error(row.path, row.error)}"
        if role == PredictionRole:
            return row.prediction
        if role == ThumbnailRole:
            return row.thumbnail
        if role == StateRole:
            return row.state.value
        return None

    def row(self, index: int) -> ResultRow:
        return self._rows[index]

    def rows(self) -> list[ResultRow]:
        return list(self._rows)

    def add_files(self, paths: list[str]) -> int:
        """Append waiting rows; returns the index of the first new row."""
        first = len(self._rows)
        if paths:
            self.beginInsertRows(QModelIndex(), first, first + len(paths) - 1)
            self._rows.extend(ResultRow(p) for p in paths)
            self.endInsertRows()
        return first

    def set_predictions(self, updates: list[tuple[int, object]]) -> None:
        """Fill in rows from ``(row, Prediction)`` pairs."""
        if not updates:
            return
        for index, prediction in updates:
            row = self._rows[index]
            row.prediction = prediction
            row.state = RowState.FAILED if prediction.error else RowState.DONE
        lo = min(i for i, _ in updates)
        hi = max(i for i, _ in updates)
        self.dataChanged.emit(self.index(lo), self.index(hi))

    def set_thumbnail(self, index: int, image: QImage) -> None:
        if 0 <= index < len(self._rows):
            self._rows[index].thumbnail = image
            self.dataChanged.emit(self.index(index), self.index(index), [ThumbnailRole])

    def mark_cancelled(self, first: int) -> int:
        """Rows from ``first`` on that never got a result; returns how many."""
        changed = [i for i in range(first, len(self._rows)) if self._rows[i].state is RowState.WAITING]
        for i in changed:
            self._rows[i].state = RowState.CANCELLED
        if changed:
            self.dataChanged.emit(self.index(changed[0]), self.index(changed[-1]))
        return len(changed)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()

    def count(self, state: RowState) -> int:
        return sum(1 for r in self._rows if r.state is state)


def summary_text(rows: list[ResultRow], running: bool, busy_seconds: float = 0.0) -> str:
    """"12 of 40 images classified · 1 could not be read · 35 ms per image" ("" without rows).

    The time per image is wall-clock time (``busy_seconds``, from drop to last
    result) over the files handled: what the user waited. The per-file times
    add up to more when several files are classified at once.
    """
    if not rows:
        return ""
    done = sum(1 for r in rows if r.state is RowState.DONE)
    failed = sum(1 for r in rows if r.state is RowState.FAILED)
    parts = [f"{done} of {len(rows)} images classified"]
    if failed:
        parts.append(f"{failed} could not be read")
    if done and not running and busy_seconds > 0:
        parts.append(f"{1000 * busy_seconds / (done + failed):.0f} ms per image")
    return " · ".join(parts)


def write_csv(path: str | os.PathLike, rows: list[ResultRow], top_k: int = 5) -> int:
    """Write one line per classified or failed image; returns the number of lines written."""
    header = ["path"]
    for k in range(1, top_k + 1):
        header += [f"label_{k}", f"probability_{k}"]
    header += ["seconds", "error"]
    written = 0
    target = Path(path)
    tmp = target.with_name(target.name + ".partial")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        for row in rows:
            if row.state is RowState.WAITING:
                continue
            line = [row.path]
            pred = row.prediction
            labels = list(pred.labels) if pred is not None and not row.error else []
            scores = list(pred.scores) if pred is not None and not row.error else []
            for k in range(top_k):
                line += [labels[k], f"{scores[k]:.6f}"] if k < len(labels) else ["", ""]
            seconds = f"{pred.seconds:.4f}" if pred is not None and row.state is RowState.DONE else ""
            line += [seconds, short_error(row.path, row.error) if row.error else ""]
            out.writerow(line)
            written += 1
    tmp.replace(target)  # never leave half a CSV where the user asked for one
    return written
