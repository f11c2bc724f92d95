"""The desktop entry, the icon files and the per-user installer."""

from __future__ import annotations

import configparser
import os
import sys

import pytest
from PySide6.QtGui import QImage

from app.platform import desktop_entry
from app.platform.resources import DESKTOP_FILE, ICON_SIZES, ICON_SVG, icon_png


def _entry(text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    parser.read_string(text)
    return parser["Desktop Entry"]


def test_shipped_entry_has_what_menus_need():
    entry = _entry(DESKTOP_FILE.read_text(encoding="utf-8"))
    assert entry["Type"] == "Application" and entry["Name"] == "EfficientNet Studio"
    assert entry["Exec"] == "efficientnet-studio %F" and entry["Icon"] == "efficientnet-studio"
    assert entry["Terminal"] == "false" and "image/jpeg" in entry["MimeType"]
    assert entry["Categories"].endswith(";")


@pytest.mark.parametrize("size", ICON_SIZES)
def test_icon_pngs_exist_at_every_size(size):
    image = QImage(str(icon_png(size)))
    assert (image.width(), image.height()) == (size, size)
    centre = image.pixelColor(size // 2, size // 2)
    assert centre.alpha() == 255  # drawn, not transparent


def test_svg_icon_is_there():
    assert ICON_SVG.read_text(encoding="utf-8").lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    "arg, quoted",
    [
        ("/usr/bin/efficientnet-studio", "/usr/bin/efficientnet-studio"),
        ("/home/a b/venv/bin/python", '"/home/a b/venv/bin/python"'),
        ('/weird/"quote"$x', '"/weird/\\"quote\\"\\$x"'),
        ("/100%/main.py", "/100%%/main.py"),
    ],
)
def test_exec_arguments_are_quoted_per_the_spec(arg, quoted):
    assert desktop_entry.quote_exec_arg(arg) == quoted


def test_install_writes_entry_and_icons_and_uninstall_removes_them(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setattr(desktop_entry, "_refresh_caches", lambda root: None)
    report = desktop_entry.install()
    desktop = tmp_path / "share" / "applications" / "efficientnet-studio.desktop"
    assert report.desktop_file == desktop and desktop.is_file() and os.access(desktop, os.X_OK)
    entry = _entry(desktop.read_text(encoding="utf-8"))
    assert entry["Exec"].endswith(" %F")
    command = report.command
    assert entry["TryExec"] == command[0] and os.path.isabs(command[0])
    assert command[0].endswith("efficientnet-studio") or command[-1].endswith("main.py")
    hicolor = tmp_path / "share" / "icons" / "hicolor"
    assert (hicolor / "scalable" / "apps" / "efficientnet-studio.svg").is_file()
    for size in ICON_SIZES:
        assert (hicolor / f"{size}x{size}" / "apps" / "efficientnet-studio.png").is_file()

    removed = desktop_entry.uninstall()
    assert not desktop.exists() and len(removed.icons) == len(ICON_SIZES) + 1


def test_launch_command_prefers_the_installed_script(tmp_path, monkeypatch):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "efficientnet-studio"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    assert desktop_entry.launch_command() == [str(script)]
    script.unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    command = desktop_entry.launch_command()
    assert command[0] == str(bin_dir / "python") and command[1].endswith("main.py")


def test_command_line_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(desktop_entry, "_refresh_caches", lambda root: None)
    assert desktop_entry.main(["install"]) == 0
    assert "Installed" in capsys.readouterr().out
    assert (tmp_path / "applications" / "efficientnet-studio.desktop").is_file()
