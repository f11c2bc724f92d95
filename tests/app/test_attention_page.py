"""The Attention page: the block slider and the "what SE changed" toggle change the overlay,
hovering the gate map names block/channel/value, bad images fail inline, class comparison
with progress and cancel, PNG export, drops, and the screenshot sample.

The classifier is a real ``Predictor`` around a small random B0 at 64 px whose BatchNorm
statistics are calibrated (tests/app/attention_helpers.py), so the maps are not flat.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QHelpEvent, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication, QToolTip

from app.pages.attention.attention_panel import describe_gate
from model.explain.render import overlay
from tests.app.attention_helpers import CLASSES, TIMEOUT, class_folder, make_predictor
from tests.app.conftest import fake_active_model


@pytest.fixture
def page(attention_page):
    """The Attention page, shown, with a real predictor as the active classifier (conftest)."""
    return attention_page


def pixels(image: QImage) -> np.ndarray:
    """A QImage as an RGB uint8 array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return data[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).copy()


def analyse(qtbot, page, path):
    with qtbot.waitSignal(page.image_analysed, timeout=TIMEOUT):
        page.analyse_path(str(path))
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)
    return page.panel.result


def test_the_slider_scrubs_the_se_overlay(qtbot, page, image_factory):
    result = analyse(qtbot, page, image_factory("photo.png", size=(80, 72), seed=1))
    panel = page.panel
    assert result.num_blocks == 16 and panel.slider.maximum() == 15
    crop = result.images[0]
    assert np.array_equal(pixels(panel.crop_pane.image()), crop)
    first = pixels(panel.se_pane.image())
    assert np.array_equal(first, overlay(crop, result.spatial_map(panel.depth).image))

    seen = {panel.depth: first}
    for key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown, Qt.Key.Key_End):
        qtbot.keyClick(panel.slider, key)
        shown = pixels(panel.se_pane.image())
        assert np.array_equal(shown, overlay(crop, result.spatial_map(panel.depth).image))
        assert panel.depth not in seen and not any(np.array_equal(shown, s) for s in seen.values())
        seen[panel.depth] = shown
        block = result.blocks[panel.depth]
        assert block.name in panel.block_label.text() and block.short_name in panel.se_pane.title.text()
    assert panel.depth == 15
    page.previous_block()
    assert panel.depth == 14
    assert panel.gates._highlight == (14, 1)


def test_the_change_toggle_shows_what_se_changed(qtbot, page, image_factory):
    result = analyse(qtbot, page, image_factory("photo.png", size=(80, 72), seed=2))
    panel = page.panel
    panel.slider.setValue(9)
    plain = pixels(panel.se_pane.image())
    panel.change_toggle.setChecked(True)
    changed = pixels(panel.se_pane.image())
    assert not np.array_equal(plain, changed)
    assert np.array_equal(changed, overlay(result.images[0], result.spatial_map(9, kind="change").image))
    assert panel.se_pane.title.text().startswith("What SE changed")
    assert page.settings.attention_change is True  # remembered for next time
    panel.change_toggle.setChecked(False)
    assert np.array_equal(pixels(panel.se_pane.image()), plain)


