"""Training that wins by default: auto mode, the balance line, EMA, calibration in the bundle and everywhere after.

Tiny runs: B0, 32 px, 3 classes × 5 images, 1 epoch.
"""

from __future__ import annotations

import json

import pytest
import torch
from tests.model.train_helpers import make_dataset

from model.core.events import EpochMetrics, Finished, Notice, TrainingStarted
from model.nets.bundle import BUNDLE_FORMAT, bundle_to_dict, load_bundle
from model.training.engine import TrainConfig, train


def run(tmp_path, name="run", data=None, **kw):
    data = data or make_dataset(tmp_path / "ds")
    settings = dict(weights="random", epochs=1, image_size=32, num_workers=0, device="cpu", tensorboard=False)
    settings.update(kw)
    return list(train(TrainConfig(data, tmp_path / name, **settings)))


def started(events) -> TrainingStarted:
    return next(e for e in events if isinstance(e, TrainingStarted))


def test_auto_mode_trains_everything_from_random_weights_and_calibrates(tmp_path):
    events = run(tmp_path)
    s = started(events)
    assert s.mode == "full" and "random weights" in s.mode_reason and "auto chose full" in s.mode_reason
    assert s.augment == "light, no flip" and s.ema_decay is not None and s.balance == ""
    epoch = next(e for e in events if isinstance(e, EpochMetrics))
    assert epoch.val_macro_f1 is not None and 0 <= epoch.val_macro_f1 <= 1
    assert any(isinstance(e, Notice) and "temperature" in e.message for e in events)
    bundle = load_bundle(tmp_path / "run" / "model.pt")
    assert bundle.temperature > 0 and bundle.config["mode"] == "full" and bundle.config["flip"] is False
    report = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert report["temperature"] == pytest.approx(bundle.temperature) and 0 <= report["ece"] <= 1


def test_auto_mode_trains_a_head_on_a_weights_file(tmp_path):
    from model.nets.network import build_model

    torch.manual_seed(0)
    weights = tmp_path / "mine.pth"
    torch.save(build_model("b0", num_classes=1000).state_dict(), weights)
    events = run(tmp_path, weights=str(weights))
    s = started(events)
    assert s.mode == "head" and "auto chose head" in s.mode_reason and "mine.pth" in s.mode_reason
    assert s.ema_decay is None  # EMA is a full-mode default
    assert isinstance(events[-1], Finished) and events[-1].reason == "completed"


def test_an_imbalanced_folder_is_stated_first_and_balanced(tmp_path):
    data = make_dataset(tmp_path / "ds", classes=("red", "green"), per_class=2)
    make_dataset(data, classes=("blue",), per_class=14, start_seed=50)
    events = run(tmp_path, data=data, val_split=0.25)
    s = started(events)
    assert "imbalanced" in s.balance and "'blue' has" in s.balance and "sampler" in s.balance
    bundle = load_bundle(tmp_path / "run" / "model.pt")
    assert bundle.config["balance"] == "auto"


def test_an_old_bundle_without_a_temperature_loads_with_one(tmp_path):
    events = run(tmp_path, calibrate=False)
    assert not any(isinstance(e, Notice) and "temperature" in e.message for e in events)
    path = tmp_path / "run" / "model.pt"
    old = bundle_to_dict(load_bundle(path))
    del old["temperature"]
    assert old["format"] == BUNDLE_FORMAT
    torch.save(old, tmp_path / "old.pt")
    assert load_bundle(tmp_path / "old.pt").temperature == 1.0


def test_the_temperature_reaches_predictor_evaluate_and_exports(tmp_path, monkeypatch):
    from model.export.formats import export_bundle
    from model.export.table import get_format
    from model.inference.predict import Predictor
    from model.training.evaluate import evaluate

    run(tmp_path, calibrate=False)
    path = tmp_path / "run" / "model.pt"
    bundle = load_bundle(path)
    image = next((tmp_path / "ds" / "red").iterdir())
    plain = Predictor.from_bundle(path, device="cpu", runtime="torch").predict([image], top_k=3)[0]
    bundle.temperature = 4.0
    from model.nets.bundle import save_bundle

    save_bundle(bundle, tmp_path / "hot.pt")
    hot = Predictor.from_bundle(tmp_path / "hot.pt", device="cpu", runtime="torch").predict([image], top_k=3)[0]
    assert hot.labels[0] == plain.labels[0] and hot.scores[0] < plain.scores[0]  # softer, same ranking
    ev = evaluate(tmp_path / "hot.pt", tmp_path / "ds", device="cpu", tta=True)
    assert ev.temperature == 4.0 and "ece" in ev.to_dict()
    assert set(ev.tta) >= {"accuracy", "macro_f1", "loss", "ece"} and ev.tta["views"] == 2  # trained without flips
    report = export_bundle(tmp_path / "hot.pt", "onnx", tmp_path / "hot.onnx")
    assert float(get_format("onnx").read_metadata(report.path)["temperature"]) == 4.0
