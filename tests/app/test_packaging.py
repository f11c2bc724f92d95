"""The wheel: it carries the desktop entry and the icons, and an installed copy finds them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.platform.resources import APP_ID, ICON_SIZES, find_resources

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built offline from a copy of the sources (building in place would leave build/ behind)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in ("app", "model", "resources"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    out = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out)],
        check=True, cwd=base, capture_output=True, text=True, timeout=300,
    )
    (built,) = out.glob("efficientnet_studio-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel unpacked as a site-packages folder, the layout pip and pipx install."""
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def test_wheel_contains_desktop_entry_icons_and_sample(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert f"app/assets/{APP_ID}.desktop" in names
    assert f"app/assets/{APP_ID}.svg" in names
    for size in ICON_SIZES:
        assert f"app/assets/icons/{size}x{size}/{APP_ID}.png" in names
    assert "app/assets/samples/summer-palace.jpg" in names
    assert "app/platform/resources.py" in names and "model/__init__.py" in names
    assert not any(name.startswith("resources/") for name in names)  # nothing lands at the top of site-packages


def test_wheel_metadata_has_the_spdx_license(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    assert "License-Expression: MIT" in text


def test_pyproject_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["license"] == "MIT"
    assert "setuptools>=77" in config["build-system"]["requires"]


def test_resources_are_found_in_a_checkout_and_in_an_installed_layout(installed):
    assert find_resources(ROOT / "app") == ROOT / "resources"
    assert find_resources(installed / "app") == installed / "app" / "assets"


def _run_installed(installed: Path, code: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    # cwd and PYTHONPATH hold only the unpacked wheel, so this checkout cannot be imported by mistake.
    env = {**os.environ, "PYTHONPATH": str(installed), **env_extra}
    return subprocess.run(
        [sys.executable, *code], cwd=installed, env=env, capture_output=True, text=True, timeout=120
    )


def test_installed_app_finds_its_icon_files(installed):
    code = (
        "import app, app.platform.resources as r;"
        "print(app.__file__); print(r.ICON_SVG); print(r.DESKTOP_FILE);"
        "print(all(r.icon_png(s).is_file() for s in r.ICON_SIZES), r.ICON_SVG.is_file(), r.DESKTOP_FILE.is_file())"
    )
    result = _run_installed(installed, ["-c", code], {})
    assert result.returncode == 0, result.stderr
    package, svg, desktop, found = result.stdout.splitlines()
    assert Path(package).is_relative_to(installed)
    assert Path(svg).is_relative_to(installed / "app" / "assets")
    assert Path(desktop).is_relative_to(installed / "app" / "assets")
    assert found == "True True True"


def test_desktop_entry_install_works_from_the_installed_package(installed, tmp_path):
    data = tmp_path / "share"
    result = _run_installed(installed, ["-m", "app.desktop_entry", "install"], {"XDG_DATA_HOME": str(data)})
    assert result.returncode == 0, result.stderr
    entry = data / "applications" / f"{APP_ID}.desktop"
    assert "Name=EfficientNet Studio" in entry.read_text(encoding="utf-8")
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    for size in ICON_SIZES:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