def test_hovering_the_gate_map_reports_block_channel_and_value(qtbot, page, image_factory):
    result = analyse(qtbot, page, image_factory("photo.png", size=(80, 72), seed=3))
    gates = page.panel.gates
    rect = gates.plot_rect()
    pos = QPointF(rect.x() + 0.7 * rect.width(), rect.y() + 0.55 * rect.height())
    move = QMouseEvent(QEvent.Type.MouseMove, pos, gates.mapToGlobal(pos), Qt.MouseButton.NoButton,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(gates, move)
    cell = result.gate_map().cell_at_pixel(pos.x() - rect.x(), pos.y() - rect.y(), int(rect.width()), int(rect.height()))
    assert cell.block.depth == 8  # 0.55 of 16 rows
    text = page.panel.hover_line.text()
    assert text == describe_gate(cell)
    assert cell.block.name in text and f"channel {cell.channel}" in text and f"{cell.value:.3f}" in text
    assert cell.value == pytest.approx(float(result.excitation(8)[cell.channel]))

    tip = QHelpEvent(QEvent.Type.ToolTip, pos.toPoint(), gates.mapToGlobal(pos.toPoint()))
    QApplication.sendEvent(gates, tip)
    assert QToolTip.text() == text

    click = QMouseEvent(QEvent.Type.MouseButtonPress, pos, gates.mapToGlobal(pos), Qt.MouseButton.LeftButton,
                        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(gates, click)
    assert page.panel.depth == 8  # clicking a row shows that block

    QApplication.sendEvent(gates, QEvent(QEvent.Type.Leave))
    assert page.panel.hover_line.text() == ""


def test_a_bad_image_shows_one_sentence_inline_and_keeps_the_view(qtbot, page, image_factory, tmp_path):
    analyse(qtbot, page, image_factory("good.png", size=(80, 72), seed=4))
    shown = pixels(page.panel.se_pane.image())
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a jpeg")
    with qtbot.waitSignal(page.job.finished, timeout=TIMEOUT):
        page.analyse_path(str(broken))
    assert page.message.isVisibleTo(page)
    text = page.message.text()
    assert text.startswith("broken.jpg cannot be analysed: ") and text.endswith("choose another image.")
    assert "Traceback" not in text and text.count(".") <= 3
    assert np.array_equal(pixels(page.panel.se_pane.image()), shown)
    analyse(qtbot, page, image_factory("again.png", size=(80, 72), seed=5))
    assert not page.message.isVisibleTo(page)


def test_an_analysis_can_be_cancelled_and_the_view_stays(qtbot, page, image_factory):
    first = analyse(qtbot, page, image_factory("first.png", size=(80, 72), seed=9))
    shown = []
    page.image_analysed.connect(shown.append)
    with qtbot.waitSignal(page.job.finished, timeout=TIMEOUT):
        page.analyse_path(str(image_factory("second.png", size=(80, 72), seed=10)))
        assert page.job.isVisibleTo(page) and not page.is_settled()
        page.job.cancel_button.click()
    assert shown == [] and page.panel.result is first
    assert page.file_label.text().startswith("first.png") and page.is_settled()


def test_a_new_model_analyses_the_image_again(qtbot, page, image_factory):
    analyse(qtbot, page, image_factory("photo.png", size=(80, 72), seed=11))
    with qtbot.waitSignal(page.image_analysed, timeout=TIMEOUT) as blocker:
        page.session.use_predictor(make_predictor(), fake_active_model("b0", missing=True))
    assert blocker.args[0].model_summary == "EfficientNet-B0 · random weights"
    assert "random weights" in page.file_label.text()
    assert page.note.isVisibleTo(page) and "not on this computer" in page.note.text()
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)


def test_choosing_another_class_shows_its_grad_cam(qtbot, page, image_factory):
    result = analyse(qtbot, page, image_factory("photo.png", size=(80, 72), seed=6))
    assert page.panel.classes.count() == 5
    second = page.panel.classes.item(1)
    index = second.data(Qt.ItemDataRole.UserRole)
    assert index != result.target_classes[0]
    with qtbot.waitSignal(page.image_analysed, timeout=TIMEOUT):
        page.panel.classes.itemClicked.emit(second)
    assert page.panel.result.target_classes == [index]
    assert CLASSES[index] in page.panel.cam_pane.title.text()


def test_class_comparison_on_the_page_shows_the_divergence_curve(qtbot, page, image_factory):
    folder = class_folder(image_factory)
    values = []
    page.comparison_panel.job.bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(page.classes_compared, timeout=TIMEOUT) as blocker:
        page.compare_folder(str(folder))
    assert page.tabs.currentWidget() is page.comparison_panel
    comparison = blocker.args[0]
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)
    assert values and values[-1] == 1000  # the bar reached "4 of 4"
    chart = page.comparison_panel.chart
    assert chart.point_count() == 16
    assert np.allclose(chart.curve.getData()[1], comparison.divergence)
    assert page.comparison_panel.means.has_matrix()
    assert "4 images in 2 classes" in page.comparison_panel.summary.text()
    assert not page.comparison_panel.job.isVisibleTo(page)


