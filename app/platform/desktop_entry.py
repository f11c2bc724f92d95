"""Install EfficientNet Studio in the current user's application menu.

``python -m app.platform.desktop_entry install`` writes the desktop entry to
``$XDG_DATA_HOME/applications`` and the icon (SVG and PNG sizes) to the user's
hicolor icon theme, so the app can be started with a double-click. The entry
runs the installed ``efficientnet-studio`` script of this Python environment,
or ``python main.py`` of this checkout when the script is not installed.
``uninstall`` removes exactly those files. No Qt is needed for either.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app.platform.resources import APP_ID, DESKTOP_FILE, ICON_SIZES, ICON_SVG, icon_png
from model.core.atomic import atomic_path

CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass
class InstallReport:
    """What ``install`` wrote (or ``uninstall`` removed)."""

    desktop_file: Path
    icons: list[Path] = field(default_factory=list)
    command: list[str] = field(default_factory=list)


def data_home() -> Path:
    """The user's data folder: $XDG_DATA_HOME, else ~/.local/share."""
    env = os.environ.get("XDG_DATA_HOME")
    return Path(env) if env else Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """How the entry starts the app: the gui-script next to this interpreter, on PATH, or main.py."""
    script = Path(sys.executable).parent / APP_ID
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which(APP_ID)
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(sys.executable).absolute()), str(CHECKOUT / "main.py")]


def quote_exec_arg(arg: str) -> str:
    """Quote one argument of an Exec key as the Desktop Entry Specification asks."""
    arg = arg.replace("%", "%%")  # a literal percent sign is written %% in Exec
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    if not any(ch in reserved for ch in arg):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def render_entry(template: str, command: list[str]) -> str:
    """The shipped entry with Exec and TryExec pointing at ``command``."""
    exec_line = " ".join(quote_exec_arg(a) for a in command) + " %F"
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line}"
        elif line.startswith("TryExec="):
            line = f"TryExec={command[0]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _targets(root: Path) -> tuple[Path, list[tuple[Path, Path]]]:
    desktop = root / "applications" / f"{APP_ID}.desktop"
    hicolor = root / "icons" / "hicolor"
    icons = [(ICON_SVG, hicolor / "scalable" / "apps" / f"{APP_ID}.svg")]
    icons += [(icon_png(s), hicolor / f"{s}x{s}" / "apps" / f"{APP_ID}.png") for s in ICON_SIZES]
    return desktop, icons


def install(root: Path | None = None) -> InstallReport:
    """Write the desktop entry and the icons under ``root`` (default: the user's data folder)."""
    root = root or data_home()
    desktop, icons = _targets(root)
    command = launch_command()
    report = InstallReport(desktop, command=command)
    for source, target in icons:
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            report.icons.append(target)
    desktop.parent.mkdir(parents=True, exist_ok=True)
    text = render_entry(DESKTOP_FILE.read_text(encoding="utf-8"), command)
    with atomic_path(desktop) as tmp:
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o755)  # some file managers only launch entries marked executable
    _refresh_caches(root)
    return report


def uninstall(root: Path | None = None) -> InstallReport:
    """Remove what ``install`` wrote; files that are not there are skipped."""
    root = root or data_home()
    desktop, icons = _targets(root)
    report = InstallReport(desktop)
    for path in [desktop] + [target for _, target in icons]:
        if path.is_file():
            path.unlink()
            if path != desktop:
                report.icons.append(path)
    _refresh_caches(root)
    return report


def _refresh_caches(root: Path) -> None:
    # Menus pick up new entries on their own; this only makes it immediate where the tool exists.
    tool = shutil.which("update-desktop-database")
    if tool:
        subprocess.run([tool, "-q", str(root / "applications")], check=False, timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.platform.desktop_entry", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("install", "uninstall"))
    args = parser.parse_args(argv)
    if args.action == "install":
        report = install()
        print(f"Installed {report.desktop_file}")
        print(f"  starts: {' '.join(report.command)}")
        print(f"  icons:  {len(report.icons)} files under {data_home() / 'icons' / 'hicolor'}")
    else:
        report = uninstall()
        print(f"Removed {report.desktop_file} and {len(report.icons)} icon files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
