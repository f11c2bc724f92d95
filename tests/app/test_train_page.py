"""The Train page: dataset scan, a real tiny run with live curves, pause/stop/resume, results,
reopening runs, Use / Save as / Export, and closing the window during training."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from app.state import BackendInfo, initial_facts
from app.pages.train.train_form import TrainChoices
from model.core.events import (
    BatchSizeReduced,
    EpochMetrics,
    Finished,
    Notice,
    PreparingImages,
    SkippedFile,
    StepMetrics,
    TrainingStarted,
)
from model.core.train_config import TrainConfig
from model.core.train_control import TrainControl
from tests.app.test_drop import _drag_enter, _drop, _mime
from tests.conftest import make_image

COLOURS = {"red": (210, 40, 40), "blue": (40, 60, 210), "green": (40, 190, 60)}
TINY = TrainChoices(variant="b0", mode="full", epochs=2, image_size=32, weights="random", batch_size=2, val_split=25)


def make_dataset(root: Path, classes=("red", "blue"), per_class: int = 4) -> Path:
    seed = 0
    for name in classes:
        for i in range(per_class):
            make_image(root / name / f"{name}_{i}.png", size=(36, 32), color=COLOURS[name], seed=seed)
            seed += 1
    return root


@pytest.fixture(autouse=True)
def user_data_in_tmp(tmp_path, monkeypatch):
    """Whatever asks for the user's data folder gets a temporary one."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def page(window, tmp_path):
    """The Train page in a window whose backend is 'loaded' (CPU, no ImageNet weights on disk)."""
    return open_train_page(window, tmp_path)


def open_train_page(window, tmp_path):
    """What the ``page`` fixture gives, for other test modules' fixtures."""
    info = BackendInfo("cpu", "CPU · 2 cores", ("cpu",), initial_facts())
    window.session.backend = info
    window.session.backend_loaded.emit(info)
    p = window.page("train")
    p.runs_root = str(tmp_path / "runs")
    p.form.set_choices(TINY)
    return p


def scan(qtbot, page, folder: Path) -> None:
    page.set_dataset(str(folder))
    qtbot.waitUntil(lambda: page.scan is not None and not page.dataset.busy, timeout=20_000)


def start(page):
    """Start a run and hand back its worker."""
    page.start()
    assert page.trainer is not None, "Start did nothing"
    return page.trainer