def test_class_comparison_can_be_cancelled(qtbot, page, image_factory):
    folder = class_folder(image_factory, per_class=4)
    shown = []
    page.classes_compared.connect(shown.append)
    with qtbot.waitSignal(page.comparison_panel.job.finished, timeout=TIMEOUT):
        page.compare_folder(str(folder))
        assert page.comparison_panel.job.isVisibleTo(page)
        page.comparison_panel.job.cancel_button.click()
    assert shown == [] and page.comparison_panel.chart.point_count() == 0
    assert "Cancelled" in page.comparison_panel.message.text()
    assert page.is_settled()


def test_a_folder_without_classes_says_what_to_do(qtbot, page, image_factory, tmp_path):
    image_factory("flat/a.png")
    with qtbot.waitSignal(page.comparison_panel.job.finished, timeout=TIMEOUT):
        page.compare_folder(str(tmp_path / "flat"))
    assert "needs at least two" in page.comparison_panel.message.text()


def test_export_writes_the_current_view_as_png(qtbot, page, image_factory, tmp_path, monkeypatch):
    analyse(qtbot, page, image_factory("photo.png", size=(80, 72), seed=7))
    target = tmp_path / "out" / "view"  # no suffix: .png is added
    target.parent.mkdir()
    monkeypatch.setattr("app.pages.attention.page.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    page.export_png()
    written = target.with_suffix(".png")
    with Image.open(written) as im:
        assert im.format == "PNG" and im.width > 3 * 64 and im.height > 64
    assert page.settings.last_folder("export") == str(target.parent)

    with qtbot.waitSignal(page.classes_compared, timeout=TIMEOUT):
        page.compare_folder(str(class_folder(image_factory)))
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)
    chart_target = tmp_path / "out" / "classes.png"
    monkeypatch.setattr("app.pages.attention.page.QFileDialog.getSaveFileName", lambda *a, **k: (str(chart_target), ""))
    page.export_png()
    with Image.open(chart_target) as im:
        assert im.format == "PNG" and im.height > 200


