"""The Compare-classes tab's SE ablation per class: the option reaches the worker, progress and cancel
still work with ablation, one line per class (the top few when there are many), and a click on a
point selects that block in the class-mean heat map.

The classifier is the real ``Predictor`` around a calibrated random B0 at 64 px (attention_helpers).
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from app.pages.attention.class_ablation_chart import ClassAblationChart, chart_title, classes_to_draw
from app.pages.attention.workers import AnalysisNetworks, ClassComparisonWorker
from model.core.events import Progress
from tests.app.attention_helpers import TIMEOUT, class_folder, make_predictor


@pytest.fixture
def page(attention_page):
    return attention_page


def click_point(qtbot, chart, x: float, y: float) -> None:
    """A real left click on the chart at data point (x, y)."""
    scene = chart.getPlotItem().vb.mapViewToScene(QPointF(x, y))
    qtbot.mouseClick(chart.viewport(), Qt.MouseButton.LeftButton, pos=chart.mapFromScene(scene))


def backend_progress(monkeypatch, on_progress=lambda p: None) -> list:
    """Record the Progress events and batch size that ``class_comparison`` itself yields and gets (the
    worker throttles what reaches its signal, so on a fast machine some steps never show there)."""
    import model.explain.attention as attention

    real, seen = attention.class_comparison, []

    def recording(*args, **kwargs):
        seen.append(("batch_size", kwargs["batch_size"]))
        for event in real(*args, **kwargs):
            if isinstance(event, Progress):
                seen.append((event.done, event.total))
                on_progress(event)
            yield event

    monkeypatch.setattr(attention, "class_comparison", recording)
    return seen


def test_the_worker_measures_the_ablation_with_progress_after_every_image(qtbot, image_factory, monkeypatch):
    folder = class_folder(image_factory, per_class=3)
    worker = ClassComparisonWorker(AnalysisNetworks(), make_predictor(), str(folder), batch_size=16, ablation="mean")
    seen, results = backend_progress(monkeypatch), []
    worker.compared.connect(results.append)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT):
        worker.run()
    # 16 images a batch would be 17 forward passes each with ablation: one image a step keeps steps short.
    assert seen == [("batch_size", 1)] + [(k, 6) for k in range(7)]
    (comparison,) = results
    assert comparison.ablation_mode == "mean" and comparison.ablation.shape == (2, 16)
    assert np.isfinite(comparison.ablation).all() and np.abs(comparison.ablation).max() > 0


def test_an_ablating_worker_stops_between_images(qtbot, image_factory, monkeypatch):
    worker = ClassComparisonWorker(AnalysisNetworks(), make_predictor(), str(class_folder(image_factory, 3)),
                                   ablation="mean")
    results = []
    worker.compared.connect(results.append)
    seen = backend_progress(monkeypatch, lambda p: worker.stop() if p.done == 2 else None)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT):
        worker.run()
    assert results == [] and seen[-1] == (2, 6)  # no image after the stop, and no result


def test_with_many_classes_the_top_few_by_total_drop_are_drawn_and_the_title_says_so(qtbot):
    ablation = np.array([[0.0] * 4, [0.4] * 4, [0.1] * 4, [0.3] * 4, [0.2] * 4, [0.5] * 4, [0.05] * 4, [0.6] * 4])
    assert classes_to_draw(ablation) == [7, 5, 1, 3, 4, 2]
    assert classes_to_draw(ablation[:3]) == [0, 1, 2]
    chart = ClassAblationChart()
    qtbot.addWidget(chart)
    names = [f"class {k}" for k in range(8)]
    chart.show_class_ablation(ablation, names, ["s1 b1", "s2 b1", "s2 b2", "s3 b1"], "mean")
    assert chart.line_count() == 6
    assert [label.text for _, label in chart.legend.items] == [names[k] for k in (7, 5, 1, 3, 4, 2)]
    assert np.allclose(chart.curves[0].getData()[1], ablation[7])
    assert "the 6 of 8 classes with the largest total drop" in chart_title("mean", 6, 8)
    assert "6 of 8" in chart.getPlotItem().titleLabel.text
    chart.show_class_ablation(ablation[:2], names[:2], ["s1 b1", "s2 b1", "s2 b2", "s3 b1"], "one")
    assert chart.line_count() == 2 and len(chart.legend.items) == 2
    xs, _ = chart.curves[2].getData()
    assert xs is None or len(xs) == 0  # the lines not needed now are emptied
    assert "largest total drop" not in chart.getPlotItem().titleLabel.text


def test_the_tab_shows_each_class_curve_and_a_click_selects_the_block(qtbot, page, image_factory):
    panel = page.comparison_panel
    panel.ablation_box.setChecked(True)
    values = []
    panel.job.bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(page.classes_compared, timeout=TIMEOUT) as blocker:
        page.compare_folder(str(class_folder(image_factory)))
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)
    comparison = blocker.args[0]
    assert comparison.ablation.shape == (2, 16) and values[-1] == 1000
    chart = panel.ablation_chart
    assert chart.isVisible() and chart.line_count() == 2
    assert [label.text for _, label in chart.legend.items] == ["cat", "dog"]
    assert np.allclose(chart.curves[1].getData()[1], comparison.ablation[1])
    assert "lowers the predictions most" in panel.summary.text()
    click_point(qtbot, chart, 5, float(comparison.ablation[0, 5]))
    assert panel.means._highlight == (10, 2)  # block 5's band: rows 10 and 11
    assert chart.selected.isVisible() and chart.selected.value() == 5 and panel.chart.selected.value() == 5
    # The divergence curve selects blocks the same way.
    click_point(qtbot, panel.chart, 9, float(comparison.divergence[9]))
    assert panel.means._highlight == (18, 2) and chart.selected.value() == 9
    # The exported picture carries the ablation chart too.
    assert panel.picture().shape[0] > 600


def test_ticking_the_option_after_a_comparison_measures_the_ablation_for_that_folder(qtbot, page, image_factory):
    panel = page.comparison_panel
    with qtbot.waitSignal(page.classes_compared, timeout=TIMEOUT) as blocker:
        page.compare_folder(str(class_folder(image_factory)))
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)
    assert blocker.args[0].ablation is None and not panel.ablation_chart.isVisible()
    with qtbot.waitSignal(page.classes_compared, timeout=TIMEOUT) as blocker:
        panel.ablation_box.setChecked(True)
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)
    assert blocker.args[0].ablation is not None and panel.ablation_chart.isVisible()


def test_an_ablating_comparison_can_be_cancelled(qtbot, page, image_factory):
    panel = page.comparison_panel
    panel.ablation_box.setChecked(True)
    shown = []
    page.classes_compared.connect(shown.append)
    with qtbot.waitSignal(panel.job.finished, timeout=TIMEOUT):
        page.compare_folder(str(class_folder(image_factory, per_class=4)))
        assert "SE ablation" in panel.job.label.text()
        panel.job.cancel_button.click()
    assert shown == [] and not panel.ablation_chart.isVisible()
    assert "Cancelled" in panel.message.text() and page.is_settled()
