"""The doctor's findings as lists with thumbnails, worst first: one list per kind of problem.

A ``Finding`` is one row: the image it is about (an index into the report's
items), what to show, and the class it should probably be in. The lists only
display; what a key or a button does is decided by the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QTabWidget

ICON = 56
KINDS = ("labels", "duplicates", "outliers")
TITLES = {"labels": "Labels", "duplicates": "Duplicates", "outliers": "Outliers"}


@dataclass
class Finding:
    """One row: ``index`` is the image the actions apply to; ``suggested`` a class index or None."""

    kind: str
    index: int
    text: str
    score: float
    suggested: int | None = None
    status: str = ""  # "", or what was done: "moved to 7", "excluded", "kept"


def findings_of(report) -> dict[str, list[Finding]]:
    """The report's label issues, duplicate groups and outliers as rows, worst first."""
    cls = {name: i for i, name in enumerate(report.classes)}
    labels = [
        Finding("labels", i.index, f"probably {i.suggested}, labelled {i.given}\n{i.path}", i.score, cls[i.suggested])
        for i in report.label_issues
    ]
    dups = []
    for d in report.duplicates:
        keep, *copies = d.paths
        leak = " · LEAK across splits" if d.across_splits else ""
        for idx, path in zip(d.indices[1:], copies):
            dups.append(Finding("duplicates", idx, f"copy of {keep} ({d.similarity:.3f}){leak}\n{path}", d.similarity))
    outliers = [Finding("outliers", o.index, f"{o.reason}\n{o.path}", o.score) for o in report.outliers]
    return {"labels": labels, "duplicates": dups, "outliers": outliers}


class FindingsTabs(QTabWidget):
    """A tab per kind of finding, each a list of rows with a thumbnail."""

    selected = Signal(object)  # Finding, or None when nothing is selected

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[Finding]] = {k: [] for k in KINDS}
        self.lists: dict[str, QListWidget] = {}
        for kind in KINDS:
            view = QListWidget()
            view.setObjectName(f"doctor-{kind}")
            view.setIconSize(QSize(ICON, ICON))
            view.setUniformItemSizes(True)
            view.setWordWrap(True)
            view.setTextElideMode(Qt.TextElideMode.ElideLeft)  # the end of a path is the telling part
            view.currentRowChanged.connect(self._on_row)
            self.lists[kind] = view
            self.addTab(view, TITLES[kind])
        self.currentChanged.connect(self._on_row)

    @property
    def kind(self) -> str:
        return KINDS[max(0, self.currentIndex())]

    @property
    def view(self) -> QListWidget:
        return self.lists[self.kind]

    def show_findings(self, rows: dict[str, list[Finding]]) -> None:
        self.rows = rows
        for kind, view in self.lists.items():
            view.blockSignals(True)
            view.clear()
            for f in rows[kind]:
                item = QListWidgetItem(f.text)
                item.setToolTip(f"score {f.score:.3f}")
                view.addItem(item)
            view.blockSignals(False)
            self.setTabText(KINDS.index(kind), f"{TITLES[kind]} ({len(rows[kind])})")
        first = next((k for k in KINDS if rows[k]), KINDS[0])
        self.setCurrentIndex(KINDS.index(first))
        if rows[first]:
            self.lists[first].setCurrentRow(0)
        self._on_row()

    def current(self) -> Finding | None:
        row = self.view.currentRow()
        rows = self.rows[self.kind]
        return rows[row] if 0 <= row < len(rows) else None

    def set_thumbnail(self, index: int, image: QImage) -> None:
        """Put the thumbnail of image ``index`` on every row about it."""
        icon = QIcon(QPixmap.fromImage(image))
        for kind, rows in self.rows.items():
            for row, f in enumerate(rows):
                if f.index == index:
                    self.lists[kind].item(row).setIcon(icon)

    def mark(self, finding: Finding, status: str) -> None:
        """Show what was done to ``finding``'s image on every row about it ("" clears it)."""
        for kind, rows in self.rows.items():
            for row, f in enumerate(rows):
                if f.index == finding.index:
                    f.status = status
                    item = self.lists[kind].item(row)
                    item.setText(f"✓ {status} · {f.text}" if status else f.text)
                    item.setForeground(QBrush(QColor("#888888")) if status else QBrush())

    def advance(self) -> None:
        """Select the next row (people go through hundreds; each fix moves on)."""
        view = self.view
        if view.currentRow() + 1 < view.count():
            view.setCurrentRow(view.currentRow() + 1)

    def select_image(self, index: int) -> bool:
        """Select the first row about image ``index`` (in any list); False when it is in none."""
        for kind in KINDS:
            for row, f in enumerate(self.rows[kind]):
                if f.index == index:
                    self.setCurrentIndex(KINDS.index(kind))
                    self.lists[kind].setCurrentRow(row)
                    self.lists[kind].scrollToItem(self.lists[kind].item(row))
                    return True
        return False

    def _on_row(self, *_):
        self.selected.emit(self.current())

    def focus_list(self) -> None:
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