def _drop(window, target, *paths) -> bool:
    """Drag ``paths`` over ``target`` and drop them, delivered to the window like a real drag
    (so Qt routes them to the widget that accepts drops); whether the drop was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = target.mapTo(window, target.rect().center())
    rest = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(pos, *rest)  # QPoint here, QPointF for the drop: PySide6's signatures
    QApplication.sendEvent(window.windowHandle(), enter)
    drop = QDropEvent(QPointF(pos), *rest)
    QApplication.sendEvent(window.windowHandle(), drop)
    return enter.isAccepted() and drop.isAccepted()


def test_dropping_an_image_analyses_it_and_a_folder_compares_its_classes(qtbot, page, image_factory):
    photo = image_factory("dropped.png", size=(80, 72), seed=8)
    with qtbot.waitSignal(page.image_analysed, timeout=TIMEOUT) as blocker:
        accepted = _drop(page.window(), page.panel.se_pane, photo)
    assert accepted
    assert blocker.args[0].path == str(photo)
    assert page.file_label.text().startswith("dropped.png")
    with qtbot.waitSignal(page.classes_compared, timeout=TIMEOUT):
        accepted = _drop(page.window(), page.panel.gates, class_folder(image_factory))
    assert accepted
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)


def test_analysis_waits_for_the_model_and_the_screenshot_uses_the_sample(qtbot, window):
    from app.main_window import MainWindow
    from app.settings import AppSettings

    shown = MainWindow(AppSettings(), page="attention", remember=False)
    qtbot.addWidget(shown)
    assert shown.tabs.currentWidget() is shown.page("attention")

    page = window.page("attention")
    page.prepare_screenshot()
    assert not page.is_settled() and "waiting for the model" in page.file_label.text()
    with qtbot.waitSignal(page.image_analysed, timeout=TIMEOUT) as blocker:
        window.session.use_predictor(make_predictor(), fake_active_model())
    assert blocker.args[0].path.endswith("resources/samples/summer-palace.jpg")
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)
    assert page.panel.crop_pane.image().width() == 64


def test_a_classify_result_opens_on_the_attention_page(qtbot, page, image_factory):
    window = page.window()
    classify = window.page("classify")
    path = image_factory("classified.png", size=(80, 72), seed=12)
    classify.classify_paths([str(path)])
    qtbot.waitUntil(lambda: classify.is_settled() and classify.results.rowCount() == 1, timeout=TIMEOUT)
    window.show_page("classify")
    with qtbot.waitSignal(page.image_analysed, timeout=TIMEOUT) as blocker:
        classify.list_view.activated.emit(classify.results.index(0, 0))
    assert blocker.args[0].path == str(path)
    assert window.tabs.currentWidget() is page
    qtbot.waitUntil(page.is_settled, timeout=TIMEOUT)


def test_the_window_with_this_page_is_built_without_importing_torch(tmp_path):
    """The window must appear before torch loads: the page imports the backend only in its workers."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from app import create_application; app = create_application();"
        "from app.main_window import MainWindow; from app.settings import AppSettings;"
        "w = MainWindow(AppSettings(), page='attention', remember=False);"
        "sys.exit(3 if 'torch' in sys.modules else 0)"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_maps_come_with_scores_ablation_and_a_centred_gate_map(qtbot, page, image_factory):
    result = analyse(qtbot, page, image_factory("scored.png", size=(64, 64), seed=3))
    panel, evidence = page.panel, page.panel.evidence
    explainer = panel.analysed.explainer
    assert explainer is not None and panel.ablation.point_count() == 16
    assert "deletion AUC" in evidence.cam_line.text() and "random" in evidence.cam_line.text()
    assert "features.5" in evidence.cam_line.text() and "features.5" in panel.cam_pane.caption.text()
    assert evidence.layer.currentText().endswith("(default)") and evidence.layer.count() == 8
    # Clicking a point of the ablation chart shows that block.
    points = panel.ablation.curve.scatter.points()
    panel.ablation._on_points_clicked(panel.ablation.curve, [points[3]])
    assert panel.depth == 3
    assert "not scored yet" in evidence.se_line.text()  # s2 b3: only the default block is scored at first
    with qtbot.waitSignal(page.evidence.scored, timeout=TIMEOUT):
        evidence.score_button.click()
        assert evidence.se_line.text().endswith(": scoring…") and not evidence.score_button.isEnabled()
    assert "deletion AUC" in evidence.se_line.text() and not evidence.score_button.isEnabled()
    # Its random baseline is drawn on the block's own grid (8×8 at stage 3), not on the CAM's 4×4.
    block = result.blocks[3]
    _, block_random = explainer.cached("random", layer=block.stage)
    assert block.stage != evidence.layer_index and explainer.map("random", layer=block.stage).grid == block.grid
    assert f"random {block_random.deletion_auc:.2f}" in evidence.se_line.text()
    # Another method: made and scored in the background, then shown in the right-hand pane.
    with qtbot.waitSignal(page.evidence.scored, timeout=TIMEOUT):
        evidence.method.setCurrentIndex(evidence.method.findData("gradcam++"))
    assert panel.cam_pane.title.text().startswith("Grad-CAM++")
    assert np.array_equal(pixels(panel.cam_pane.image()),
                          overlay(result.images[0], explainer.map("gradcam++").image))
    evidence.curves_button.click()
    assert evidence.charts.isVisible() and len(evidence.cam_chart.deletion.getData()[0]) == 21
    # The centred gate map is another picture of the same gates.
    before = pixels(panel.gates._image)
    panel.centred.setChecked(True)
    centred = pixels(panel.gates._image)
    assert centred.shape == before.shape and not np.array_equal(before, centred)
    assert panel.picture().shape[0] > 0


