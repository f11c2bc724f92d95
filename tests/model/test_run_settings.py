"""Resolved run settings: typed, frozen, and the same plain dict on disk as before; finish reasons as enums."""

import ast
import json
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from model.core.errors import BundleError
from model.core.events import Finished, event_to_dict
from model.core.states import CheckpointKind, FinishReason, TrainMode
from model.core.train_config import TrainConfig
from model.training.settings import RunSettings, new_request, resolve, resumed

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path, **kw) -> RunSettings:
    request = new_request(TrainConfig(tmp_path / "data", tmp_path / "run", variant="B0", **kw))
    return resolve(request, variant="b0", pretrained=True, weights_source="ImageNet weights", batch_size=8)


def test_new_run_defaults_are_resolved_and_typed(tmp_path):
    s = _settings(tmp_path, mode="full", epochs=4)
    assert s.mode is TrainMode.FULL and s.variant == "b0" and s.image_size == 224 and s.epochs == 4
    assert s.warmup_epochs == 1 and s.backbone_lr_scale == 0.1 and isinstance(s.lr, float) and s.lr > 0
    assert s.batch_size == 8 and s.data_dir == str(tmp_path / "data")
    assert s.backbone_frozen(1) and not s.backbone_frozen(2) and s.augments
    head = _settings(tmp_path)
    assert head.backbone_frozen(5) and not head.augments and head.warmup_epochs == 0
    with pytest.raises(FrozenInstanceError):
        s.epochs = 3


def test_the_saved_dict_is_plain_and_round_trips(tmp_path):
    s = _settings(tmp_path, mode="full", dropout=0.3)
    saved = s.to_dict()
    # The on-disk order and keys: the config's fields, then what setup learnt.
    assert list(saved) == [*TrainConfig.__dataclass_fields__, "pretrained", "weights_source"]
    assert type(saved["mode"]) is str and saved["mode"] == "full"
    json.dumps(saved)  # plain values only (checkpoints are read back with weights_only=True)
    assert RunSettings.from_dict(saved) == s


def test_older_and_damaged_saved_settings(tmp_path):
    saved = _settings(tmp_path).to_dict()
    for newer in ("dropout", "feature_cache", "num_workers", "pretrained", "weights_source"):
        del saved[newer]
    old = RunSettings.from_dict({**saved, "lr": "0.001", "epochs": 3.0})
    assert old.lr == 0.001 and old.epochs == 3 and old.feature_cache == "auto" and old.dropout is None
    assert old.weights_source == old.weights and old.pretrained is False
    with pytest.raises(BundleError, match="start a new run"):
        RunSettings.from_dict({**saved, "mode": "sideways"})
    with pytest.raises(BundleError, match="start a new run"):
        RunSettings.from_dict({**saved, "lr": None})


def test_resume_takes_only_the_allowed_overrides(tmp_path):
    s = _settings(tmp_path, epochs=3)
    again = TrainConfig(tmp_path / "moved", tmp_path / "run", resume=True, epochs=6, lr=9.0, mode="full", batch_size=4)
    r = resumed(s, again)
    assert (r.epochs, r.batch_size, r.data_dir) == (6, 4, str(tmp_path / "moved"))
    assert r.lr == s.lr and r.mode is TrainMode.HEAD


def test_finish_reasons_keep_their_text_and_classify():
    early = FinishReason.EARLY_STOPPING.describe("no better val accuracy in 3 epochs")
    assert early == "early stopping: no better val accuracy in 3 epochs"
    assert FinishReason.STOPPED_BY_USER.describe() == "stopped by user" and f"{FinishReason.COMPLETED}" == "completed"
    done = Finished(0.5, "m.pt", True, early, "l.pt", 3)
    assert done.outcome is FinishReason.EARLY_STOPPING
    assert Finished(None, "m.pt", True, "stopped by user").outcome is FinishReason.STOPPED_BY_USER
    assert event_to_dict(done)["reason"] == early
    assert json.dumps(CheckpointKind.BEST) == '"best"'
    with pytest.raises(ValueError):
        FinishReason.of("crashed")


def _imports(module: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_no_training_module_imports_back_up_the_chain():
    """engine → trainer → setup/epochs/context/settings, never back: the circle stays broken."""
    training = ROOT / "model" / "training"
    for name in ("trainer", "setup", "epochs", "context", "settings"):
        assert "model.training.engine" not in _imports(training / f"{name}.py"), name
    for name in ("setup", "epochs", "context", "settings"):
        assert "model.training.trainer" not in _imports(training / f"{name}.py"), name
