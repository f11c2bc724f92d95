"""Check that the system libraries Qt's X11 (xcb) plugin needs are installed, before Qt starts.

On a fresh Debian or Ubuntu desktop, PySide6's xcb platform plugin fails to load and Qt
names one missing library at a time ("xcb-cursor0 or libxcb-cursor0 is needed…"), then
the next one after that is installed. ``python -m app.platform.xcb_libraries`` (run by ``make run``)
asks ``ldd`` which libraries the plugin cannot find and prints one ``apt install`` line
that installs them all. It checks only where Qt would use xcb: Linux with an X display.
Importing this module imports no Qt.

``APT_PACKAGES`` comes from the NEEDED entries of PySide6's ``libqxcb.so``,
``libQt6XcbQpa``, ``libQt6Gui``, ``libQt6Widgets`` and ``libQt6DBus`` (``readelf -d``),
each mapped to its Debian package with ``dpkg -S``. Packages that the listed ones depend
on (libxcb1, libx11-6, libxcb-util1, libxcb-shm0, libxcb-render0, libxcb-xkb1,
libxkbcommon0, libfreetype6) and those every Debian/Ubuntu system has (libc6, libstdc++6,
zlib1g, libzstd1) are left out: apt installs them with the others.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

APT_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-sync1",
    "libxcb-xfixes0",
    "libxkbcommon-x11-0",
    "libx11-xcb1",
    "libgl1",
    "libegl1",
    "libfontconfig1",
    "libglib2.0-0",
    "libdbus-1-3",
)
APT_LINE = "sudo apt install " + " ".join(APT_PACKAGES)

# The Debian package of each library that Qt's xcb plugin and the Qt libraries it loads link
# to, so that the message can say which packages are missing and not only which files.
PACKAGE_OF_LIBRARY = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")


def uses_xcb(env: Mapping[str, str], system: str) -> bool:
    """Whether Qt will load its xcb plugin: Linux, an X display, and no other platform asked for."""
    if system != "Linux" or not env.get("DISPLAY"):
        return False
    requested = env.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        # "xcb", "xcb:option=…" or a fallback list such as "wayland;xcb": the first one is tried first.
        return requested.split(";")[0].split(":")[0].strip() == "xcb"
    # Qt tries its Wayland plugin first in a Wayland session (XWayland sets DISPLAY there too).
    return not (env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland")


def xcb_plugin() -> Path | None:
    """PySide6's ``libqxcb.so``, found without importing PySide6; None if it is not there."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def missing_in_ldd_output(text: str) -> list[str]:
    """The libraries ``ldd`` reports as "not found", each once, in the order it lists them."""
    missing: list[str] = []
    for line in text.splitlines():
        match = _NOT_FOUND.match(line)
        if match and match.group(1) not in missing:
            missing.append(match.group(1))
    return missing


def run_ldd(path: Path) -> str | None:
    """``ldd``'s output for ``path``; None where there is no ldd (not glibc) or it fails."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        result = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout


def message(missing: list[str]) -> str:
    """What to tell the user: which libraries are missing and the one line that installs them."""
    named = [f"{lib} ({PACKAGE_OF_LIBRARY[lib]})" if lib in PACKAGE_OF_LIBRARY else lib for lib in missing]
    return (
        "EfficientNet Studio cannot open its window: Qt's X11 (xcb) plugin needs system libraries "
        f"that are not installed: {', '.join(named)}.\n"
        "On Debian or Ubuntu, install them all with:\n\n"
        f"    {APT_LINE}\n\n"
        "(Other distributions: install the packages that provide these files.)"
    )


def check(
    env: Mapping[str, str] | None = None,
    system: str | None = None,
    plugin: Callable[[], Path | None] = xcb_plugin,
    ldd: Callable[[Path], str | None] = run_ldd,
) -> list[str]:
    """The libraries Qt's xcb plugin would not find here; empty where xcb is not used or all is well."""
    env = os.environ if env is None else env
    system = platform.system() if system is None else system
    if not uses_xcb(env, system):
        return []
    path = plugin()
    if path is None:
        return []
    output = ldd(path)
    return missing_in_ldd_output(output) if output else []


def main() -> int:
    """Exit 1 with the apt line when libraries are missing, else 0 without a word."""
    missing = check()
    if missing:
        print(message(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
