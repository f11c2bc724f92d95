"""The Classify page: drops and pastes, streaming results, bad files inline, cancel, CSV."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QGuiApplication, QImage, QColor

from app.pages.classify.results_model import ResultsModel, RowState
from app.pages.classify.workers import ClassifyWorker
from tests.app.conftest import FakePredictor, Relay, fake_active_model


def _rows(page):
    return page.results.rows()


def _wait_until_done(qtbot, page, timeout=20_000):
    qtbot.waitUntil(lambda: page.is_settled() and page.results.rowCount() > 0, timeout=timeout)


def test_a_batch_with_a_bad_file_shows_its_error_inline_and_classifies_the_rest(qtbot, ready_window, image_factory, tmp_path):
    page = ready_window.page("classify")
    red = image_factory("batch/a_red.png", color=(220, 10, 10))
    broken = tmp_path / "batch" / "b_broken.jpg"
    broken.write_bytes(b"this is not a jpeg")
    blue = image_factory("batch/c_blue.png", color=(10, 10, 220))

    page.classify_paths([str(tmp_path / "batch")])
    _wait_until_done(qtbot, page)

    rows = _rows(page)
    assert [r.path for r in rows] == [str(red), str(broken), str(blue)]
    assert [r.state for r in rows] == [RowState.DONE, RowState.FAILED, RowState.DONE]
    assert rows[0].prediction.labels[0] == "red"
    assert rows[2].prediction.labels[0] == "blue"
    assert rows[1].error.startswith(str(broken))
    assert any(reason in rows[1].error for reason in ("damaged", "not an image"))
    assert page.stack.currentWidget() is page.list_view
    assert "2 of 3 images classified" in page.summary.text()
    assert "1 could not be read" in page.summary.text()
    assert "ms per image" in page.summary.text()


def test_the_summary_gives_wall_clock_time_per_file_handled():
    from app.pages.classify.results_model import ResultRow, summary_text

    rows = [ResultRow("a", RowState.DONE), ResultRow("b", RowState.DONE), ResultRow("c", RowState.FAILED),
            ResultRow("d", RowState.WAITING)]
    # 3 files handled in 0.06 s of wall-clock time (each file's own time does not matter).
    assert summary_text(rows, running=False, busy_seconds=0.06) == (
        "2 of 4 images classified · 1 could not be read · 20 ms per image"
    )
    assert summary_text(rows, running=True, busy_seconds=0.06) == "2 of 4 images classified · 1 could not be read"
    assert summary_text([], running=False) == ""


def test_worker_signals_arrive_in_order(qtbot, image_factory, tmp_path):
    image_factory("w/one.png")
    image_factory("w/two.png", color=(0, 200, 0))
    worker = ClassifyWorker(FakePredictor(), [str(tmp_path / "w")])
    listed = []
    worker.files_listed.connect(listed.extend)
    with qtbot.waitSignals(
        [worker.files_listed, worker.prediction_ready, worker.prediction_ready, worker.finished],
        order="strict", timeout=10_000,
    ):
        worker.run()  # in this thread: the order of emissions is what is checked
    assert [p.rsplit("/", 1)[-1] for p in listed] == ["one.png", "two.png"]


def test_worker_in_its_thread_streams_then_finishes(qtbot, ready_window, image_factory, tmp_path):
    for i in range(3):
        image_factory(f"t/{i}.png")
    worker = ClassifyWorker(FakePredictor(), [str(tmp_path / "t")])
    relay = Relay(worker)
    expected = [relay.files_listed, relay.prediction_ready, relay.prediction_ready, relay.prediction_ready, relay.finished]
    with qtbot.waitSignals(expected, order="strict", timeout=10_000):
        ready_window.pool.start(worker)
    qtbot.waitUntil(lambda: ready_window.pool.idle)
    indices = [e[1] for e in relay.events if e[0] == "prediction_ready"]
    assert indices == [0, 1, 2]


def test_cancel_keeps_the_results_so_far_and_marks_the_rest(qtbot, window, image_factory, tmp_path):
    predictor = FakePredictor(delay=0.05)
    window.session.use_predictor(predictor, fake_active_model())
    page = window.page("classify")
    for i in range(40):
        image_factory(f"many/{i:02d}.png", color=(i * 5, 100, 100))
    page.classify_paths([str(tmp_path / "many")])
    qtbot.waitUntil(lambda: len(predictor.seen) >= 3, timeout=10_000)
    assert page.job.isVisibleTo(page)
    page.cancel()
    qtbot.waitUntil(page.is_settled, timeout=10_000)
    states = [r.state for r in _rows(page)]
    assert states.count(RowState.DONE) >= 3
    assert states.count(RowState.CANCELLED) > 0
    assert states.count(RowState.DONE) + states.count(RowState.CANCELLED) == 40
    assert "Cancelled" in page.message.text()
    assert not page.job.isVisibleTo(page)


def test_paths_dropped_before_the_model_is_ready_wait_for_it(qtbot, window, image_factory):
    page = window.page("classify")
    path = image_factory("early.png")
    page.classify_paths([str(path)])
    assert page.results.rowCount() == 0
    assert "Waiting for the model" in page.message.text() and page.message.isVisibleTo(page)
    window.session.use_predictor(FakePredictor(), fake_active_model())
    _wait_until_done(qtbot, page)
    assert _rows(page)[0].state is RowState.DONE


def test_thumbnails_are_decoded_in_the_background(qtbot, ready_window, image_factory):
    page = ready_window.page("classify")
    page.classify_paths([str(image_factory("thumb.png", size=(300, 150)))])
    _wait_until_done(qtbot, page)
    thumb = _rows(page)[0].thumbnail
    assert thumb is not None and max(thumb.width(), thumb.height()) <= 80 and thumb.width() == 2 * thumb.height()


def test_a_folder_without_images_says_so(qtbot, ready_window, tmp_path):
    page = ready_window.page("classify")
    (tmp_path / "empty").mkdir()
    page.classify_paths([str(tmp_path / "empty")])
    qtbot.waitUntil(page.is_settled, timeout=10_000)
    assert "No image files" in page.message.text()


def test_paste_file_urls_and_image_data(qtbot, ready_window, image_factory, tmp_path, monkeypatch):
    page = ready_window.page("classify")
    clipboard = QGuiApplication.clipboard()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image_factory("copied.png")))])
    clipboard.setMimeData(mime)
    page.paste()
    _wait_until_done(qtbot, page)
    assert _rows(page)[0].path.endswith("copied.png")

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor(0, 200, 0))
    clipboard.setImage(image)
    page.paste()
    qtbot.waitUntil(lambda: page.results.rowCount() == 2 and page.is_settled(), timeout=10_000)
    second = _rows(page)[1]
    assert second.path.startswith(str(tmp_path)) and second.prediction.labels[0] == "green"


def test_export_csv_writes_every_result(qtbot, ready_window, image_factory, tmp_path, monkeypatch):
    page = ready_window.page("classify")
    image_factory("e/ok.png", color=(0, 0, 250))
    (tmp_path / "e" / "bad.png").write_bytes(b"")
    page.classify_paths([str(tmp_path / "e")])
    _wait_until_done(qtbot, page)
    target = tmp_path / "out" / "results.csv"
    target.parent.mkdir()
    monkeypatch.setattr("app.pages.classify.page.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    page.export_csv()
    with open(target, newline="", encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    assert [l["path"].rsplit("/", 1)[-1] for l in lines] == ["bad.png", "ok.png"]
    assert lines[0]["error"] == "file is empty" and lines[0]["label_1"] == ""
    assert lines[1]["label_1"] == "blue" and float(lines[1]["probability_1"]) > 0.9 and lines[1]["error"] == ""
    assert ready_window.settings.last_folder("export") == str(target.parent)


def test_results_model_passes_the_model_tester(qtmodeltester, image_factory):
    model = ResultsModel()
    model.add_files(["a.png", "b.png", "c.png"])
    model.set_predictions([(1, FakePredictor().predict_iter([str(image_factory("x.png"))]).__next__())])
    qtmodeltester.check(model)


@pytest.mark.slow
def test_the_real_predictor_with_random_weights_classifies_through_the_page(qtbot, window, image_factory, tmp_path, monkeypatch):
    """End to end with the backend's own Predictor (random weights, so any label will do)."""
    monkeypatch.setenv("EFFICIENTNET_STUDIO_CACHE", str(tmp_path / "cache"))
    from model.inference.predict import Predictor

    predictor = Predictor(variant="b0", weights="random", device="cpu")
    window.session.use_predictor(predictor, fake_active_model(missing=True))
    page = window.page("classify")
    image_factory("real/a.png", size=(40, 32))
    (tmp_path / "real" / "b.jpg").write_bytes(b"garbage")
    page.classify_paths([str(tmp_path / "real")])
    _wait_until_done(qtbot, page, timeout=120_000)
    rows = _rows(page)
    assert [r.state for r in rows] == [RowState.DONE, RowState.FAILED]
    assert len(rows[0].prediction.labels) == 5 and rows[0].prediction.labels[0] in predictor.class_names
    assert "random weights" in page.banner.text.text()


