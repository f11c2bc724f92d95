"""The window's pages: ``Page``, the base of each, and ``add_action`` for their menus.

Each page is a package, ``app/pages/<page>/``: ``page.py`` with the page, and
next to it the page's workers, jobs, actions and the widgets only it uses.
What every page is given to work with is ``app.context.StudioContext``.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from app.context import StudioContext
from app.session import ModelSession
from app.settings import AppSettings


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
