"""EfficientNet Studio's desktop app (PySide6, pyqtgraph).

``main()`` is what ``python main.py``, the ``efficientnet-studio`` gui-script and
the desktop entry run. It shows the window first and only then loads torch and
the backend in a background thread (torch takes seconds to import), so the
window is on screen in well under a second. Importing this package imports
neither Qt nor torch.
"""

from __future__ import annotations

import argparse
import sys

ORGANISATION = "EfficientNet Studio"
APPLICATION = "efficientnet-studio"
DISPLAY_NAME = "EfficientNet Studio"
SCREENSHOT_TIMEOUT_MS = 180_000


def parse_args(argv: list[str], page_keys: tuple[str, ...]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="efficientnet-studio",
        description="EfficientNet Studio: classify photos, compare B0-B7, fine-tune, see SE attention.",
    )
    parser.add_argument("paths", nargs="*", help="images or folders to classify as soon as the model is ready")
    parser.add_argument(
        "--screenshot", metavar="FILE", help="render the fully loaded window at 1280x800 to a PNG file and exit"
    )
    parser.add_argument(
        "--page", choices=page_keys, help="the page to show first (default: Classify when images are given, else the last one used)"
    )
    args = parser.parse_args(argv)
    if args.page is None and args.paths and "classify" in page_keys:
        args.page = "classify"  # where their results appear
    return args


def create_application(argv: list[str] | None = None):
    """The QApplication with the names QSettings and the desktop use, and the app icon."""
    from PySide6.QtWidgets import QApplication

    from app.platform.refcount_guard import protect_singletons
    from app.platform.resources import APP_ID, app_icon

    protect_singletons()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(DISPLAY_NAME)
    app.setDesktopFileName(APP_ID)  # matches resources/efficientnet-studio.desktop (Wayland app id)
    app.setWindowIcon(app_icon())
    return app


def main(argv: list[str] | None = None) -> int:
    """Start the app: window first, backend in the background. Returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    from PySide6.QtCore import QTimer

    from app.platform.gc_policy import UiThreadGarbageCollection
    from app.main_window import PAGE_KEYS, MainWindow
    from app.settings import AppSettings

    args = parse_args(argv, PAGE_KEYS)
    app = create_application(sys.argv[:1])
    window = MainWindow(AppSettings(), page=args.page, remember=not args.screenshot)
    # Collections on the UI thread only, and never again through torch's objects (app/gc_policy.py).
    garbage_collection = UiThreadGarbageCollection(window.session.backend_loaded)
    # Whatever ends the event loop, no worker thread may outlive the application object.
    app.aboutToQuit.connect(window.pool.wait_all)
    app.aboutToQuit.connect(garbage_collection.stop)
    if args.screenshot:
        from app.platform.screenshot import Screenshot

        shot = Screenshot(window, args.screenshot, timeout_ms=SCREENSHOT_TIMEOUT_MS)
        shot.start(args.paths)
        status = app.exec()
        return status or shot.status
    window.show()
    QTimer.singleShot(0, window.start)  # once the window is on screen
    if args.paths:
        window.page("classify").classify_paths(args.paths)
    return app.exec()
