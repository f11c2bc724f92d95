"""``--screenshot FILE``: render the fully loaded window at 1280×800 to a PNG, then quit.

The window is shown without being mapped on screen, the backend and model load
as usual, and the picture is taken once the window reports that everything has
settled (or, failing that, after a time limit, with a warning), so README
pictures and smoke tests show the real, finished state.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication

from app.main_window import SCREENSHOT_SIZE, MainWindow

SETTLE_DELAY_MS = 300  # let the last repaint (chart, thumbnails) happen before grabbing


class Screenshot(QObject):
    """Drives one screenshot of ``window`` into ``path``; ``status`` is 0 once it is written."""

    def __init__(self, window: MainWindow, path: str, timeout_ms: int = 180_000) -> None:
        super().__init__(window)
        self.window = window
        self.path = Path(path)
        self.timeout_ms = timeout_ms
        self.status = 1
        self.taken = False

    def start(self, paths: list[str] | None = None) -> None:
        window = self.window
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        window.resize(*SCREENSHOT_SIZE)
        window.show()
        window.settled.connect(self._on_settled)
        QTimer.singleShot(self.timeout_ms, self._on_timeout)
        window.start()
        if paths:
            window.page("classify").classify_paths(paths)
        else:
            window.tabs.currentWidget().prepare_screenshot()

    @Slot()
    def _on_settled(self) -> None:
        QTimer.singleShot(SETTLE_DELAY_MS, self.capture)

    @Slot()
    def _on_timeout(self) -> None:
        if not self.taken:
            print(f"warning: the window had not settled after {self.timeout_ms / 1000:.0f} s; capturing anyway",
                  file=sys.stderr)
            self.capture()

    @Slot()
    def capture(self) -> None:
        if self.taken:
            return
        self.taken = True
        target = QSize(*SCREENSHOT_SIZE)
        image = self.window.grab().toImage()
        if image.size() != target:  # a high-DPI screen renders more pixels; the PNG stays 1280×800
            image = image.scaled(target, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if image.save(str(self.path), "PNG"):
            self.status = 0
            print(self.path)
        else:
            print(f"error: could not write {self.path}", file=sys.stderr)
        self.window.close()
        QApplication.instance().exit(self.status)
