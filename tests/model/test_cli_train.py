"""``python -m model train`` and ``python -m model evaluate``: JSON lines, text output, errors, Ctrl-C."""

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.model.train_helpers import make_dataset

from model.nets.bundle import load_bundle
from model.training.checkpoint import load_checkpoint
from model.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--weights", "random", "--mode", "full", "--image-size", "32", "--device", "cpu", "--workers", "0"]


def test_train_json_lines_then_evaluate_json(tmp_path, capsys):
    data = make_dataset(tmp_path / "ds")
    run = tmp_path / "run"
    assert main(["train", str(data), "--out", str(run), "--epochs", "2", "--batch-size", "6", "--json", *TINY]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    epochs = [e for e in lines if e["event"] == "epoch"]
    assert len(epochs) == 2
    assert set(epochs[0]) >= {"event", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}
    last = lines[-1]
    assert last["event"] == "finished" and last["bundle"] == str(run / "model.pt")
    assert last["best_val_acc"] == max(e["val_acc"] for e in epochs)
    assert {e["event"] for e in lines} >= {"started", "step", "checkpoint", "notice", "preparing"}
    assert load_bundle(run / "model.pt").class_names == ["blue", "green", "red"]
    assert (run / "metrics.csv").read_text().count("\n") == 3

    assert main(["evaluate", str(run / "model.pt"), str(data), "--json", "--device", "cpu"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert set(ev) >= {"accuracy", "classes", "confusion_matrix", "per_class", "mistakes"}
    assert ev["classes"] == ["blue", "green", "red"] and sum(map(sum, ev["confusion_matrix"])) == 15
    assert set(ev["per_class"]["red"]) == {"precision", "recall", "f1", "support"}


def test_text_output_resume_and_evaluate_report(tmp_path, capsys):
    data = make_dataset(tmp_path / "ds")
    run = tmp_path / "run"
    assert main(["train", str(data), "--out", str(run), "--epochs", "1", *TINY]) == 0
    out = capsys.readouterr().out
    assert "Training EfficientNet-B0 (full mode, random weights)" in out and "epoch 1/1" in out
    assert main(["train", str(data), "--out", str(run), "--epochs", "2", "--resume", "--device", "cpu", "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and "epoch 2/2" in out  # the earlier curve is shown, then continued
    assert "Completed after 2 epoch(s)" in out
    assert main(["evaluate", str(run / "model.pt"), str(data), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Accuracy ") and "true \\ predicted" in out and "precision" in out


def test_user_errors_are_one_line_and_flags_are_checked(tmp_path, capsys):
    one = make_dataset(tmp_path / "one", classes=("cats",), per_class=2)
    assert main(["train", str(one), "--out", str(tmp_path / "run"), *TINY]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "at least 2 class" in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train", "d", "--out", "r", "--val-dir", "v", "--val-split", "0.1"])
    assert exc.value.code == 2
    args = build_parser().parse_args(["train", "d", "--out", "r"])
    assert (args.variant, args.weights, args.mode, args.val_split, args.seed, args.device) == ("b0", "auto", "auto", 0.2, 0, "auto")  # issue 16: auto mode is the default


def test_ctrl_c_stops_cleanly_with_checkpoints_saved(tmp_path):
    data = make_dataset(tmp_path / "ds")
    run = tmp_path / "run"
    # One loader worker, and SIGINT to the whole process group, as a terminal's Ctrl-C does.
    args = [*TINY[:-1], "1"]
    cmd = [sys.executable, "-m", "model", "train", str(data), "--out", str(run), "--epochs", "200", "--json", *args]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    lines = []
    try:
        for line in proc.stdout:
            lines.append(json.loads(line))
            if lines[-1]["event"] == "epoch" and lines[-1]["epoch"] == 2:
                os.killpg(proc.pid, signal.SIGINT)
                break
        lines += [json.loads(line) for line in proc.stdout]
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
    assert "Stopping after this step" in proc.stderr.read()
    last = lines[-1]
    assert last["event"] == "finished" and last["reason"] == "stopped by user"
    assert 2 <= last["epochs_done"] < 200
    assert load_checkpoint(run / "last.pt").epochs_done == last["epochs_done"]
    assert load_bundle(run / "model.pt").class_names == ["blue", "green", "red"]


def test_a_test_folder_is_set_aside_scored_at_the_end_and_by_evaluate(tmp_path, capsys):
    from model.training.data import scan_dataset

    root = tmp_path / "ds"
    make_dataset(root / "train", per_class=4)
    make_dataset(root / "val", per_class=2, start_seed=50)
    make_dataset(root / "test", per_class=3, start_seed=100)
    scan = scan_dataset(root)
    assert scan.test_note() == "9 test images set aside" and scan.num_images == 18  # train + val only
    assert not any("test" in str(p.relative_to(root)).split("/")[0] for p, _ in scan.files + scan.val_files)

    run = tmp_path / "run"
    assert main(["train", str(root), "--out", str(run), "--epochs", "1", *TINY]) == 0
    out = capsys.readouterr().out.splitlines()
    started = next(line for line in out if line.startswith("Training "))
    assert "12 train / 6 val images" in started and started.endswith("; 9 test images set aside")
    assert any(line.startswith("note: Test set: ") and "on the 9 test images set aside" in line for line in out)
    scored = json.loads((run / "test_evaluation.json").read_text())
    assert scored["num_images"] == 9

    assert main(["evaluate", str(run / "model.pt"), str(root), "--device", "cpu"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert f"on 9 images of the test set {root / 'test'}" in first  # not the 12 training images


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_report_shows_a_bar_with_eta_on_a_terminal_and_real_epoch_durations(monkeypatch, capsys):
    from model.cli.train import TextReport
    from model.core.events import EpochMetrics, StepMetrics

    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    now = [100.0]
    report = TextReport(clock=lambda: now[0])
    report._epoch_began = 40.0  # the run began 60 s ago: the feature pass took most of it
    for step in (1, 2, 3):
        now[0] += 2.0
        report.show(StepMetrics(1, step, 10, 0.5, 0.5, 0.001, 120.0))
    assert "epoch 1" in err.getvalue() and "3/10" in err.getvalue() and "120 img/s" in err.getvalue()
    assert "ETA 0:14" in err.getvalue()  # 2 s a step, 7 steps to go
    # The engine timed only the training steps (0.04 s in head mode); the line shows the epoch's wall time.
    report.show(EpochMetrics(1, 10, 0.5, 0.5, 0.4, 0.6, 0.001, 0.04, True))
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("epoch 1/10") and "1m06s" in line and "0.0s" not in line


def test_evaluate_confusion_table_columns_line_up_under_their_names():
    from model.cli.evaluate import format_confusion

    lines = format_confusion(["a", "b", "c"], [[5, 0, 1], [0, 12, 0], [2, 0, 3]]).splitlines()
    assert lines[0].startswith("true \\ predicted ") and lines[1].startswith("a ")
    assert len({len(line) for line in lines}) == 1  # every row as long as the header
    for name_at, row in ((lines[0].rindex("b"), lines[2]), (lines[0].rindex("c"), lines[3])):
        assert row[name_at] != " "  # each count ends right under its column's name
