"""The check `make run` does before Qt starts: the X11 libraries Qt's xcb plugin cannot find."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.platform import xcb_libraries
from app.platform.xcb_libraries import APT_LINE, APT_PACKAGES, PACKAGE_OF_LIBRARY, check, message, uses_xcb

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = Path("/venv/PySide6/Qt/plugins/platforms/libqxcb.so")

# ldd's output for libqxcb.so on a Debian 12 desktop without libxcb-icccm4 and libxcb-keysyms1
# (trimmed); ldd lists a library once for each library that needs it.
LDD_TWO_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd6b1f5000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f2a1c000000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f2a1bff0000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f2a1bfe0000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2a1ba00000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f2a1c200000)
"""
LDD_ALL_FOUND = "\n".join(line for line in LDD_TWO_MISSING.splitlines() if "not found" not in line)
X11 = {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}


def _check(ldd_output: str | None, env=X11, system="Linux", plugin=PLUGIN) -> tuple[list[str], list[Path]]:
    asked: list[Path] = []

    def fake_ldd(path: Path) -> str | None:
        asked.append(path)
        return ldd_output

    return check(env=env, system=system, plugin=lambda: plugin, ldd=fake_ldd), asked


def test_missing_libraries_are_named_once_each_in_ldd_order():
    missing, asked = _check(LDD_TWO_MISSING)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert asked == [PLUGIN]


def test_nothing_is_missing_when_ldd_finds_everything():
    assert _check(LDD_ALL_FOUND)[0] == []


@pytest.mark.parametrize(
    "env, system",
    [
        ({"DISPLAY": ":0"}, "Darwin"),
        ({"DISPLAY": ":0"}, "Windows"),
        ({}, "Linux"),  # no X display: nothing for xcb to connect to
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "Linux"),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"}, "Linux"),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "Linux"),
    ],
)
def test_no_check_where_qt_does_not_use_xcb(env, system):
    missing, asked = _check(LDD_TWO_MISSING, env=env, system=system)
    assert missing == [] and asked == []  # ldd is not even run


@pytest.mark.parametrize(
    "env",
    [
        {"DISPLAY": ":0"},
        {"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"},
        {"DISPLAY": ":1", "QT_QPA_PLATFORM": "xcb:nomitshm"},
        # Asked for explicitly, xcb is used in a Wayland session too.
        {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"},
    ],
)
def test_xcb_is_checked_on_linux_under_x11(env):
    assert uses_xcb(env, "Linux")
    assert _check(LDD_TWO_MISSING, env=env)[0] == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_no_plugin_or_no_ldd_means_no_verdict():
    assert _check(LDD_TWO_MISSING, plugin=None)[0] == []
    assert _check(None)[0] == []  # no ldd (not glibc) or ldd failed


def test_message_names_files_and_packages_and_gives_the_apt_line():
    text = message(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libunknown.so.3"])
    assert "libxcb-icccm.so.4 (libxcb-icccm4)" in text and "libxcb-keysyms.so.1 (libxcb-keysyms1)" in text
    assert "libunknown.so.3" in text
    assert f"\n    {APT_LINE}\n" in text
    assert "qt.qpa" not in text and "Traceback" not in text


def test_every_library_maps_to_a_package_the_apt_line_installs_or_pulls_in():
    # The line lists top-level packages; these are dependencies of the listed ones.
    pulled_in = {"libxcb1", "libx11-6", "libxcb-util1", "libxcb-shm0", "libxcb-render0", "libxcb-xkb1",
                 "libxkbcommon0", "libfreetype6"}
    assert set(PACKAGE_OF_LIBRARY.values()) == set(APT_PACKAGES) | pulled_in
    assert APT_LINE.startswith("sudo apt install libxcb-cursor0 ")


def test_readme_gives_the_same_apt_line():
    assert APT_LINE in (ROOT / "README.md").read_text(encoding="utf-8")


def test_main_prints_the_line_and_fails_when_libraries_are_missing(monkeypatch, capsys):
    monkeypatch.setattr(xcb_libraries, "check", lambda: ["libxcb-icccm.so.4"])
    assert xcb_libraries.main() == 1
    assert APT_LINE in capsys.readouterr().err
    monkeypatch.setattr(xcb_libraries, "check", lambda: [])
    assert xcb_libraries.main() == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd and libqxcb.so are Linux-only")
def test_real_plugin_every_missing_library_has_a_package():
    """On this machine: ldd on PySide6's real plugin; whatever it lacks, the table names."""
    plugin = xcb_libraries.xcb_plugin()
    if plugin is None:
        pytest.skip("this PySide6 has no xcb plugin")
    output = xcb_libraries.run_ldd(plugin)
    if output is None:
        pytest.skip("no ldd")
    assert "libQt6XcbQpa.so.6" in output
    for library in xcb_libraries.missing_in_ldd_output(output):
        assert library in PACKAGE_OF_LIBRARY


def test_module_runs_without_importing_qt():
    code = (
        "import sys, app.platform.xcb_libraries as x; x.check(env={'DISPLAY': ':0'}, system='Linux');"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
