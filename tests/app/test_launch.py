"""Launching: the window comes before torch, page names are checked, and --screenshot works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from app import parse_args

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path) -> dict:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # the user's real settings stay untouched
        TORCH_HOME=str(tmp_path / "torch"),
        EFFICIENTNET_STUDIO_CACHE=str(tmp_path / "cache"),
    )
    return env


def test_building_the_whole_window_does_not_import_torch(tmp_path):
    code = (
        "import sys\n"
        "import app, app.main_window, app.pages.classify.page, app.pages.models.page, app.workers, app.session\n"
        "app.create_application(sys.argv[:1])\n"
        "window = app.main_window.MainWindow()\n"
        "window.show()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'onnxruntime'))\n"
        "print(heavy); sys.exit(1 if heavy else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_importing_app_imports_neither_qt_nor_torch(tmp_path):
    code = "import sys, app; bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6')]; print(bad); sys.exit(bool(bad))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_unknown_pages_are_rejected_with_the_valid_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--page", "attention"], ("classify", "models"))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'attention'" in err and "classify" in err and "models" in err


def test_arguments_paths_page_and_screenshot():
    args = parse_args(["a.jpg", "photos", "--page", "models", "--screenshot", "out.png"], ("classify", "models"))
    assert args.paths == ["a.jpg", "photos"] and args.page == "models" and args.screenshot == "out.png"


def test_images_on_the_command_line_open_the_classify_page_unless_another_is_asked_for():
    keys = ("classify", "models")
    assert parse_args(["a.jpg"], keys).page == "classify"
    assert parse_args(["a.jpg", "--page", "models"], keys).page == "models"
    assert parse_args([], keys).page is None  # the last page used


@pytest.mark.slow
def test_screenshot_renders_the_loaded_window_at_1280x800(tmp_path):
    target = tmp_path / "shots" / "models.png"
    out = subprocess.run(
        [sys.executable, "main.py", "--screenshot", str(target), "--page", "models"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    image = QImage(str(target))
    assert (image.width(), image.height()) == (1280, 800)
    # Not a blank picture: a real window has many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}
    assert len(colours) > 8
    assert not (tmp_path / "config").exists() or not list((tmp_path / "config").rglob("*geometry*"))
