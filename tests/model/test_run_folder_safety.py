"""A run folder never traps or loses work: the lock, interrupted saves, evaluation.json, diverged runs.

Tiny runs: B0 from random weights at 32 px on 2 classes × 4 images, head mode where the mode does not matter.
"""

import json
import os
import subprocess
import sys

import pytest
import torch
from tests.model.train_helpers import make_dataset

from model.core.errors import StudioError
from model.core.events import EpochMetrics, Notice
from model.core.file_lock import FolderLock
from model.core.train_config import check_config
from model.nets.bundle import load_bundle
from model.training import trainer as trainer_module
from model.training.checkpoint import load_checkpoint
from model.training.engine import TrainConfig, train
from model.training.loop import StepResult, Stepper


def config(tmp_path, **kw):
    data = tmp_path / "ds"
    if not data.exists():
        make_dataset(data, classes=("red", "blue"), per_class=4)
    defaults = dict(weights="random", mode="head", epochs=1, image_size=32, num_workers=0, device="cpu", val_split=0.25)
    defaults.update(kw)
    return TrainConfig(data, tmp_path / "run", **defaults)


def notices(events) -> str:
    return " ".join(e.message for e in events if isinstance(e, Notice))


def test_a_folder_in_use_is_refused_before_anything_is_touched_and_freed_when_its_owner_dies(tmp_path):
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from pathlib import Path; from model.core.file_lock import FolderLock;"
         "FolderLock(Path(sys.argv[1])).acquire(); print('locked', flush=True); time.sleep(60)", str(run)],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=os.getcwd()),
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        for resume in (False, True):
            with pytest.raises(StudioError) as e:
                list(train(config(tmp_path, resume=resume)))
            assert str(e.value).startswith(f"{run} is in use by another training (pid {holder.pid})")
        assert {p.name for p in run.iterdir()} == {".lock"}
    finally:
        holder.kill()  # like kill -9: the kernel lets go of the lock
        holder.wait()
    lock = FolderLock(run)
    assert lock.acquire() is None
    lock.release()
    assert not (run / ".lock").exists()


def test_a_run_cut_off_before_its_first_last_pt_can_be_resumed_and_restarted(tmp_path):
    list(train(config(tmp_path)))
    (tmp_path / "run" / "last.pt").unlink()  # killed (or out of space) before last.pt: model.pt and metrics.csv remain
    events = list(train(config(tmp_path, resume=True)))
    assert "stopped before saving its first checkpoint" in notices(events) and "starts again from epoch 1" in notices(events)
    assert load_checkpoint(tmp_path / "run" / "last.pt").epochs_done == 1
    (tmp_path / "run" / "last.pt").unlink()
    events = list(train(config(tmp_path)))  # a new run over it is fine too
    assert [e.epoch for e in events if isinstance(e, EpochMetrics)] == [1]


def test_a_damaged_last_pt_does_not_block_a_new_run(tmp_path):
    list(train(config(tmp_path)))
    (tmp_path / "run" / "last.pt").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(StudioError, match="last.pt"):
        list(train(config(tmp_path, resume=True)))
    events = list(train(config(tmp_path)))
    assert "replaces it" in notices(events) and load_checkpoint(tmp_path / "run" / "last.pt").epochs_done == 1


def test_last_pt_is_written_before_model_pt_and_a_resume_repairs_model_pt(tmp_path, monkeypatch):
    def disk_full(bundle, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(trainer_module, "save_bundle", disk_full)
    with pytest.raises(OSError):
        list(train(config(tmp_path)))
    monkeypatch.undo()
    run = tmp_path / "run"
    assert load_checkpoint(run / "last.pt").epochs_done == 1 and not (run / "model.pt").exists()
    events = list(train(config(tmp_path, resume=True)))  # nothing left to train: it only finishes
    assert "written again from last.pt" in notices(events)
    assert len(load_bundle(run / "model.pt").history) == 1


def test_evaluation_json_comes_from_model_pt_when_the_best_epoch_was_in_an_earlier_session(tmp_path):
    first = list(train(config(tmp_path)))
    evaluation = tmp_path / "run" / "evaluation.json"
    before = json.loads(evaluation.read_text())
    evaluation.unlink()  # as when the first session was killed before its end
    again = list(train(config(tmp_path, resume=True)))
    assert not [e for e in again if isinstance(e, EpochMetrics)]
    after = json.loads(evaluation.read_text())
    assert after["accuracy"] == before["accuracy"] == first[-1].best_val_acc
    assert after["confusion_matrix"] == before["confusion_matrix"]


def test_a_loss_that_turns_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    real_step = Stepper.train_step
    calls = []

    def diverging(self, x, y, sum_scale=None):
        result = real_step(self, x, y, sum_scale)
        calls.append(1)
        if len(calls) == 5:  # epoch 2's second step (3 an epoch); the weights go bad too
            with torch.no_grad():
                for p in self.module.parameters():
                    p.fill_(float("nan"))
            return StepResult(torch.tensor(float("nan")), 0, result.count)
        return result

    monkeypatch.setattr(Stepper, "train_step", diverging)
    with pytest.raises(StudioError) as e:
        list(train(config(tmp_path, epochs=3, batch_size=2)))
    run = tmp_path / "run"
    assert str(e.value).startswith("The loss became NaN at epoch 2, step 2: lower the learning rate")
    assert f"{run} keeps model.pt and last.pt from epoch 1" in str(e.value)
    assert load_checkpoint(run / "last.pt").epochs_done == 1
    weights = load_bundle(run / "model.pt").state_dict
    assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), -1.0])
def test_a_learning_rate_that_is_not_a_positive_number_is_refused(tmp_path, lr):
    with pytest.raises(StudioError, match="learning rate"):
        check_config(config(tmp_path, lr=lr))
