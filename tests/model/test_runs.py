"""Run folders: unique names, listing earlier runs, reading one back (curves, evaluation, settings)."""

import json
from datetime import datetime

import pytest
from tests.model.train_helpers import make_dataset

from model.training.engine import TrainConfig, TrainControl, train
from model.core.errors import StudioError
from model.training.evaluate import Evaluation
from model.core.events import EpochMetrics, StepMetrics
from model.training.runs import list_runs, new_run_dir, read_metrics_csv, read_run, run_folder_name, summarize_run


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny completed run (2 epochs) and the events it produced."""
    root = tmp_path_factory.mktemp("runs")
    data = make_dataset(root / "data" / "my flowers!", classes=("red", "blue"), per_class=4)
    run = new_run_dir(root / "runs", data, "b0", when=datetime(2026, 1, 2, 3, 4, 5))
    config = TrainConfig(data, run, weights="random", mode="full", epochs=2, image_size=32, num_workers=0, device="cpu")
    events = list(train(config))
    return run, events


def test_run_folder_names_sort_by_time_and_stay_unique(tmp_path):
    when = datetime(2026, 11, 24, 19, 5, 12)
    assert run_folder_name("/data/my flowers!", "b3", when) == "2026-11-24_19-05-12_my-flowers_b3"
    first = new_run_dir(tmp_path / "runs", "/data/flowers", "b0", when)
    second = new_run_dir(tmp_path / "runs", "/data/flowers", "b0", when)
    assert first.name == "2026-11-24_19-05-12_flowers_b0" and second.name == first.name + "-2"
    assert first.is_dir() and not any(first.iterdir())


def test_read_run_restores_the_curves_the_evaluation_and_the_settings(finished_run):
    run, events = finished_run
    record = read_run(run)
    live = [e for e in events if isinstance(e, EpochMetrics)]
    assert [h.epoch for h in record.history] == [1, 2]
    for got, want in zip(record.history, live):
        assert got.train_loss == pytest.approx(want.train_loss) and got.val_acc == pytest.approx(want.val_acc)
        assert got.lr == pytest.approx(want.lr) and got.is_best == want.is_best and got.epochs == 2
    assert record.class_names == ["blue", "red"] and record.config["variant"] == "b0"
    assert record.config["data_dir"].endswith("my flowers!") and record.epochs_planned == 2
    assert not record.can_resume  # every epoch is done
    assert record.bundle_path == run / "model.pt" and record.notes == []
    ev = record.evaluation
    assert isinstance(ev, Evaluation) and ev.class_names == ["blue", "red"]
    assert sum(map(sum, ev.confusion_matrix)) == ev.num_images == 2
    stored = json.loads((run / "evaluation.json").read_text())
    assert Evaluation.from_dict(stored).to_dict() == stored  # a lossless round trip


def test_a_stopped_run_can_be_resumed(tmp_path):
    data = make_dataset(tmp_path / "ds", classes=("red", "blue"), per_class=4)
    run = tmp_path / "run"
    control = TrainControl()
    config = TrainConfig(data, run, weights="random", mode="full", epochs=3, image_size=32, num_workers=0,
                         device="cpu", batch_size=2)
    for e in train(config, control):
        if isinstance(e, StepMetrics) and e.epoch == 2:
            control.stop()
    record = read_run(run)
    assert record.epochs_done == 1 and record.epochs_planned == 3 and record.can_resume
    summary = summarize_run(run)
    assert summary.has_checkpoint and summary.interrupted and summary.epochs_planned == 3
    assert summary.describe().startswith("stopped at epoch 1 of 3: Resume")


def test_a_run_stopped_before_its_first_epoch_has_no_trained_model(tmp_path, capsys):
    from model.cli.train import finished_line
    from model.core.events import Finished

    data = make_dataset(tmp_path / "ds", classes=("red", "blue"), per_class=4)
    run = tmp_path / "run"
    control = TrainControl()
    control.stop()  # before the first step
    events = list(train(TrainConfig(data, run, weights="random", mode="full", epochs=3, image_size=32,
                                    num_workers=0, device="cpu", batch_size=2), control))
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.epochs_done == 0
    record = read_run(run)
    assert record.bundle_path is None and record.can_resume  # model.pt holds only the starting weights
    summary = summarize_run(run)
    assert not summary.has_model and summary.has_checkpoint
    assert summary.interrupted and summary.describe() == "stopped before its first epoch: Resume"
    line = finished_line(finished)
    assert "there is no trained model yet" in line and "--resume" in line and "Model:" not in line


def test_list_runs_newest_first_and_skips_other_folders(tmp_path, finished_run):
    run, _ = finished_run
    root = run.parent
    (root / "not a run").mkdir(exist_ok=True)
    runs = list_runs(root)
    assert [r.path for r in runs] == [run]
    summary = runs[0]
    assert summary.epochs_done == 2 and summary.has_model and summary.has_checkpoint
    assert summary.epochs_planned == 2 and not summary.interrupted  # finished: nothing to resume
    assert summary.best_val_acc is not None and "2 epochs · best val acc" in summary.describe()
    assert summary.test_acc is None and "test" not in summary.describe()
    assert list_runs(tmp_path / "missing") == []


def test_a_run_scored_on_a_test_folder_lists_its_test_accuracy(tmp_path, finished_run):
    import json
    import shutil

    run, _ = finished_run
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    (copy / "test_evaluation.json").write_text(json.dumps({"accuracy": 0.75}))
    assert list_runs(tmp_path)[0].describe().endswith("· test 75.0 %")
    (copy / "test_evaluation.json").write_text("{damaged")
    assert list_runs(tmp_path)[0].test_acc is None  # still listed; opening the run says what is wrong


def test_damaged_files_become_notes_and_an_empty_folder_an_error(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(StudioError, match="no training run"):
        read_run(run)
    (run / "metrics.csv").write_text("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds,is_best,backbone_frozen\n"
                                     "1,0.7,0.5,,,0.001,1.5,True,False\n")
    (run / "evaluation.json").write_text("{not json")
    (run / "last.pt").write_bytes(b"garbage")
    record = read_run(run)
    assert [h.epoch for h in record.history] == [1] and record.history[0].val_acc is None
    assert record.evaluation is None and not record.can_resume
    assert any("last.pt" in n for n in record.notes) and any("evaluation" in n for n in record.notes)
    (run / "metrics.csv").write_text("epoch,train_loss\nx,y\n")
    with pytest.raises(StudioError, match="damaged"):
        read_metrics_csv(run / "metrics.csv")
    (run / "metrics.csv").write_bytes(b"epoch,train_loss\n\xff\xfe not text\n")
    with pytest.raises(StudioError, match="damaged"):
        read_metrics_csv(run / "metrics.csv")
    assert [r.path for r in list_runs(tmp_path)] == [run]  # still listed: opening it says what is wrong


def test_reading_runs_loads_no_qt():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, model.training.runs; bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')];"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_runs_model_is_called_by_its_run_not_model_pt(finished_run):
    from model.core.model_names import bundle_title
    from model.nets.classifier import load_classifier

    run, _ = finished_run
    assert bundle_title(run / "model.pt") == f"run {run.name}"
    assert bundle_title("/saved/pets.pt") == "bundle pets.pt"
    assert load_classifier(bundle=run / "model.pt").source == f"run {run.name}"
