"""Where the files the app ships (icon, desktop entry) are, and the app icon itself.

They live in the top-level ``resources/`` folder of a checkout; a wheel carries them
as ``app/assets/`` (see pyproject.toml), so an installed app finds them there.
"""

from __future__ import annotations

from pathlib import Path

import app

APP_ID = "efficientnet-studio"  # icon name, desktop file name and Wayland app id


def find_resources(package_dir: Path) -> Path:
    """The folder of shipped files for the ``app`` package at ``package_dir``: installed or checkout."""
    installed = package_dir / "assets"
    if (installed / f"{APP_ID}.desktop").is_file():
        return installed
    return package_dir.parent / "resources"


RESOURCES = find_resources(Path(app.__file__).resolve().parent)
ICON_SVG = RESOURCES / f"{APP_ID}.svg"
DESKTOP_FILE = RESOURCES / f"{APP_ID}.desktop"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def icon_png(size: int) -> Path:
    """The PNG rendering of the icon at ``size`` pixels (hicolor theme layout)."""
    return RESOURCES / "icons" / f"{size}x{size}" / f"{APP_ID}.png"


def sample_photos() -> list[Path]:
    """The photos the app ships (resources/samples), e.g. the inputs of the runtime agreement check."""
    return sorted((RESOURCES / "samples").glob("*.jpg"))


def app_icon():
    """The application icon: the PNG sizes for crisp small icons, the SVG for any other size."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for size in ICON_SIZES:
        path = icon_png(size)
        if path.is_file():
            icon.addFile(str(path))
    if ICON_SVG.is_file():
        icon.addFile(str(ICON_SVG))
    return icon
