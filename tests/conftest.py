"""Shared test set-up: offscreen Qt, few CPU threads, and tiny generated images."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests must never touch the user's real caches or settings.
os.environ.setdefault("TORCH_HOME", str(Path(__file__).parent / ".torch-home-unused"))

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_torch_home(tmp_path, monkeypatch):
    """Point torch's hub cache and the app's graph cache at empty temporary folders for every test."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setenv("EFFICIENTNET_STUDIO_CACHE", str(tmp_path / "studio-cache"))
    return home


def make_image(path: Path, size=(48, 40), color=(200, 30, 30), mode="RGB", fmt=None, seed: int | None = None) -> Path:
    """Write a small image; with ``seed`` it is textured noise around ``color``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if seed is not None:
        rng = np.random.default_rng(seed)
        base = np.array(color, dtype=np.float64)[None, None, :]
        arr = np.clip(base + rng.normal(0, 25, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
        im = Image.fromarray(arr, "RGB")
    else:
        im = Image.new("RGB", size, color)
    if mode != "RGB":
        im = im.convert(mode)
    im.save(path, format=fmt)
    return path


@pytest.fixture
def image_factory(tmp_path):
    """Make small images under tmp_path: ``image_factory("a/b.png", color=...)``."""

    def factory(relative: str, **kwargs) -> Path:
        return make_image(tmp_path / relative, **kwargs)

    return factory