def test_depth_charts_show_small_drops_as_they_are(qtbot):
    # pyqtgraph's SI scaling turned drops of a few hundredths into "x0.001" ticks of -40 … 30.
    from app.pages.attention.evidence_charts import AblationChart

    chart = AblationChart()
    qtbot.addWidget(chart)
    chart.resize(500, 200)
    chart.show()
    qtbot.waitExposed(chart)
    chart.plot([0, 1, 2, 3], [0.001, -0.038, 0.002, 0.038])
    qtbot.wait(100)  # the axis rescales on the range change that follows
    axis = chart.getAxis("left")
    assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString()


def test_the_stage_follows_the_method_s_default_until_the_user_picks_one(qtbot, page, image_factory):
    analyse(qtbot, page, image_factory("stages.png", size=(64, 64), seed=4))
    evidence = page.panel.evidence
    assert evidence.layer_index == 5  # Grad-CAM: the deepest stage with a 4×4 grid at 64 px
    # Score-CAM runs the network once per channel: of the 4×4 stages it takes the one with the fewest.
    with qtbot.waitSignal(page.evidence.scored, timeout=TIMEOUT):
        evidence.method.setCurrentIndex(evidence.method.findData("scorecam"))
    assert evidence.layer_index == 4 and evidence.layer.currentText().endswith("(default)")
    assert "features.4" in evidence.cam_line.text()
    assert not any(evidence.layer.itemText(i).endswith("(default)") for i in range(evidence.layer.count())
                   if evidence.layer.itemData(i) != 4)
    # A stage the user picked stays when the method changes.
    evidence.layer.setCurrentIndex(evidence.layer.findData(3))
    evidence.layer.activated.emit(evidence.layer.currentIndex())
    with qtbot.waitSignal(page.evidence.scored, timeout=TIMEOUT):
        evidence.method.setCurrentIndex(evidence.method.findData("gradcam"))
    assert evidence.layer_index == 3 and "features.3" in evidence.cam_line.text()


def test_the_first_analysis_opens_on_the_scored_block_and_later_ones_keep_the_users(qtbot, page, image_factory):
    panel, evidence = page.panel, page.panel.evidence
    lines_on_arrival = []
    page.image_analysed.connect(lambda _: lines_on_arrival.append((evidence.se_line.text(), evidence.cam_line.text())))
    analyse(qtbot, page, image_factory("first.png", size=(64, 64), seed=5))
    # The maps are shown before they are scored; the scores follow from the background.
    (se_line, cam_line), = lines_on_arrival
    assert se_line.endswith(": scoring…") and cam_line == "Grad-CAM at features.5 · 112 ch · 4×4: scoring…"
    explainer = panel.analysed.explainer
    assert panel.depth == explainer.depth() == 10  # s5 b3: the deepest SE block with a 4×4 grid at 64 px
    assert "deletion AUC" in evidence.se_line.text()  # scored with the analysis: no button to press
    panel.slider.setValue(2)
    analyse(qtbot, page, image_factory("second.png", size=(64, 64), seed=6))
    assert panel.depth == 2


def test_a_failed_analysis_leaves_the_image_on_show_fully_scored(qtbot, page, image_factory, tmp_path):
    # A new analysis cancels the scoring of the image on show; when it fails, that scoring is finished.
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    page.image_analysed.connect(lambda _: page.analyse_path(str(broken)))
    analyse(qtbot, page, image_factory("shown.png", size=(64, 64), seed=8))
    qtbot.waitUntil(lambda: "broken.png cannot be analysed" in page.message.text() and page.is_settled(),
                    timeout=TIMEOUT)
    evidence = page.panel.evidence
    assert "deletion AUC" in evidence.se_line.text() and "deletion AUC" in evidence.cam_line.text()