def buttons(page) -> dict[str, bool]:
    c = page.controls
    return {name: getattr(c, f"{name}_button").isEnabled() for name in ("start", "pause", "resume", "stop")}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny finished run made by the engine itself (2 epochs), in its own runs folder."""
    from model.training.engine import TrainConfig, train
    from model.training.runs import new_run_dir

    root = tmp_path_factory.mktemp("made")
    data = make_dataset(root / "data", classes=("red", "blue", "green"), per_class=4)
    run = new_run_dir(root / "runs", data, "b0")
    events = list(train(TrainConfig(data, run, weights="random", mode="full", epochs=2, image_size=32,
                                    num_workers=0, device="cpu", val_split=0.5)))
    return run, events


# --- the dataset -----------------------------------------------------------------------------------
def test_dropping_a_folder_scans_it_and_summarises_it(qtbot, window, page, tmp_path):
    folder = make_dataset(tmp_path / "pets")
    (folder / "red" / "broken.jpg").write_bytes(b"not a jpeg at all")
    window.show()
    window.show_page("train")
    qtbot.waitExposed(window)
    # Delivered to the window like a real drag, over the curves: Qt routes it to the page.
    target = page.curves
    pos = QPointF(target.mapTo(window, target.rect().center()))
    handle = window.windowHandle()
    assert not _drag_enter(handle, _mime(make_image(tmp_path / "loose.png")), pos).isAccepted()  # a file is no dataset
    assert _drag_enter(handle, _mime(folder), pos).isAccepted()
    assert _drop(handle, _mime(folder), pos).isAccepted()
    qtbot.waitUntil(lambda: page.scan is not None, timeout=20_000)
    summary = page.summary
    assert summary.class_rows() == [("blue", 4), ("red", 4)]
    assert summary.skipped_rows() == [("broken.jpg", "not an image (or a format we cannot read)")]
    assert "Tiny classes" in summary.warnings.text() and summary.warnings.isVisibleTo(page)
    assert "2 classes" in summary.headline.text() and "8 images" in summary.headline.text()
    qtbot.waitUntil(lambda: not page.dataset.busy)
    assert buttons(page) == {"start": True, "pause": False, "resume": False, "stop": False}
    assert page.settings.last_folder("dataset") == str(folder)


def test_a_test_folder_is_reported_as_set_aside(qtbot, page, tmp_path):
    make_dataset(tmp_path / "split" / "train")
    make_dataset(tmp_path / "split" / "test", per_class=2)
    scan(qtbot, page, tmp_path / "split")
    assert "8 images" in page.summary.headline.text()  # the test images are not training images
    assert "4 test images set aside" in page.summary.headline.text()


def test_a_folder_nobody_can_train_on_says_why_and_start_stays_off(qtbot, page, tmp_path):
    make_image(tmp_path / "one" / "only" / "a.png")
    page.set_dataset(str(tmp_path / "one"))
    qtbot.waitUntil(lambda: not page.dataset.busy, timeout=20_000)
    assert "at least 2 class" in page.summary.headline.text()
    assert not buttons(page)["start"]


# --- training through the real engine ----------------------------------------------------------------
def test_a_real_run_on_tiny_data_feeds_the_curves_and_ends_with_results(qtbot, page, tmp_path):
    scan(qtbot, page, make_dataset(tmp_path / "data"))
    with qtbot.waitSignals([page.training_started, page.training_finished, page.run_shown], order="strict",
                           timeout=120_000):
        start(page)
    qtbot.waitUntil(page.is_settled, timeout=60_000)
    curves = page.curves
    assert curves.point_count("train_loss") == 2 and curves.point_count("val_loss") == 2
    assert curves.point_count("train_acc") == 2 and curves.point_count("val_acc") == 2
    assert curves.point_count("train_loss_steps") >= 2 and curves.point_count("lr") >= 2
    assert "2 of 2 epochs" in page.progress.bar.format() and "Completed" in page.progress.label.text()
    assert "CPU" in page.progress.label.text() and "B0 · full mode · random weights" in page.run_info.text()
    run = Path(page.run_dir)
    assert run.parent == tmp_path / "runs" and {"model.pt", "last.pt", "evaluation.json"} <= {p.name for p in run.iterdir()}
    assert page.results.matrix.matrix_model.rowCount() == 2 and page.results.metrics_model.rowCount() == 2
    assert sum(map(sum, page.results.matrix.matrix_model.matrix)) == 2  # one validation image per class
    assert page.use_button.isEnabled() and page.export_button.isEnabled() and page.save_button.isEnabled()
    assert buttons(page) == {"start": True, "pause": False, "resume": False, "stop": False}
    qtbot.waitUntil(lambda: page.runs_list.paths() == [str(run)], timeout=20_000)
    assert page.settings.train_form["epochs"] == 2  # the choices are remembered for next time


def test_pause_then_stop_saves_a_checkpoint_and_resume_finishes_the_run(qtbot, page, tmp_path):
    scan(qtbot, page, make_dataset(tmp_path / "data"))
    with qtbot.waitSignal(page.training_paused, timeout=120_000) as paused:
        start(page)
        page.pause()  # before the first step: the engine holds at its first step boundary
        assert buttons(page) == {"start": False, "pause": False, "resume": True, "stop": True}
        # The page made the run's config and control; its Pause reached the control at once.
        trainer = page.trainer
        assert isinstance(trainer.config, TrainConfig) and trainer.config.data_dir == str(tmp_path / "data")
        assert isinstance(trainer.control, TrainControl) and trainer.control.paused
    assert paused.args[0].step == 0  # held before the first step
    assert page.curves.point_count("train_loss") == 0  # nothing trains while paused
    assert page.progress.label.text().startswith("Paused ")

    with qtbot.waitSignal(page.training_finished, timeout=60_000) as done:
        page.stop()
        assert page.controls.stop_button.text() == "Stopping…" and not any(buttons(page).values())
    finished = done.args[0]
    assert isinstance(finished, Finished) and finished.reason == "stopped by user" and finished.epochs_done == 0
    run = Path(finished.bundle_path).parent
    from model.training.checkpoint import load_checkpoint

    assert load_checkpoint(run / "last.pt").epochs_done == 0 and (run / "model.pt").is_file()
    qtbot.waitUntil(lambda: page.record is not None and page.is_settled(), timeout=30_000)
    assert page.record.can_resume
    assert buttons(page) == {"start": True, "pause": False, "resume": True, "stop": False}
    # No epoch ended: no model to use, save or export, and the page says so (not "the best model is saved").
    assert not (page.use_button.isEnabled() or page.save_button.isEnabled() or page.export_button.isEnabled())
    assert not any(page._menu_actions[n].isEnabled() for n in ("use", "save", "export"))
    assert "no trained model yet" in page.message.text() and "model is saved" not in page.message.text()

    with qtbot.waitSignal(page.training_finished, timeout=120_000) as resumed:
        page.resume()  # idle with a stopped run shown: continue it from its checkpoint
        again = page.trainer
        assert again is not None and again.config.resume and again.config.out_dir == str(run)
        assert again.control is not trainer.control and not again.control.stopped  # a fresh control per run
    assert resumed.args[0].reason == "completed" and resumed.args[0].epochs_done == 2
    qtbot.waitUntil(lambda: page.is_settled() and page.record is not None, timeout=30_000)
    assert page.curves.point_count("train_loss") == 2 and not page.record.can_resume
    assert buttons(page)["resume"] is False


def answer_quit_question(qtbot, button: str, seen: list[str]) -> None:
    """Once the quit question is up, note its text and press ``button`` ("stop_and_quit" or Cancel)."""

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        if button == "cancel":
            box.button(QMessageBox.StandardButton.Cancel).click()
        else:
            box.findChild(QPushButton, button).click()

    QTimer.singleShot(0, answer)


def test_close_during_training_asks_then_stops_training_and_the_app_quits(qtbot, qapp, window, page, tmp_path):
    window.show()
    scan(qtbot, page, make_dataset(tmp_path / "data"))
    page.form.set_choices(TrainChoices(**{**TINY.to_dict(), "epochs": 50}))
    worker = start(page)
    thread = window.pool._running[worker]
    # Training for real now, with 49 epochs to go.
    qtbot.waitUntil(lambda: page.curves.point_count("train_loss") >= 1, timeout=120_000)

    seen: list[str] = []
    answer_quit_question(qtbot, "cancel", seen)
    assert not window.close()  # Cancel: nothing changes
    assert seen == ["Training is running. Stop it and quit? The run can be resumed later."]
    assert window.isVisible() and not worker.stop_requested and page.trainer is worker

    # The real event loop, as in app.main(): closing must end it, not leave a process without a window.
    def close_window() -> None:
        answer_quit_question(qtbot, "stop_and_quit", seen)
        window.close()

    QTimer.singleShot(0, close_window)
    QTimer.singleShot(120_000, lambda: qapp.exit(3))  # a hang fails the test instead of blocking it
    assert qapp.exec() == 0
    assert len(seen) == 2 and not window.isVisible()
    assert worker.stop_requested and page.runs._reader is None  # nothing new was started on the way out
    assert window.pool.idle and thread.isFinished()  # no worker thread is left
    from model.training.checkpoint import load_checkpoint

    run = Path(page.run_dir)
    ckpt = load_checkpoint(run / "last.pt")
    assert 1 <= ckpt.epochs_done < 50 and (run / "model.pt").is_file()
    assert "Stopped by user" in page.progress.label.text()


def test_the_quit_question_names_only_work_the_user_would_miss(tmp_path):
    from app.pages.train.workers import ExportWorker, RunListWorker
    from app.pages.train.workers import TrainWorker as Training
    from app.widgets.quit_question import quit_question
    from model.core.train_config import TrainConfig
    from model.core.train_control import TrainControl

    def TrainWorker(_):
        return Training(TrainConfig(str(tmp_path), ""), TrainControl())

    assert quit_question([RunListWorker(str(tmp_path))]) == ""  # quick work stops without asking
    assert quit_question([TrainWorker({}), RunListWorker(str(tmp_path))]) == (
        "Training is running. Stop it and quit? The run can be resumed later.")
    both = quit_question([TrainWorker({}), ExportWorker("model.pt", "onnx", "model.onnx")])
    assert both.startswith("Training and exporting the model are running. Stop them and quit?")


# --- the same UI with a fake engine: fast checks of what the events do --------------------------------
def fake_train(run_dir: Path, steps: int):
    def train(config, control=None):
        yield Notice("Tiny classes: 'a' (3)", "warning")
        yield SkippedFile(str(run_dir / "bad.png"), "file is empty")
        yield TrainingStarted("cpu", "CPU · 2 cores", "b0", "head", "random weights", ("a", "b"), 6, 2, 1, 1, 4,
                              32, False, None, True, 0, str(run_dir))
        yield PreparingImages(3, 8)
        for step in range(1, steps + 1):
            yield StepMetrics(1, step, steps, 1.0 / step, step / steps, 0.001 * step / steps, 250.0)
        yield BatchSizeReduced(4, 2, "CUDA out of memory")
        yield EpochMetrics(1, 1, 0.5, 0.75, 0.6, 0.5, 0.001, 0.2, True)
        yield Finished(0.5, str(run_dir / "model.pt"), False, "completed", str(run_dir / "last.pt"), 1)

    return train


def test_engine_events_reach_the_curves_throttled_and_the_notices(qtbot, page, tmp_path, monkeypatch):
    run_dir = tmp_path / "runs" / "fake"
    run_dir.mkdir(parents=True)
    monkeypatch.setattr("model.training.engine.train", fake_train(run_dir, steps=400))
    scan(qtbot, page, make_dataset(tmp_path / "data"))
    redraws = []
    original = page.curves.flush
    monkeypatch.setattr(page.curves, "flush", lambda: (redraws.append(1), original())[1])
    with qtbot.waitSignals([page.training_started, page.training_finished], order="strict", timeout=30_000):
        start(page)
    qtbot.waitUntil(page.is_settled, timeout=20_000)
    assert page.curves.point_count("train_loss_steps") == 400 and page.curves.point_count("train_loss") == 1
    assert len(redraws) < 40  # 400 steps, a handful of repaints
    text = page.message.text()
    assert "Tiny classes" in text or "bad.png" in text or "batch size went from 4 to 2" in text
    assert any("batch size went from 4 to 2" in t for _, t in page.notices)
    assert any("Skipped bad.png: file is empty" in t for _, t in page.notices)
    assert "head mode" in page.run_info.text() and "augmentation off" in page.run_info.text()
    # The fake run wrote no files: reading it back says so in one sentence.
    assert any("holds no training run" in t for _, t in page.notices)


def test_progress_shows_speed_time_left_and_device(qtbot):
    from app.pages.train.train_progress import TrainProgress, format_duration

    progress = TrainProgress()
    qtbot.addWidget(progress)
    progress.start(TrainingStarted("cpu", "CPU · 2 cores", "b0", "full", "random weights", ("a", "b"), 6, 2, 4, 1, 2,
                                   32, True, None, True, 0, "/r"))
    progress._started_at -= 30.0  # as if 30 s had passed
    progress.step(StepMetrics(2, 1, 2, 0.5, 0.5, 0.001, 123.4))
    text = progress.label.text()
    assert "step 1 of 2" in text and "123 images/s" in text and "CPU · 2 cores" in text
    assert "about 50 s left" in text  # 3/8 of the run in 30 s: 50 s for the other 5/8
    assert progress.bar.value() == 375 and "Epoch 2 of 4" in progress.bar.format()
    assert (format_duration(42), format_duration(180), format_duration(3900)) == ("42 s", "3 min", "1 h 05 min")


def test_took_counts_every_session_of_a_resumed_run(qtbot):
    from app.pages.train.train_progress import TrainProgress

    progress = TrainProgress()
    qtbot.addWidget(progress)
    before = tuple(EpochMetrics(e, 4, 0.5, 0.5, 0.4, 0.6, 0.001, 60.0, True) for e in (1, 2))
    progress.start(TrainingStarted("cpu", "CPU · 2 cores", "b0", "full", "random weights", ("a", "b"), 6, 2, 4, 3, 2,
                                   32, True, None, True, 0, "/r", history=before))
    progress._started_at -= 120.0  # this session: 2 minutes
    progress.finish(Finished(0.6, "/r/model.pt", False, "completed", "/r/last.pt", 4))
    assert "took 4 min in all its sessions" in progress.label.text()  # 2 min before the resume + 2 min now


# --- results of a finished run ---------------------------------------------------------------------
def test_reopening_a_run_restores_its_curves_and_results(qtbot, page, finished_run):
    run, events = finished_run
    page.runs_root = str(run.parent)
    page.runs.refresh_runs()
    qtbot.waitUntil(lambda: page.runs_list.count() == 1, timeout=20_000)
    assert "2 epochs" in page.runs_list.item(0).text()
    page.runs_list.setCurrentRow(0)
    assert page.runs.open_button.isEnabled()
    page.runs.open_button.click()
    qtbot.waitUntil(lambda: page.record is not None and page.is_settled(), timeout=30_000)
    curves = page.curves
    assert curves.point_count("train_loss") == 2 and curves.point_count("val_acc") == 2
    assert curves.point_count("lr") == 2 and curves.point_count("train_loss_steps") == 0
    live = [e for e in events if isinstance(e, EpochMetrics)]
    _, ys = curves.curves["train_loss"].getData()
    assert list(ys) == pytest.approx([e.train_loss for e in live])
    assert curves.best_epoch() == max(e.epoch for e in live if e.is_best)
    assert "2 of 2 epochs" in page.progress.bar.format()
    assert page.results.matrix.matrix_model.class_names == ["blue", "green", "red"]
    assert "Validation accuracy" in page.results.summary.text()
    assert not buttons(page)["resume"]  # it finished: nothing to continue
    assert page.use_button.isEnabled()


def test_a_run_scored_on_a_test_folder_opens_on_its_test_results(qtbot, page, finished_run, tmp_path):
    from dataclasses import replace

    from model.training.runs import read_run

    run, _ = finished_run
    copy = copy_run(run, tmp_path / "runs")
    validation = read_run(copy).evaluation
    matrix = [[1, 1, 0], [0, 1, 1], [0, 0, 2]]  # what the engine writes after scoring a dataset's test/ folder
    test = replace(validation, accuracy=4 / 6, confusion_matrix=matrix, num_images=6, mistakes=[], records=[])
    (copy / "test_evaluation.json").write_text(json.dumps(test.to_dict()))
    page.runs.read_run(str(copy), False)
    qtbot.waitUntil(lambda: page.record is not None and page.is_settled(), timeout=30_000)
    results = page.results
    assert results.shown_split == "test" and not results.split.isHidden()
    assert "Test accuracy 66.7 %</b> on 6 images" in results.summary.text()
    assert results.matrix.matrix_model.matrix == matrix
    results.split.setCurrentIndex(results.split.findData("validation"))
    assert results.shown_split == "validation" and "Validation accuracy" in results.summary.text()
    assert results.matrix.matrix_model.matrix == validation.confusion_matrix
    results.show_evaluation(validation)  # a run without a test/ folder: no menu
    assert results.split.isHidden() and results.shown_split == "validation"


def test_a_confusion_cell_click_lists_its_misclassified_images_with_thumbnails(qtbot, page, tmp_path):
    import torch

    from model.training.evaluate import evaluation_from_outputs

    paths = [str(make_image(tmp_path / "val" / f"{i}.png", size=(50, 40), color=(20 * i, 100, 100))) for i in range(6)]
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    # 0→1 twice (image 2 worse than image 1), 0→0 once, 1→1 twice, 2→0 once
    logits = torch.tensor([[5.0, 0, 0], [0, 1.0, 0], [0, 4.0, 0], [0, 3.0, 0], [0, 3.0, 0], [2.0, 0, 0]])
    ev = evaluation_from_outputs(["cat", "dog", "owl"], paths, labels, logits)
    page.results.show_evaluation(ev)
    view = page.results.matrix
    page.show()
    qtbot.waitExposed(page)
    rect = view.visualRect(view.matrix_model.index(0, 1))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    mistakes = page.results.mistakes
    assert mistakes.paths() == [paths[2], paths[1]]  # worst first
    assert "'cat' predicted as 'dog': 2 images" in page.results.mistakes_title.text()
    qtbot.waitUntil(lambda: mistakes.has_thumbnail(0) and mistakes.has_thumbnail(1), timeout=20_000)
    view.select_cell(2, 0)
    assert mistakes.paths() == [paths[5]]
    view.select_cell(1, 1)
    assert mistakes.count() == 0 and "2 images of 'dog' were classified correctly" in page.results.mistakes_title.text()
    assert page.results.worst_cell() == (0, 1)


def test_use_save_as_and_export_the_model_of_a_run(qtbot, page, finished_run, tmp_path, monkeypatch):
    run, _ = finished_run
    page.open_run(str(run))
    qtbot.waitUntil(lambda: page.record is not None and page.is_settled(), timeout=30_000)

    copy = tmp_path / "saved" / "mine.pt"
    copy.parent.mkdir()
    monkeypatch.setattr("app.pages.train.model_actions.QFileDialog.getSaveFileName", lambda *a, **k: (str(copy), ""))
    page.runs.save_model()
    qtbot.waitUntil(lambda: page.is_settled() and copy.exists(), timeout=30_000)
    assert copy.read_bytes() == (run / "model.pt").read_bytes() and not list(copy.parent.glob(".*tmp"))
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o666 & ~umask  # the user's umask, not mkstemp's 0600

    onnx = tmp_path / "exported" / "model"
    onnx.parent.mkdir()
    monkeypatch.setattr("app.pages.train.model_actions.QFileDialog.getSaveFileName", lambda *a, **k: (str(onnx), "ONNX model (*.onnx)"))
    page.runs.export_model()
    assert page.runs.job.isVisibleTo(page) and not page.export_button.isEnabled()  # one job at a time
    qtbot.waitUntil(page.is_settled, timeout=120_000)
    assert (tmp_path / "exported" / "model.onnx").is_file()
    exported = [t for _, t in page.notices if t.startswith("Exported ONNX")]
    assert exported and "largest difference in class probability" in exported[0]

    with qtbot.waitSignal(page.session.model_changed, timeout=120_000) as changed:
        page.runs.use_model()
    active = changed.args[0]
    assert active.is_fine_tuned and active.choice.bundle == str(run / "model.pt") and active.class_count == 3
    assert page.settings.bundle == str(run / "model.pt")


# --- the form and the settings ---------------------------------------------------------------------
def test_without_imagenet_weights_the_form_trains_from_random_and_says_so(qtbot, page):
    form = page.form
    form.set_choices(TrainChoices(weights="imagenet", mode="head"))
    form.refresh_weights()
    choices = form.choices()
    assert choices.weights == "random" and choices.mode == "full"  # a random backbone is no use frozen
    assert "not on disk" in form.weights_note.text() and form.weights_note.isVisibleTo(page)
    imagenet = form.weights.model().item(form.weights.findData("imagenet"))
    assert not imagenet.isEnabled()
    form.weights_cached = lambda variant: True
    form.refresh_weights()
    assert imagenet.isEnabled() and "not on disk" not in form.weights_note.text()
    form.mode.setCurrentIndex(form.mode.findData("head"))
    assert "Augmentation is off" in form.mode_note.text()
    assert "128 px trains about 3× faster" in form.size_note.text()
    form.image_size.setValue(256)  # the hint follows the size chosen, not only the variant's
    assert "128 px trains about 4× faster than 256 px" in form.size_note.text()
    form.image_size.setValue(128)
    assert not form.size_note.isVisibleTo(page)


def test_choices_become_engine_settings_and_survive_a_restart(page):
    c = TrainChoices(variant="b2", mode="full", epochs=7, batch_size=0, lr=0.0, image_size=0, val_split=10,
                     weights="random", seed=3, patience=0, warmup_epochs=-1, val_dir="", device="cpu")
    config = c.to_config(data_dir="d")
    assert config == TrainConfig(data_dir="d", out_dir="", variant="b2", mode="full", epochs=7, weights="random",
                                 batch_size=None, lr=None, image_size=None, val_split=0.1, seed=3, patience=None,
                                 warmup_epochs=None, val_dir=None, device="cpu")
    page.settings.train_form = c.to_dict()
    from app.settings import AppSettings

    again = AppSettings()
    assert TrainChoices.from_dict(again.train_form) == c
    assert TrainChoices.from_dict({"epochs": "many", "variant": "b9", "mode": 3}) == TrainChoices()
    assert again.runs_folder.endswith("/runs") and "xdg-data" in again.runs_folder
    again.runs_folder = "/somewhere/runs"
    assert AppSettings().runs_folder == "/somewhere/runs"
    assert json.loads(json.dumps(c.to_dict())) == c.to_dict()


def test_train_when_ready_starts_once_the_scan_is_in(qtbot, page, tmp_path):
    """The backend is already loaded here, so the scan's result is what starts the run."""
    with qtbot.waitSignals([page.training_started, page.training_finished, page.run_shown], order="strict",
                           timeout=120_000):
        page.train_when_ready(str(make_dataset(tmp_path / "data")))
    qtbot.waitUntil(page.is_settled, timeout=30_000)
    assert page.record is not None and page.record.epochs_done == 2


