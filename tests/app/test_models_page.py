"""The Models page: the B0–B7 table, measuring, downloading, switching, and the scaling view."""

from __future__ import annotations

import sys
import threading
import time
import types

import pytest
from PySide6.QtWidgets import QApplication

from app.state import BackendInfo, VariantFacts
from app.pages.models.scaling_explainer import scaling_html
from app.pages.models.variant_table import VariantTableModel
from app.pages.models.workers import MeasureWorker
from model.inference.benchmark import Measurement
from model.core.errors import DownloadCancelled
from model.core.variants import VARIANTS
from tests.app.conftest import FakePredictor, Relay


def real_facts(cached=()) -> tuple[VariantFacts, ...]:
    return tuple(
        VariantFacts(v.name, v.resolution, v.params, v.gflops, v.top1, 20.0 + i, v.name in cached)
        for i, v in enumerate(VARIANTS.values())
    )


def load_backend(window, cached=("b0",)) -> BackendInfo:
    """What BackendLoader would report, without starting the model load."""
    info = BackendInfo("cpu", "CPU · 2 cores", ("cpu",), real_facts(cached))
    window.session.backend = info
    window.session.backend_loaded.emit(info)
    return info


def test_table_model_passes_the_model_tester(qtmodeltester):
    model = VariantTableModel()
    qtmodeltester.check(model)
    model.set_facts(real_facts(cached=("b0",)))
    model.set_measurement(Measurement("b1", 12.5, 80.0, "cpu"))
    model.set_active("b1")
    qtmodeltester.check(model)


def test_table_shows_every_variant_before_and_after_the_backend_loads(qtbot, window):
    page = window.page("models")
    model = page.table_model
    text = lambda r, c: model.data(model.index(r, c))  # noqa: E731
    assert model.rowCount() == 8
    assert text(7, 0) == "EfficientNet-B7" and text(7, 3) == "600 px" and text(7, 1) == "…"
    load_backend(window, cached=("b0",))
    assert text(0, 1) == "5.3 M" and text(7, 1) == "66.3 M"
    assert text(0, 2) == "0.39" and text(0, 4) == "77.7 %"
    assert text(0, 5) == "On disk" and text(3, 5).startswith("Not downloaded (")
    assert text(0, 6) == "–"  # nothing measured yet
    # Before measuring, the chart plots accuracy against GFLOPs for all eight.
    assert page.chart.x_kind == "gflops" and page.chart.point_count() == 8
    assert "1.0× (1.0)" in page.explainer.toPlainText()  # B0's real FLOPs ratio next to the rule's


def test_measure_on_this_machine_fills_latency_and_the_chart(qtbot, window):
    page = window.page("models")
    load_backend(window)
    page.measure_variants, page.measure_image_size = ("b0", "b1"), 32  # tiny, for the test
    assert page.measure_button.isEnabled()
    page.measure()
    assert page.job.isVisibleTo(page) and not page.measure_button.isEnabled()
    # Measuring times every runtime of each variant (issue 19): minutes on a busy 2-core machine.
    qtbot.waitUntil(lambda: not page.job.busy, timeout=240_000)
    model = page.table_model
    assert model.data(model.index(0, 6)).endswith(" ms") and model.data(model.index(1, 7)).endswith(" img/s")
    assert model.data(model.index(2, 6)) == "–"
    assert page.chart.x_kind == "latency" and page.chart.point_count() == 2
    assert page.measure_button.isEnabled()


def test_speed_measurements_are_remembered_per_device_across_a_restart(qtbot, window):
    from app.main_window import MainWindow
    from app.settings import AppSettings
    from model.inference.benchmark import Measurement

    page = window.page("models")
    load_backend(window)
    page._on_measured(Measurement("b1", 12.5, 80.0, "cpu", image_size=240))
    # The next launch, on the same device: the measurement is there before measuring again.
    again = MainWindow(AppSettings())
    qtbot.addWidget(again)
    load_backend(again)
    model = again.page("models").table_model
    assert model.data(model.index(1, 6)) == "12.5 ms" and model.data(model.index(0, 6)) == "–"
    assert again.page("models").chart.x_kind == "latency"
    # Another device has its own (none yet).
    assert AppSettings().speed_measurements("cuda:0") == []


def test_measure_worker_events_in_order_and_cancel(qtbot, window):
    worker = MeasureWorker(["b0", "b1"], "cpu", repeats=1, image_size=32)
    relay = Relay(worker)
    with qtbot.waitSignals([relay.measured, relay.measured, relay.finished], order="strict", timeout=240_000):
        window.pool.start(worker)
    kinds = [e[0] for e in relay.events]
    assert [e[1] for e in relay.events if e[0] == "measured"] == ["b0", "b1"]
    assert kinds[0] == "progressed" and kinds[-1] == "finished"
    # b1 is measured only after progress has moved past all of b0's passes.
    first_b1_pass = kinds.index("measured") + 1
    assert "progressed" in kinds[first_b1_pass:kinds.index("measured", first_b1_pass)]

    slow = MeasureWorker(["b0", "b1", "b2"], "cpu", repeats=50, image_size=32)
    relay = Relay(slow)
    relay.progressed.connect(lambda p: slow.stop() if p.done >= 2 else None)
    with qtbot.waitSignal(relay.finished, timeout=60_000):
        window.pool.start(slow)
    assert not any(e[0] == "measured" for e in relay.events)
    assert not any(e[0] == "failed" for e in relay.events)


