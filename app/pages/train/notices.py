"""The Train page's notices: the latest few sentences about the run, under the progress row.

Workers, the run browser and the page itself post (level, sentence) pairs here;
only the newest ``MAX_NOTICES`` are shown, warnings marked with ⚠.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QWidget

MAX_NOTICES = 4  # the latest few lines; older ones were read already


class NoticeBoard(QLabel):
    """Every notice of the run shown in ``notices``, the newest few on screen; hidden while there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notices: list[tuple[str, str]] = []  # (level, text): "info" | "warning"
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.hide()

    @Slot(str, str)
    def add(self, level: str, text: str) -> None:
        self.notices.append((level, text))
        self._show()

    def clear_notices(self) -> None:
        """A new run, or another run opened: what was said about the last one no longer applies."""
        self.notices = []
        self._show()

    def _show(self) -> None:
        lines = [f"{'⚠ ' if level == 'warning' else ''}{escape(text)}" for level, text in self.notices[-MAX_NOTICES:]]
        self.setText("<br>".join(lines))
        self.setVisible(bool(lines))