def test_rows_paint_in_every_state(qtbot, image_factory):
    """Waiting, classified (bars), failed (error text) and cancelled rows all draw."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QListView

    from app.pages.classify.results_delegate import ResultDelegate
    from tests.app.conftest import FakePrediction

    model = ResultsModel()
    model.add_files(["/p/waiting.png", "/p/done.png", "/p/bad.png", "/p/cancelled.png"])
    done = FakePrediction("/p/done.png", ["red", "green", "blue"], [0.9, 0.07, 0.03], [0, 1, 2], None, 0.012)
    bad = FakePrediction("/p/bad.png", [], [], [], "/p/bad.png: file is empty", 0.0)
    model.set_predictions([(1, done), (2, bad)])
    model.mark_cancelled(3)
    model.row(0).state = RowState.WAITING
    view = QListView()
    view.setModel(model)
    view.setItemDelegate(ResultDelegate(view))
    view.resize(900, 500)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage()
    row_rect = view.visualRect(model.index(1))
    highlight = view.palette().color(QPalette.ColorRole.Highlight).rgb()
    # The 90 % bar of the classified row is drawn in the theme's highlight colour.
    y_values = range(row_rect.top(), row_rect.bottom())
    assert any(image.pixel(x, y) == highlight for y in y_values for x in range(row_rect.width() // 2, row_rect.width() - 100, 7))
    assert model.row(3).state is RowState.CANCELLED and model.row(3).error.startswith("Not classified")


def test_thumbnails_of_cleared_rows_never_land_on_new_rows(qtbot, ready_window, image_factory):
    page = ready_window.page("classify")
    page.classify_paths([str(image_factory("old.png", size=(64, 64), color=(255, 0, 0)))])
    qtbot.waitUntil(lambda: page.is_settled() and page.results.rowCount() == 1, timeout=10_000)
    page.clear()
    page.results.add_files(["/new/row.png"])
    red = page.results.row(0).thumbnail
    page._on_thumbnail_ready(0, 0, QImage(8, 8, QImage.Format.Format_RGB888))  # late, from before clear()
    assert page.results.row(0).thumbnail is red is None
    page._on_thumbnail_ready(1, 0, QImage(8, 8, QImage.Format.Format_RGB888))  # this batch's own
    assert page.results.row(0).thumbnail is not None


def test_fast_jpeg_decoding_is_a_remembered_menu_choice_applied_to_the_next_drop(qtbot, ready_window, image_factory):
    page = ready_window.page("classify")
    action = page.fast_decode_action
    assert action.isCheckable() and not action.isChecked()  # off by default: the near-exact pixels
    page.classify_paths([str(image_factory("one/a.png"))])
    _wait_until_done(qtbot, page)
    assert ready_window.fake_predictor.fast_decode is False

    action.trigger()  # as a click in the Classify menu
    assert action.isChecked() and page.context.settings.fast_decode is True
    page.classify_paths([str(image_factory("two/b.png"))])
    qtbot.waitUntil(lambda: page.is_settled() and page.results.rowCount() == 2, timeout=20_000)
    assert ready_window.fake_predictor.fast_decode is True