@pytest.fixture
def fake_weights(monkeypatch):
    """A stand-in for model.nets.weights whose download streams fake bytes until cancelled."""
    module = types.ModuleType("model.nets.weights")
    state = {"cached": set(), "release": threading.Event(), "calls": []}

    def is_imagenet_cached(variant):
        return variant in state["cached"]

    def download_imagenet(variant, progress=None, cancel=None, url=None):
        state["calls"].append(variant)
        total = 1000
        for done in range(0, total + 1, 100):
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled("The download was cancelled; nothing was kept.")
            if done == 500:
                time.sleep(0.15)  # past the worker's 10 Hz progress throttle, so 500 is shown
            if progress:
                progress(done, total)
            if done == 500:
                state["release"].wait(5)
        state["cached"].add(variant)
        return f"/cache/{variant}.pth"

    module.is_imagenet_cached = is_imagenet_cached
    module.download_imagenet = download_imagenet
    monkeypatch.setitem(sys.modules, "model.nets.weights", module)
    return state


def test_download_shows_progress_and_marks_the_weights_on_disk(qtbot, window, fake_weights):
    page = window.page("models")
    load_backend(window, cached=())
    window.session.online = True
    page._select("b2")
    assert page.download_button.isEnabled()
    page.download_selected()
    qtbot.waitUntil(lambda: page.job.bar.maximum() == 1000 and page.job.bar.value() >= 500, timeout=5000)
    assert "of" in page.job.bar.format()
    fake_weights["release"].set()
    qtbot.waitUntil(lambda: not page.job.busy, timeout=5000)
    assert page.table_model.data(page.table_model.index(2, 5)) == "On disk"
    assert window.session.weights_cached("b2") and not page.download_button.isEnabled()


def test_cancelling_a_download_keeps_nothing_and_says_nothing_alarming(qtbot, window, fake_weights):
    page = window.page("models")
    load_backend(window, cached=())
    window.session.online = True
    page._select("b1")
    page.download_selected()
    qtbot.waitUntil(lambda: page.job.bar.value() >= 500, timeout=5000)
    page.job.cancel()
    fake_weights["release"].set()
    qtbot.waitUntil(lambda: not page.job.busy, timeout=5000)
    assert not window.session.weights_cached("b1")
    assert page.status.text() == ""


def test_offline_disables_download_and_says_how_to_get_weights(qtbot, window):
    page = window.page("models")
    load_backend(window, cached=())
    window.session._on_probed(False)
    assert not page.download_button.isEnabled()
    assert "import a weights file" in page.status.text()


def test_use_as_classifier_switches_in_the_background(qtbot, window, fake_weights, monkeypatch):
    built = []

    def load_predictor(choice, device, stop, runtime="auto"):
        built.append((choice.variant, choice.weights, device, threading.current_thread() is threading.main_thread()))
        predictor = FakePredictor()
        predictor.classifier.variant = VARIANTS[choice.variant]
        predictor.classifier.source = f"{choice.weights} weights"
        return predictor

    monkeypatch.setattr("model.inference.loading.load_predictor", load_predictor)
    monkeypatch.setattr("model.nets.device.describe_device", lambda d: "CPU · test")

    page = window.page("models")
    load_backend(window, cached=("b0",))
    page._select("b3")
    with qtbot.waitSignal(window.session.model_changed, timeout=10_000) as changed:
        page.use_selected()
        assert "Switching to EfficientNet-B3" in page.status.text()
    active = changed.args[0]
    assert built == [("b3", "random", "cpu", False)]  # not cached: random weights, built off the UI thread
    assert active.variant == "b3" and active.imagenet_missing
    assert page.table_model.data(page.table_model.index(3, 0)) == "EfficientNet-B3  (active)"
    assert window.settings.variant == "b3"
    banner = window.page("classify").banner
    assert "not on this computer" in banner.text.text() and "random weights" in banner.text.text()


def test_scaling_explanation_shows_phi_and_the_multipliers():
    html = scaling_html(real_facts())
    assert "α = 1.2, β = 1.1, γ = 1.15" in html
    for v in VARIANTS.values():
        assert f"<b>{v.name.upper()}</b></td><td align=right>{v.phi:.2f}</td>" in html
    assert "3.1×" in html and "600 px" in html  # B7's depth multiplier and resolution
    b7_flops = VARIANTS["b7"].gflops / VARIANTS["b0"].gflops
    assert f"{b7_flops:.1f}× <small>({VARIANTS['b7'].flops_scale_predicted:.1f})</small>" in html
    assert "…" in scaling_html(())  # real FLOPs only once torchvision's metadata is known


def test_a_long_status_sentence_does_not_widen_the_window_when_the_models_page_shows(qtbot, window):
    from tests.app.conftest import fake_active_model

    load_backend(window, cached=())
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    # The first launch without ImageNet weights: the page's longest sentence, one line of about 730 px.
    window.session.use_predictor(FakePredictor(), fake_active_model(missing=True))
    window.show_page("models")
    page = window.page("models")
    qtbot.waitUntil(lambda: "no ImageNet weights on disk" in page.status.text())
    QApplication.processEvents()  # the page's layout settles, as it does when it first shows
    assert window.minimumSizeHint().width() <= 1280 and window.width() == 1280
    # The sentence wraps instead, whole: the label is tall enough for all of its lines.
    status = page.status
    assert status.height() >= status.heightForWidth(status.width())
