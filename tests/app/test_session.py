"""The model session: real background start-up, and falling back when a model will not load."""

from __future__ import annotations

import sys
import threading
import types

import pytest

from app.state import ModelChoice
from model.core.errors import WeightsError
from model.core.variants import VARIANTS
from tests.app.conftest import FakePredictor, fake_active_model
from tests.app.test_models_page import load_backend


@pytest.mark.slow
def test_start_loads_the_backend_then_a_classifier_with_random_weights_offline(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("EFFICIENTNET_STUDIO_CACHE", str(tmp_path / "cache"))
    with qtbot.waitSignal(window.session.model_changed, timeout=180_000) as changed:
        window.start(check_online=False)
        assert window.session.backend is None  # loading happens in the background
    info = window.session.backend
    assert info is not None and info.device == "cpu"
    assert [f.name for f in info.facts] == list(VARIANTS) and not any(f.cached for f in info.facts)
    active = changed.args[0]
    assert active.variant == "b0" and active.imagenet_missing and active.class_count == 1000
    assert window.device_label.text().startswith("Device: CPU")
    assert "random weights" in window.model_label.text()
    models = window.page("models").table_model
    assert models.data(models.index(0, 1)) == "5.3 M"


@pytest.fixture
def flaky_predict(monkeypatch):
    """Predictor loading that fails for a user's weights file and works otherwise."""
    built = []

    def load_predictor(choice, device, stop, runtime="auto"):
        if str(choice.weights).endswith(".pth"):
            raise WeightsError("The file does not hold EfficientNet weights; choose another file.")
        built.append((choice.variant, choice.weights))
        predictor = FakePredictor()
        predictor.classifier.variant = VARIANTS[choice.variant]
        predictor.classifier.source = f"{choice.weights} weights"
        return predictor

    weights = types.ModuleType("model.nets.weights")
    weights.is_imagenet_cached = lambda variant: False
    monkeypatch.setattr("app.predictor_loading.load_predictor", load_predictor)
    monkeypatch.setitem(sys.modules, "model.nets.weights", weights)
    monkeypatch.setattr("model.nets.device.describe_device", lambda d: "CPU · test")
    return built


def test_a_weights_file_that_fails_falls_back_and_says_why(qtbot, window, flaky_predict):
    load_backend(window, cached=())
    with qtbot.waitSignal(window.session.model_changed, timeout=10_000) as changed:
        window.session.activate(ModelChoice("b2", weights="/somewhere/bad.pth"))
    active = changed.args[0]
    assert flaky_predict == [("b2", "random")]  # ImageNet not on disk, so random weights
    assert active.variant == "b2" and active.imagenet_missing
    assert active.notes and "bad.pth" in active.notes[0] and "choose another file" in active.notes[0]
    banner_text = window.page("classify").banner.text.text()
    assert "Could not load" in banner_text and "random weights" in banner_text
    assert window.settings.weights == "imagenet"  # the failed choice is not remembered


def test_a_newer_request_wins_over_a_slower_older_one(qtbot, window, monkeypatch):
    release = threading.Event()

    def load_predictor(choice, device, stop, runtime="auto"):
        predictor = FakePredictor()
        if choice.variant == "b7":
            release.wait(10)  # the big one is slow to load
        predictor.classifier.variant = VARIANTS[choice.variant]
        return predictor

    monkeypatch.setattr("app.predictor_loading.load_predictor", load_predictor)
    monkeypatch.setitem(sys.modules, "model.nets.weights", types.SimpleNamespace(is_imagenet_cached=lambda v: True))
    monkeypatch.setattr("model.nets.device.describe_device", lambda d: "CPU · test")
    load_backend(window, cached=("b0", "b7"))
    window.session.activate_variant("b7")
    with qtbot.waitSignal(window.session.model_changed, timeout=10_000):
        window.session.activate_variant("b0")
    release.set()
    qtbot.waitUntil(lambda: window.pool.idle, timeout=10_000)
    assert window.session.active.variant == "b0"  # the late B7 result was dropped


def test_the_train_button_appears_once_the_window_has_a_train_page(qtbot, window, monkeypatch):
    has_page = window.context.has_page
    monkeypatch.setattr(window.context, "has_page", lambda key: key != "train")  # a window without one
    window.session.use_predictor(FakePredictor(), fake_active_model(missing=True))
    banner = window.page("classify").banner
    assert not banner.train_button.isVisibleTo(banner)
    monkeypatch.setattr(window.context, "has_page", has_page)  # the real window has a Train page
    window.session.use_predictor(FakePredictor(), fake_active_model(missing=True))
    assert banner.train_button.isVisibleTo(banner)
    banner.train_button.click()
    assert window.tabs.currentWidget() is window.page("train")
