"""Switching the active model: the ONNX graph is exported by a child process, off the UI thread.

In-process, ``torch.onnx.export`` holds the GIL for seconds and freezes the UI
thread even from a worker thread; these tests check that the app's model switch
never runs it in this process, and that the child can be stopped.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.predictor_loading import export_graph_in_child
from app.state import ModelChoice
from model.inference.runtime import OnnxRunner
from tests.app.test_models_page import load_backend


@pytest.mark.slow
def test_a_switch_loads_off_the_ui_thread_and_exports_the_graph_in_a_child_process(
    qtbot, window, image_factory, monkeypatch
):
    threads = []
    real_load = sys.modules["app.predictor_loading"].load_classifier_for

    def load_classifier_for(choice):
        threads.append(threading.current_thread() is threading.main_thread())
        return real_load(choice)

    def no_export_here(*args, **kwargs):
        raise AssertionError("the ONNX graph was exported in the app's own process")

    monkeypatch.setattr("app.predictor_loading.load_classifier_for", load_classifier_for)
    monkeypatch.setattr("torch.onnx.export", no_export_here)
    load_backend(window, cached=())
    with qtbot.waitSignal(window.session.model_changed, timeout=180_000) as changed:
        window.session.activate(ModelChoice("b0", weights="random"))
    assert threads == [False]  # built in a worker thread
    assert changed.args[0].variant == "b0"
    predictor = window.session.predictor
    assert predictor.runner.name == "onnxruntime"  # it runs the graph the child exported
    assert OnnxRunner.graph_path(predictor.classifier.model, predictor.classifier.preprocessing.crop_size).is_file()
    [prediction] = predictor.predict([image_factory("red.png", size=(48, 40))])
    assert prediction.ok and len(prediction.labels) == 5

    # The graph is cached now: switching to the same weights again starts no process at all.
    def no_child(*args, **kwargs):
        raise AssertionError("a child process was started although the graph is cached")

    monkeypatch.setattr(subprocess, "Popen", no_child)
    with qtbot.waitSignal(window.session.model_changed, timeout=60_000):
        window.session.activate(ModelChoice("b0", weights="random"))
    assert threads == [False, False]
    assert window.session.predictor.runner.name == "onnxruntime"


def test_stopping_kills_the_export_process(monkeypatch):
    started = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    stop = threading.Event()
    stop.set()  # e.g. the window is closing
    assert export_graph_in_child(ModelChoice("b7", weights="random"), stop) is False
    assert len(started) == 1 and started[0].returncode is not None  # killed and reaped, not left running


def test_an_export_process_that_fails_reports_false(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/bin/false")
    assert export_graph_in_child(ModelChoice("b0", weights="random"), threading.Event()) is False


def test_the_export_process_module_loads_no_qt():
    # The child runs this module; Qt would only slow its start.
    code = "import sys, app.predictor_loading; print(any(m.startswith('PySide6') for m in sys.modules))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
