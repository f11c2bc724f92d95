"""The Attention page's workers: every view ready before the result is sent, clear errors, the GPU copy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.pages.attention.workers import AnalysisNetworks, AnalysisWorker, ClassComparisonWorker
from model.explain.attention import ClassComparison
from model.core.events import Progress
from tests.app.attention_helpers import TIMEOUT, class_folder, make_predictor


def _run(qtbot, worker):
    """Run ``worker`` in this thread, collecting what it emits."""
    events = {"progressed": [], "failed": []}
    worker.progressed.connect(events["progressed"].append)
    worker.failed.connect(events["failed"].append)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT):
        worker.run()
    return events


def test_on_the_cpu_the_classifier_itself_is_analysed():
    predictor = make_predictor()
    assert AnalysisNetworks().classifier_for(predictor) is predictor.classifier


def test_the_analysis_arrives_with_every_view_made_and_the_se_inputs_freed(qtbot, image_factory):
    worker = AnalysisWorker(AnalysisNetworks(), make_predictor(), image_factory("a.png", size=(80, 72), seed=1),
                            "a model")
    results = []
    worker.analysed.connect(results.append)
    events = _run(qtbot, worker)
    (analysed,) = results
    result = analysed.result
    assert analysed.model_summary == "a model" and analysed.seconds > 0 and events["failed"] == []
    assert result.inputs is None  # the bulk of the memory, no longer needed
    for kind in ("se", "change"):
        maps = result.spatial_maps(kind=kind)  # served from the cache: no SE inputs needed
        assert len(maps) == 16 and all(m.image.shape == (64, 64) for m in maps)
    assert result.gradcam_map().image.shape == (64, 64)
    assert Progress(32, 32, "Making the maps") in events["progressed"]
    assert events["progressed"][-1] == Progress(0, 1, "Measuring the SE ablation")
    assert analysed.explainer.cached_ablation() is not None
    # Scoring the maps takes longer than all of this: the page shows the maps first and scores them after.
    for name in ("gradcam", "random", "se", "change"):
        assert analysed.explainer.cached(name)[1] is None


def test_a_bad_file_fails_with_one_sentence(qtbot, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    worker = AnalysisWorker(AnalysisNetworks(), make_predictor(), str(empty))
    events = _run(qtbot, worker)
    assert events["failed"] == ["empty.png cannot be analysed: file is empty; choose another image."]


def test_the_comparison_worker_reports_progress_then_the_result(qtbot, image_factory):
    folder = class_folder(image_factory, per_class=3)
    worker = ClassComparisonWorker(AnalysisNetworks(), make_predictor(), str(folder), batch_size=2)
    results = []
    worker.compared.connect(results.append)
    with qtbot.waitSignals([worker.progressed, worker.compared, worker.finished], order="simple", timeout=TIMEOUT):
        events = _run(qtbot, worker)
    progress = [(p.done, p.total) for p in events["progressed"]]
    assert progress[0] == (0, 6) and progress[-1] == (6, 6)
    (result,) = results
    assert isinstance(result, ClassComparison) and result.class_names == ["cat", "dog"]


def test_a_comparison_stopped_before_it_starts_sends_no_result(qtbot, image_factory):
    worker = ClassComparisonWorker(AnalysisNetworks(), make_predictor(), str(class_folder(image_factory)))
    results = []
    worker.compared.connect(results.append)
    worker.stop()
    events = _run(qtbot, worker)
    assert results == [] and events["failed"] == [] and events["progressed"] == [Progress(0, 4, "4 images in 2 classes")]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_a_gpu_one_copy_is_analysed_there_and_agrees_with_the_cpu(qtbot, image_factory):
    predictor = make_predictor()
    cpu_model = predictor.classifier.model
    predictor.device = torch.device("cuda")
    networks = AnalysisNetworks()
    placed = networks.classifier_for(predictor)
    assert next(placed.model.parameters()).is_cuda and next(cpu_model.parameters()).device.type == "cpu"
    assert networks.classifier_for(predictor) is placed  # made once
    path = image_factory("g.png", size=(80, 72), seed=2)
    results = []
    for nets in (networks, None):
        worker = AnalysisWorker(nets or AnalysisNetworks(), predictor if nets else make_predictor(), path)
        worker.analysed.connect(results.append)
        _run(qtbot, worker)
    gpu, cpu = (r.result for r in results)
    for d in range(gpu.num_blocks):
        assert np.allclose(gpu.excitation(d), cpu.excitation(d), atol=1e-3)
