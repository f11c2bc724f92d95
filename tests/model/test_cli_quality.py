"""The CLI's training-quality parts: the first lines of ``train``, ``lr-find``, ``evaluate --tta --json``."""

from __future__ import annotations

import json

from tests.model.train_helpers import make_dataset

from model.cli import main

TINY = ["--weights", "random", "--image-size", "32", "--device", "cpu", "--workers", "0", "--batch-size", "6"]


def test_train_says_the_mode_and_the_imbalance_first_then_evaluate_reports_ece_and_tta(tmp_path, capsys):
    data = make_dataset(tmp_path / "ds", classes=("red", "green"), per_class=2)
    make_dataset(data, classes=("blue",), per_class=12, start_seed=40)
    run = tmp_path / "run"
    assert main(["train", str(data), "--out", str(run), "--epochs", "1", "--val-split", "0.25", "--no-tensorboard", *TINY]) == 0
    out = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("Training EfficientNet-B0 (full mode"))
    first = "\n".join(out[start : start + 4])
    assert "Mode: auto chose full mode: the backbone starts from random weights" in first
    assert "augmentation light, no flip" in first and "Classes are imbalanced" in first
    assert any("macro F1" in line for line in out if line.startswith("epoch 1/1"))
    assert not (run / "tensorboard").exists()

    assert main(["evaluate", str(run / "model.pt"), str(data), "--json", "--tta", "--device", "cpu"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert 0 <= ev["ece"] <= 1 and ev["temperature"] > 0 and len(ev["reliability"]["counts"]) == 15
    assert set(ev["tta"]) >= {"accuracy", "macro_f1", "ece", "loss"} and "macro_f1" in ev
    assert main(["evaluate", str(run / "model.pt"), str(data), "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "ECE" in text and "test-time augmentation" not in text  # never on by default


def test_lr_find_takes_the_train_flags_and_suggests_a_rate(tmp_path, capsys):
    data = make_dataset(tmp_path / "ds")
    assert main(["lr-find", str(data), "--steps", "12", "--augment", "none", *TINY]) == 0
    out = capsys.readouterr().out
    assert "Suggested learning rate" in out and "train --lr" in out
    assert main(["lr-find", str(data), "--steps", "8", "--json", *TINY]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    steps = [e for e in lines if e["event"] == "lr_step"]
    result = lines[-1]
    assert result["event"] == "lr_result" and len(steps) >= 5
    assert result["lrs"] == sorted(result["lrs"]) and result["lrs"][0] <= result["suggestion"] <= result["lrs"][-1]