def test_a_run_that_cannot_start_says_why_in_one_sentence(qtbot, page, tmp_path):
    import shutil

    data = make_dataset(tmp_path / "data")
    scan(qtbot, page, data)
    shutil.rmtree(data / "blue")  # the folder changed after it was scanned
    page.start()
    qtbot.waitUntil(page.is_settled, timeout=60_000)
    level, text = page.notices[-1]
    assert level == "warning" and "only 1 class" in text and "Traceback" not in text
    assert "error" in page.run_info.text()
    assert buttons(page) == {"start": True, "pause": False, "resume": False, "stop": False}


def test_every_shortcut_in_the_window_is_used_once(window):
    from PySide6.QtGui import QAction

    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        for shortcut in action.shortcuts():
            key = shortcut.toString()
            assert key not in seen, f"{key} is both '{seen[key]}' and '{action.text()}'"
            seen[key] = action.text()
    assert {"Ctrl+T", "Ctrl+P", "Ctrl+R", "Ctrl+Shift+T"} <= set(seen)


@pytest.mark.slow
def test_screenshot_of_the_train_page_shows_a_finished_sample_run(tmp_path):
    import os
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), TORCH_HOME=str(tmp_path / "torch"),
               EFFICIENTNET_STUDIO_CACHE=str(tmp_path / "cache"), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    target = tmp_path / "train.png"
    out = subprocess.run([sys.executable, "main.py", "--screenshot", str(target), "--page", "train"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "had not settled" not in out.stderr, out.stdout + out.stderr
    image = QImage(str(target))
    assert (image.width(), image.height()) == (1280, 800)
    assert len({image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}) > 8
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").rglob("model.pt"))  # no runs left behind
    assert not list((tmp_path / "tmp").glob("efficientnet-studio-sample-*"))  # the sample data and run are gone


def test_class_metrics_model_passes_the_model_tester_with_titled_columns(qtmodeltester):
    from app.pages.train.class_metrics import COLUMNS, ClassMetricsModel

    model = ClassMetricsModel()
    qtmodeltester.check(model)
    model.set_metrics({"cat": {"precision": 0.5, "recall": 1.0, "f1": 0.667, "support": 2},
                       "dog": {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 2}})
    qtmodeltester.check(model)
    assert model.rowCount() == 2 and model.columnCount() == len(COLUMNS) == 5
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Precision"
    assert "harmonic mean" in model.headerData(3, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert model.headerData(9, Qt.Orientation.Horizontal) is None and model.rowCount(model.index(0, 0)) == 0


# --- the runs list: interrupted runs, resume after a restart, rename and delete -----------------------
def copy_run(run: Path, root: Path, epochs_done: int | None = None) -> Path:
    """A copy of a finished run under ``root``; with ``epochs_done`` its metrics stop there (interrupted)."""
    import shutil

    copy = root / run.name
    shutil.copytree(run, copy)
    if epochs_done is not None:
        lines = (copy / "metrics.csv").read_text().splitlines()
        (copy / "metrics.csv").write_text("\n".join(lines[: 1 + epochs_done]) + "\n")
    return copy


def test_after_a_restart_the_last_interrupted_run_is_offered_for_resume(qtbot, window, finished_run, tmp_path):
    run, _ = finished_run
    copy = copy_run(run, tmp_path / "runs", epochs_done=1)
    page = window.page("train")
    page.runs_root = str(tmp_path / "runs")
    info = BackendInfo("cpu", "CPU · 2 cores", ("cpu",), initial_facts())
    window.session.backend = info
    window.session.backend_loaded.emit(info)  # as at launch: the runs are listed
    qtbot.waitUntil(lambda: page.record is not None and page.is_settled(), timeout=30_000)
    assert page.record.path == copy and page.controls.resume_button.isEnabled()
    assert "stopped at epoch 1 of 2: press Resume to continue it" in page.message.text()
    assert "stopped at epoch 1 of 2: Resume" in page.runs_list.item(0).text()


def test_runs_can_be_renamed_and_deleted_to_the_trash(qtbot, page, finished_run, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    run, _ = finished_run
    copy = copy_run(run, Path(page.runs_root))
    page.runs.refresh_runs()
    qtbot.waitUntil(lambda: page.runs_list.paths() == [str(copy)], timeout=20_000)
    page.runs_list.setCurrentRow(0)
    assert page.runs.rename_button.isEnabled() and page.runs.delete_button.isEnabled()

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("bad/name", True)))
    page.runs.rename_selected()
    assert "cannot be a folder name" in page.message.text() and copy.is_dir()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("my best run", True)))
    page.runs.rename_selected()
    renamed = Path(page.runs_root) / "my best run"
    qtbot.waitUntil(lambda: page.runs_list.paths() == [str(renamed)], timeout=20_000)
    assert not copy.exists() and (renamed / "model.pt").is_file()

    page.runs_list.setCurrentRow(0)
    page.runs.delete_selected()
    qtbot.waitUntil(lambda: page.runs_list.paths() == [], timeout=20_000)
    assert not renamed.exists()
    trash = tmp_path / "xdg-data" / "Trash" / "files"
    assert (trash / "my best run" / "model.pt").is_file()  # to the trash: it can be brought back
    assert "was deleted" in page.message.text()


