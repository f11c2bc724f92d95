"""Comparing runs: settings rows that flag what changed, results with the best run marked, missing values
as "—", one validation curve per run; and the test-set evaluation read back with the run."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from model.core.events import EpochMetrics
from model.training.checkpoint import write_metrics_csv
from model.training.evaluate import Evaluation
from model.training.run_comparison import MISSING, compare_runs, format_took
from model.training.runs import RunRecord, read_run

CONFIG = {"variant": "b0", "mode": "full", "weights": "random", "weights_source": "random weights", "image_size": 64,
          "epochs": 3, "batch_size": 8, "lr": 0.001, "augment": "light", "flip": True, "balance": "auto", "ema": "auto"}


def epoch(n: int, val_acc: float | None, val_loss: float | None = 1.0, best: bool = False, f1: float | None = None):
    return EpochMetrics(epoch=n, epochs=3, train_loss=1.0, train_acc=0.5, val_loss=val_loss, val_acc=val_acc, lr=0.001,
                        seconds=50.0, is_best=best, val_macro_f1=f1)


def evaluation(accuracy: float, f1: float, ece: float = 0.05, temperature: float = 1.3, calibrated: bool = True):
    per_class = {"a": {"precision": f1, "recall": f1, "f1": f1, "support": 2},
                 "b": {"precision": f1, "recall": f1, "f1": f1, "support": 2}}
    return Evaluation(accuracy=accuracy, class_names=["a", "b"], confusion_matrix=[[2, 0], [0, 2]], per_class=per_class,
                      mistakes=[], loss=0.3, num_images=4, ece=ece, temperature=temperature,
                      reliability={"bins": []} if calibrated else None)


def record(name: str, history, config=CONFIG, ev=None, test=None) -> RunRecord:
    return RunRecord(Path("/runs") / name, tuple(history), ev, dict(config), ["a", "b"], test_evaluation=test)


def test_settings_rows_flag_only_what_changed_between_runs():
    first = record("run-a", [epoch(1, 0.5), epoch(2, 0.8, best=True), epoch(3, 0.7)], ev=evaluation(0.8, 0.75))
    second = record("run-b", [epoch(1, 0.6, best=True)], config=dict(CONFIG, lr=0.0003, ema="off"),
                    ev=evaluation(0.6, 0.5, ece=0.02))
    comparison = compare_runs([first, second])

    assert comparison.runs == ("run-a", "run-b")
    settings = {r.label: r for r in comparison.rows if r.section == "settings"}
    assert [label for label, r in settings.items() if r.differs] == ["Epochs done / asked", "Learning rate", "EMA"]
    assert settings["Learning rate"].values == ("0.001", "0.0003")
    assert settings["EMA"].values == ("on (auto)", "off")
    assert settings["Epochs done / asked"].values == ("3 / 3", "1 / 3")
    assert settings["Variant"].values == ("B0", "B0") and settings["Image size"].values == ("64 px", "64 px")
    assert settings["Weights"].values == ("random weights",) * 2 and settings["Flip"].values == ("on", "on")

    assert comparison.row("Best val accuracy").values == ("80.0 %", "60.0 %")
    assert comparison.row("Best val accuracy").best == 0  # higher is better
    assert comparison.row("Val macro F1").values == ("0.750", "0.500") and comparison.row("Val macro F1").best == 0
    assert comparison.row("ECE").values == ("0.050", "0.020") and comparison.row("ECE").best == 1  # lower is better
    assert comparison.row("Temperature").values == ("1.30", "1.30") and comparison.row("Temperature").best is None
    assert comparison.row("Took").values == ("3 min", "50 s")


def test_what_a_run_did_not_record_shows_as_a_dash_and_counts_as_a_difference():
    complete = record("full", [epoch(1, 0.9, best=True)], ev=evaluation(0.9, 0.9), test=evaluation(0.85, 0.8))
    old = record("old", [epoch(1, 0.7, best=True, f1=0.65)], config={"variant": "b2", "epochs": 5},
                 ev=evaluation(0.7, 0.7, calibrated=False))  # an evaluation file from before calibration
    comparison = compare_runs([complete, old])

    assert comparison.row("Test accuracy").values == ("85.0 %", MISSING)
    assert comparison.row("Test accuracy").differs and comparison.row("Test accuracy").best is None  # nothing to beat
    assert comparison.row("ECE").values == ("0.050", MISSING) and comparison.row("Temperature").values == ("1.30", MISSING)
    for label in ("Mode", "Weights", "Batch size", "Learning rate", "Augmentation", "Balance", "EMA"):
        assert comparison.row(label).values[1] == MISSING, label
    assert comparison.row("Flip").values == ("on", "on")  # runs from before the setting always flipped
    assert comparison.row("Variant").values == ("B0", "B2") and comparison.row("Epochs done / asked").values[1] == "1 / 5"

    no_evaluation = record("bare", [epoch(1, 0.7, f1=0.6), epoch(2, 0.75, best=True, f1=0.66), epoch(3, 0.7, f1=0.7)])
    assert compare_runs([no_evaluation]).row("Val macro F1").values == ("0.660",)  # the kept (best) epoch's score
    nothing = record("nothing", [epoch(1, None, None)], config={})
    assert compare_runs([nothing]).row("Flip").values == (MISSING,)  # no settings at all: nothing to say
    assert compare_runs([nothing]).row("Val macro F1").values == (MISSING,)
    assert compare_runs([nothing]).row("Best val accuracy").values == (MISSING,)


def test_one_validation_curve_per_run_skips_epochs_without_validation():
    a = record("a", [epoch(1, 0.5, 0.9), epoch(2, None, None), epoch(3, 0.7, 0.6)])
    b = record("b", [epoch(1, 0.4, 1.2), epoch(2, 0.6, 0.8)])
    comparison = compare_runs([a, b])
    assert [c.run for c in comparison.val_acc] == ["a", "b"] == [c.run for c in comparison.val_loss]
    assert comparison.val_acc[0].epochs == (1, 3) and comparison.val_acc[0].values == (0.5, 0.7)
    assert comparison.val_loss[1].epochs == (1, 2) and comparison.val_loss[1].values == (1.2, 0.8)


def test_a_tie_marks_no_best_run():
    a = record("a", [epoch(1, 0.8, best=True)])
    b = record("b", [epoch(1, 0.8, best=True)])
    assert compare_runs([a, b]).row("Best val accuracy").best is None


def test_took_reads_as_a_person_would_say_it():
    assert (format_took(0.2), format_took(42), format_took(185), format_took(3900)) == ("1 s", "42 s", "3 min", "1 h 05 min")


def test_read_run_reads_the_test_set_evaluation_beside_the_validation_one(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    write_metrics_csv([asdict(epoch(1, 0.5, best=True))], run / "metrics.csv")
    (run / "evaluation.json").write_text(json.dumps(evaluation(0.5, 0.5).to_dict()))
    (run / "test_evaluation.json").write_text(json.dumps(evaluation(0.75, 0.7).to_dict()))
    assert read_run(run).test_evaluation.accuracy == 0.75

    (run / "test_evaluation.json").write_text("{not json")
    damaged = read_run(run)
    assert damaged.test_evaluation is None and damaged.evaluation.accuracy == 0.5
    assert any("test_evaluation.json" in note for note in damaged.notes)
