"""The inference runtime in the app: a setting in the Models menu, the status bar, and Measure's choice."""

from dataclasses import replace

import torch

from model.inference.runtime_choice import remembered_choice
from tests.app.conftest import FakePredictor, fake_active_model
from tests.app.test_models_page import load_backend


def test_the_runtime_menu_sets_the_setting_and_reloads_the_classifier(window, monkeypatch):
    load_backend(window)
    window.session.use_predictor(FakePredictor(), fake_active_model())
    activated = []
    monkeypatch.setattr(window.session, "activate", lambda choice, notes=(): activated.append(choice))
    menu = window.page("models").runtime_menu
    actions = {a.data(): a for a in menu.actions()}
    assert list(actions) == ["auto", "onnxruntime", "openvino", "torch"] and actions["auto"].isChecked()
    actions["openvino"].trigger()
    assert window.settings.runtime == "openvino" and actions["openvino"].isChecked()
    assert activated == [fake_active_model().choice]  # loaded again with the new runtime
    actions["openvino"].trigger()
    assert len(activated) == 1  # the same choice again changes nothing
    window.settings.runtime = "no such runtime"
    assert window.settings.runtime == "auto"


def test_the_status_bar_names_the_runtime_in_use(window):
    window.session.use_predictor(FakePredictor(), replace(fake_active_model(), runtime="OpenVINO bf16"))
    assert window.runtime_label.text() == "Runtime: OpenVINO bf16"
    window.session.use_predictor(FakePredictor(), replace(fake_active_model(), runtime="ONNX Runtime f32"))
    assert window.runtime_label.text() == "Runtime: ONNX Runtime f32"


def test_measure_chooses_a_runtime_per_variant_and_auto_switches_to_it(qtbot, window, monkeypatch):
    load_backend(window)
    window.session.use_predictor(FakePredictor(), replace(fake_active_model(), runtime="PyTorch f32"))
    activated = []
    monkeypatch.setattr(window.session, "activate", lambda choice, notes=(): activated.append(choice))
    page = window.page("models")
    page.measure_variants, page.measure_image_size = ("b0",), 32
    page.measure()
    qtbot.waitUntil(lambda: not page.job.busy, timeout=120_000)
    chosen = remembered_choice(torch.device("cpu"), "b0")
    assert chosen is not None
    assert page.status.text().startswith("Fastest runtime that agrees with fp32") and f"B0: {chosen.label}" in page.status.text()
    assert page.table_model.data(page.table_model.index(0, 6)).endswith(" ms")
    # Under "auto" the active B0 is loaded again, unless it already runs on the chosen runtime.
    assert activated == ([] if chosen.label == "PyTorch f32" else [fake_active_model().choice])


def test_the_verdict_says_why_faster_candidates_were_not_chosen():
    from app.pages.models.page import verdict_summary
    from model.inference.agreement import Agreement
    from model.inference.runtime_choice import RuntimeChoice
    from model.inference.runtime_trials import UNCHECKED_REDUCED, RuntimeTrial, RuntimeVerdict

    ort, ov16 = RuntimeChoice("onnxruntime", "f32"), RuntimeChoice("openvino", "bf16")
    ov32 = RuntimeChoice("openvino", "f32")
    flipped = Agreement(images=16, top1=0.9, top5=0.8, max_prob_diff=0.1)
    verdict = RuntimeVerdict("b0", ort, None, (
        RuntimeTrial("b0", ov16, None, None, UNCHECKED_REDUCED),
        RuntimeTrial("b0", ov32, None, flipped),
        RuntimeTrial("b0", ort, None, None),
    ), "random weights")
    assert verdict_summary(verdict) == (
        "B0: ONNX Runtime f32 (OpenVINO f32 changed answers; OpenVINO bf16 not tried without ImageNet weights)")
    assert verdict_summary(RuntimeVerdict("b3", ort, None, (), "ImageNet weights")) == "B3: ONNX Runtime f32"