def test_without_a_trash_deleting_a_run_asks_first(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QFile
    from PySide6.QtWidgets import QWidget

    from app.pages.train.run_files import RunFiles

    monkeypatch.setattr(QFile, "moveToTrash", staticmethod(lambda *a: False))
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda parent, title, text, *a: (asked.append(text),
                                                                                              answers.pop(0))[1]))
    parent = QWidget()
    qtbot.addWidget(parent)
    files = RunFiles(parent)
    run = tmp_path / "runs" / "r1"
    (run / "cache").mkdir(parents=True)
    deleted = []
    files.deleted.connect(deleted.append)
    files.delete(str(run))
    assert run.is_dir() and deleted == [] and "for good" in asked[0]  # Cancel keeps it
    files.delete(str(run))
    assert not run.exists() and deleted == [str(run)]


def test_a_run_another_process_is_training_in_is_neither_renamed_nor_deleted(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QFile
    from PySide6.QtWidgets import QInputDialog, QWidget

    from app.pages.train.run_files import RunFiles
    from model.core.file_lock import FolderLock

    parent = QWidget()
    qtbot.addWidget(parent)
    files = RunFiles(parent)
    run = tmp_path / "runs" / "going"
    run.mkdir(parents=True)
    training = FolderLock(run)  # what a training in another process holds for its whole run
    assert training.acquire() is None
    failed, trashed = [], []
    files.failed.connect(failed.append)
    monkeypatch.setattr(QFile, "moveToTrash", staticmethod(lambda *a: trashed.append(a) or True))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("renamed", True)))
    files.delete(str(run))
    files.rename(str(run))
    assert trashed == [] and run.is_dir() and not (run.parent / "renamed").exists()
    assert failed == [f"The run going is in use by a training that is still going (pid {os.getpid()}): "
                      "wait for it to finish."] * 2
    training.release()  # the training ended: now it may go
    files.rename(str(run))
    assert (run.parent / "renamed").is_dir() and len(failed) == 2


