"""Shared test set-up: offscreen Qt, isolated caches, and tiny generated images."""

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

import pytest  # noqa: E402

from tests.image_files import make_image  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_torch_home(tmp_path, monkeypatch):
    """Point torch's hub cache and the app's graph cache at empty temporary folders for every test."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setenv("EFFICIENTNET_STUDIO_CACHE", str(tmp_path / "studio-cache"))
    return home


@pytest.fixture(autouse=True, scope="session")
def _cpu_without_native_bf16():
    """Every test (and module-scoped fixture) sees a CPU without native bf16, so runtime choices
    are the same on any machine; tests of the bf16 path say otherwise with ``with_cpu_flags``."""
    from model.core import cpu_features

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cpu_features, "cpu_flags", lambda: frozenset())
        yield


@pytest.fixture
def with_cpu_flags(monkeypatch):
    """``with_cpu_flags("avx512_bf16")``: the capability probe reports these flags."""
    from model.core import cpu_features

    return lambda *flags: monkeypatch.setattr(cpu_features, "cpu_flags", lambda: frozenset(flags))


@pytest.fixture
def image_factory(tmp_path):
    """Make small images under tmp_path: ``image_factory("a/b.png", color=...)``."""

    def factory(relative: str, **kwargs) -> Path:
        return make_image(tmp_path / relative, **kwargs)

    return factory
