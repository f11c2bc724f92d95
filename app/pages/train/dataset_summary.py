"""What a scanned dataset holds: classes and their image counts, skipped files with reasons, warnings."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from model.training.balance import balance_of_counts

MAX_TREE_HEIGHT = 180
EMPTY = "Choose a folder with one sub-folder of images per class (or drop it on this page)."


class DatasetSummary(QWidget):
    """A one-line summary, the warnings, and a tree: classes (open) and skipped files (folded)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = QLabel(EMPTY)
        self.headline.setWordWrap(True)
        self.balance_text = ""  # the imbalance sentence shown, when the classes are imbalanced
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        self.warnings.hide()
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)  # classes with their image counts, skipped files with their reasons
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.tree.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.warnings)
        layout.addWidget(self.tree)

    def _say(self, text: str, rich: bool = False) -> None:
        self.headline.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        self.headline.setText(text)

    def show_scanning(self, folder: str) -> None:
        self._say(f"Scanning {Path(folder).name}…")
        self.warnings.hide()
        self.tree.hide()

    def show_error(self, message: str) -> None:
        self._say(message)
        self.warnings.hide()
        self.tree.hide()

    def show_scan(self, scan) -> None:
        """Show a ``model.training.data.DatasetScan``."""
        val = len(scan.val_files) if scan.val_files is not None else 0
        total = len(scan.files) + val
        where = f" ({len(scan.files)} train + {val} in the validation folder)" if scan.val_files is not None else ""
        aside = f" · {scan.test_note()} (test/: scored only at the end)" if scan.test_note() else ""
        self._say(f"<b>{len(scan.class_names)} classes</b> · {total} images{escape(where)}{escape(aside)}", rich=True)
        self.tree.clear()
        classes = QTreeWidgetItem(self.tree, [f"Classes ({len(scan.class_names)})", str(len(scan.files))])
        for name in scan.class_names:
            QTreeWidgetItem(classes, [name, str(scan.counts.get(name, 0))])
        classes.setExpanded(True)
        if scan.skipped:
            skipped = QTreeWidgetItem(self.tree, [f"Skipped files ({len(scan.skipped)})", ""])
            for path, reason in scan.skipped:
                child = QTreeWidgetItem(skipped, [Path(path).name, reason])
                child.setToolTip(0, str(path))
                child.setToolTip(1, reason)
        for column in (0, 1):
            self.tree.resizeColumnToContents(column)
        # As tall as its rows (up to a limit), so a short list leaves no empty box behind.
        rows = 1 + len(scan.class_names) + (1 if scan.skipped else 0)
        row_height = self.tree.sizeHintForRow(0) or self.fontMetrics().height() + 4
        self.tree.setFixedHeight(min(MAX_TREE_HEIGHT, rows * row_height + 2 * self.tree.frameWidth() + 2))
        self.tree.show()
        warnings = list(scan.warnings)
        balance = balance_of_counts(scan.counts)
        if balance.imbalanced:
            # Our sentence says what training does about it; the scan's generic one would repeat it.
            warnings = [balance.describe()] + [w for w in warnings if not w.startswith("Classes are heavily imbalanced")]
        self.balance_text = balance.describe() if balance.imbalanced else ""
        if warnings:
            items = "".join(f"<li>{escape(w)}</li>" for w in warnings)
            self.warnings.setText(f"<ul style='margin-left:-24px'>{items}</ul>")
            self.warnings.show()
        else:
            self.warnings.hide()

    def class_rows(self) -> list[tuple[str, int]]:
        """(class, images) as shown (tests)."""
        top = self.tree.topLevelItem(0)
        if top is None:
            return []
        return [(top.child(i).text(0), int(top.child(i).text(1))) for i in range(top.childCount())]

    def skipped_rows(self) -> list[tuple[str, str]]:
        top = self.tree.topLevelItem(1)
        if top is None:
            return []
        return [(top.child(i).text(0), top.child(i).text(1)) for i in range(top.childCount())]