def test_a_10_class_confusion_matrix_is_whole_and_labelled_at_1280x800(qtbot, window):
    from model.training.evaluate import Evaluation

    names = [f"class_{i}_{'long' * (i % 3)}" for i in range(10)]
    matrix = [[(20 if i == j else (i * j) % 3) for j in range(10)] for i in range(10)]
    per = {c: {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 22} for c in names}
    window.resize(1280, 800)
    window.show_page("train")
    window.show()
    qtbot.waitExposed(window)
    results = window.page("train").results
    results.show_evaluation(Evaluation(0.85, names, matrix, per, [], 0.4, sum(map(sum, matrix))))
    view = results.matrix
    qtbot.waitUntil(lambda: view.viewport().rect().contains(view.visualRect(view.model().index(9, 9))))
    model = view.matrix_model
    # Names too long for the cells: columns are numbered, rows say which number is which, tooltips in full.
    assert model.headerData(2, Qt.Orientation.Horizontal) == "3"
    assert model.headerData(2, Qt.Orientation.Vertical) == "3  class_2_longlong"
    assert "class_2_longlong" in model.headerData(2, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    # Whole with its counts, and the curves keep their place above it.
    assert view.horizontalScrollBar().maximum() == 0 and view.verticalScrollBar().maximum() == 0
    assert model.data(model.index(0, 0)) == "20"
    assert window.page("train").curves.isVisible() and not results.full_height_button.isChecked()


def fifty_class_evaluation():
    from model.training.evaluate import Evaluation

    names = [f"{('golden_retriever', 'tabby_cat', 'snow_leopard')[i % 3]}_{i}" for i in range(50)]
    matrix = [[(40 if i == j else int((i * 7 + j * 3) % 11 == 0)) for j in range(50)] for i in range(50)]
    per = {c: {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 40} for c in names}
    return Evaluation(0.9, names, matrix, per, [], 0.3, sum(map(sum, matrix)))


def test_a_50_class_confusion_matrix_is_whole_and_legible_in_a_maximised_window(qtbot, window):
    window.resize(1920, 1080)
    window.show_page("train")
    window.show()
    qtbot.waitExposed(window)
    page = window.page("train")
    results = page.results
    results.show_evaluation(fifty_class_evaluation())
    view, model = results.matrix, results.matrix.matrix_model
    # The matrix takes the page's whole height by itself (the curves step aside), and fits without scrolling.
    qtbot.waitUntil(lambda: results.full_height_button.isChecked() and not page.curves.isVisible())
    qtbot.waitUntil(lambda: view.viewport().rect().contains(view.visualRect(model.index(49, 49))))
    assert view.horizontalScrollBar().maximum() == 0 and view.verticalScrollBar().maximum() == 0
    # Each cell is at least 14 px a side: colour only, with the count in its tooltip.
    assert min(view.columnWidth(c) for c in range(50)) >= 14 and min(view.rowHeight(r) for r in range(50)) >= 14
    assert model.data(model.index(7, 7)) == "" and "40 images of 'tabby_cat_7'" in model.data(
        model.index(7, 7), Qt.ItemDataRole.ToolTipRole)
    # One mistake in 41 is tinted, not white like an empty cell.
    background = lambda r, c: model.data(model.index(r, c), Qt.ItemDataRole.BackgroundRole)  # noqa: E731
    assert model.matrix[0][11] == 1 and model.matrix[0][1] == 0 and background(0, 11) != background(0, 1)
    # The headers draw their labels small and margin-free, so "50" fits its column and names keep their ends.
    assert view.horizontalHeader().tight and view.verticalHeader().tight
    assert model.headerData(49, Qt.Orientation.Horizontal) == "50"
    assert model.headerData(49, Qt.Orientation.Vertical) == "50  tabby_cat_49"
    header = view.horizontalHeader()
    assert header.fontMetrics().horizontalAdvance("50") <= header.sectionSize(49)
    # The user's choice holds: the curves come back, and stay while this run is shown.
    results.full_height_button.click()
    assert page.curves.isVisible() and not results.full_height_button.isChecked()
    window.resize(1900, 1060)
    qtbot.wait(50)
    assert page.curves.isVisible()
    # A new run trains with its curves in view.
    results.full_height_button.click()
    assert not page.curves.isVisible()
    page.runs.show_training()
    assert page.curves.isVisible() and not results.full_height_button.isVisibleTo(results)


def test_a_matrix_fitted_while_hidden_asks_for_room_only_once_it_is_seen(qtbot):
    from app.pages.train.train_results import TrainResults
    from model.training.evaluate import Evaluation

    results = TrainResults()
    qtbot.addWidget(results)
    results.matrix.resize(200, 150)  # a stale size, as on a page that has not been laid out yet
    names = [f"c{i}" for i in range(10)]
    matrix = [[(9 if i == j else 0) for j in range(10)] for i in range(10)]
    per = {c: {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 9} for c in names}
    results.show_evaluation(Evaluation(1.0, names, matrix, per, [], 0.1, 90))
    assert not results.full_height_button.isChecked()
    results.resize(1000, 700)
    results.show()
    qtbot.waitExposed(results)
    view = results.matrix
    assert view.viewport().rect().contains(view.visualRect(view.model().index(9, 9)))
    assert not results.full_height_button.isChecked()  # seen at its real size, 10 classes fit as they are


def test_a_run_folder_in_use_by_another_training_is_refused_with_its_sentence(qtbot, page, tmp_path, monkeypatch):
    from model.core.file_lock import FolderLock

    data = make_dataset(tmp_path / "data")
    scan(qtbot, page, data)
    busy = tmp_path / "runs" / "busy"
    held = FolderLock(busy)  # as a training in another process holds it
    assert held.acquire() is None
    monkeypatch.setattr("model.training.runs.new_run_dir", lambda *args: busy)
    try:
        page.start()
        qtbot.waitUntil(page.is_settled, timeout=60_000)
    finally:
        held.release()
    level, text = page.notices[-1]
    assert level == "warning" and text.startswith(f"{busy} is in use by another training (pid {os.getpid()})")
    assert not (busy / "model.pt").exists() and buttons(page)["start"]
