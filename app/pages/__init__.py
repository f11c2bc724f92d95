"""The window's pages, and what every page is given to work with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from app.session import ModelSession
from app.settings import AppSettings
from app.workers import WorkerPool


@dataclass
class StudioContext:
    """Shared services handed to each page by the main window."""

    settings: AppSettings
    session: ModelSession
    pool: WorkerPool
    show_page: Callable[[str], None]  # switch the window to another page by key
    has_page: Callable[[str], bool]  # whether a page with that key is in this window
    show_message: Callable[[str], None]  # a transient line in the status bar
    page_named: Callable[[str], object] = lambda key: None  # another page by key (None when absent)


def add_action(menu: QMenu, owner: QWidget, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    """A menu entry with its shortcut and status-bar tip, triggering ``slot``."""
    action = QAction(text, owner)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setStatusTip(tip)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


class Page(QWidget):
    """A top-level page of the window. Subclasses set ``key`` and ``title`` and may fill a menu."""

    key = ""
    title = ""
    tooltip = ""

    def __init__(self, context: StudioContext) -> None:
        super().__init__()
        self.context = context

    @property
    def settings(self) -> AppSettings:
        return self.context.settings

    @property
    def session(self) -> ModelSession:
        return self.context.session

    def fill_menu(self, menu: QMenu) -> None:
        """Add this page's actions (with shortcuts) to its menu in the menu bar."""

    def prepare_screenshot(self) -> None:
        """Give the page something real to show when ``--screenshot`` opens on it (e.g. a sample image)."""

    def is_settled(self) -> bool:
        """True when nothing the page started is still pending (screenshots wait for this)."""
        return True
