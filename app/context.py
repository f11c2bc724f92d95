"""``StudioContext``: the shared services the main window hands to every page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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
