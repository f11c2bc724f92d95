"""The training engine: event sequence, pause/stop/resume, checkpoints, bad files, OOM halving.

Tiny runs: B0 from random weights, 32 px, 3 classes × 5 images, 1-2 epochs.
"""

import csv
import json
import threading
import time

import pytest
import torch
from tests.model.train_helpers import make_dataset, truncate

from model.nets.bundle import load_bundle
from model.training.checkpoint import load_checkpoint
from model.training.engine import TrainConfig, TrainControl, train
from model.core.errors import DeviceError, StudioError
from model.training.evaluate import evaluate
from model.core.events import (
    BatchSizeReduced,
    CheckpointSaved,
    EpochMetrics,
    FeatureCaching,
    Finished,
    Notice,
    Paused,
    PreparingImages,
    SkippedFile,
    StepMetrics,
    TrainingStarted,
    event_to_dict,
)
from model.training.loop import BatchSize, Stepper, run_in_chunks
from model.training.schedule import WarmupCosine, auto_batch_size


def config(tmp_path, **kw):
    data = tmp_path / "ds"
    if not data.exists():
        make_dataset(data)
    defaults = dict(weights="random", mode="full", epochs=2, image_size=32, num_workers=0, device="cpu")
    defaults.update(kw)
    return TrainConfig(data, tmp_path / "run", **defaults)


def kinds(events):
    return [type(e).__name__ for e in events]


def test_full_mode_event_sequence_and_run_folder(tmp_path):
    events = list(train(config(tmp_path, batch_size=4)))
    names = kinds(events)
    first = names.index("TrainingStarted")
    assert all(n in ("Notice", "SkippedFile") for n in names[:first])
    assert names[-1] == "Finished" and names.count("EpochMetrics") == 2
    assert names.index("PreparingImages") < names.index("StepMetrics") < names.index("EpochMetrics")
    started = events[first]
    assert started.mode == "full" and started.augmentation and started.num_train == 12 and started.num_val == 3
    assert started.channels_last and started.mixed_precision is None and started.start_epoch == 1
    # After each epoch: its metrics, then the last checkpoint, then the best bundle when it improved
    # (in that order, so a run cut off between the two can always be resumed).
    for i, e in enumerate(events):
        if isinstance(e, EpochMetrics):
            after = events[i + 1 : i + 3]
            saved = [a.kind for a in after if isinstance(a, CheckpointSaved) and a.kind != "evaluation"]
            assert saved == (["last", "best"] if e.is_best else ["last"])
    assert [e.kind for e in events[-2:-1]] == ["evaluation"]
    steps = [e for e in events if isinstance(e, StepMetrics)]
    assert steps and all(s.steps_per_epoch == 3 and 0 <= s.acc <= 1 and s.images_per_sec > 0 for s in steps)
    epochs = [e for e in events if isinstance(e, EpochMetrics)]
    assert [e.epoch for e in epochs] == [1, 2] and all(e.val_acc is not None and e.seconds > 0 for e in epochs)
    done = events[-1]
    assert done.reason == "completed" and not done.stopped_early and done.epochs_done == 2
    assert done.best_val_acc == max(e.val_acc for e in epochs)
    run = tmp_path / "run"
    from model.training.tensorboard_log import tensorboard_available

    board = {"tensorboard"} if tensorboard_available() else set()  # event files beside metrics.csv when installed
    assert {p.name for p in run.iterdir()} == {"model.pt", "last.pt", "metrics.csv", "evaluation.json"} | board
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    json.dumps([event_to_dict(e) for e in events])  # every event is JSON-ready


def test_the_bundle_round_trips_and_evaluation_json_matches_evaluate(tmp_path):
    make_dataset(tmp_path / "ds" / "train", per_class=4)
    make_dataset(tmp_path / "ds" / "val", per_class=2, start_seed=50)
    events = list(train(config(tmp_path, epochs=1)))
    bundle = load_bundle(tmp_path / "run" / "model.pt")
    assert bundle.class_names == ["blue", "green", "red"] and bundle.variant == "b0" and bundle.image_size == 32
    assert bundle.config["mode"] == "full" and bundle.config["weights_source"] == "random weights"
    assert [h["epoch"] for h in bundle.history] == [1] and bundle.versions["torch"] == torch.__version__
    stored = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    fresh = evaluate(bundle, tmp_path / "ds", device="cpu")  # uses the val/ folder
    assert fresh.num_images == stored["num_images"] == 6
    assert fresh.confusion_matrix == stored["confusion_matrix"]
    assert fresh.accuracy == pytest.approx(stored["accuracy"]) == pytest.approx(events[-1].best_val_acc)
    assert fresh.loss == pytest.approx(stored["loss"], abs=1e-5)


def test_head_mode_caches_features_once_and_says_augmentation_is_off(tmp_path):
    events = list(train(config(tmp_path, mode="head", epochs=3, feature_cache="disk")))
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert not started.augmentation
    assert any("augmentation is off" in e.message for e in events if isinstance(e, Notice))
    caching = [e for e in events if isinstance(e, FeatureCaching)]
    assert caching[-1].done == caching[-1].total == 15
    assert kinds(events).index("FeatureCaching") < kinds(events).index("EpochMetrics")
    assert not any(isinstance(e, PreparingImages) for e in events)
    cached = list((tmp_path / "run" / "cache").glob("features-*.npy"))
    assert len(cached) == 1
    epochs = [e for e in events if isinstance(e, EpochMetrics)]
    assert all(e.backbone_frozen for e in epochs)
    # Only the head trained: the backbone in the bundle is the starting one.
    bundle = load_bundle(tmp_path / "run" / "model.pt")
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    key = "features.0.0.weight"
    assert torch.equal(bundle.state_dict[key], ckpt.bundle.state_dict[key])
    # Resuming reuses the finished feature file instead of recomputing it.
    again = list(train(config(tmp_path, mode="head", epochs=4, resume=True, feature_cache="disk")))
    assert not any(isinstance(e, FeatureCaching) for e in again)
    assert any("Reusing the backbone features" in e.message for e in again if isinstance(e, Notice))
    assert [e.epoch for e in again if isinstance(e, EpochMetrics)] == [4]


def test_pause_holds_within_a_step_and_resume_continues(tmp_path):
    control = TrainControl()
    gen = train(config(tmp_path, batch_size=4, epochs=1), control)
    seen = []
    for e in gen:
        seen.append((time.perf_counter(), e))
        if isinstance(e, StepMetrics) and not control.paused and not any(isinstance(x, Paused) for _, x in seen):
            control.pause()
            threading.Timer(0.4, control.resume).start()
    names = [type(e).__name__ for _, e in seen]
    p, r = names.index("Paused"), names.index("Resumed")
    assert r == p + 1, "nothing may happen while paused"
    assert seen[r][0] - seen[p][0] >= 0.35
    assert names[p - 1] == "StepMetrics"  # the pause came at the very next step
    assert seen[-1][1].reason == "completed"


def test_stop_takes_effect_within_one_step_and_still_saves_best_and_last(tmp_path):
    control = TrainControl()
    events = []
    for e in train(config(tmp_path, batch_size=4, epochs=3), control):
        events.append(e)
        if isinstance(e, StepMetrics) and e.epoch == 2:
            control.stop()
    after = events[next(i for i, e in enumerate(events) if isinstance(e, StepMetrics) and e.epoch == 2) + 1 :]
    assert not any(isinstance(e, (StepMetrics, EpochMetrics)) for e in after)
    assert [e.kind for e in after if isinstance(e, CheckpointSaved)][0] == "last"
    done = events[-1]
    assert isinstance(done, Finished) and done.stopped_early and done.reason == "stopped by user"
    assert done.epochs_done == 1
    assert load_checkpoint(tmp_path / "run" / "last.pt").epochs_done == 1
    assert load_bundle(tmp_path / "run" / "model.pt").history[0]["epoch"] == 1


def test_stop_before_the_first_epoch_still_leaves_a_usable_model(tmp_path):
    control = TrainControl()
    events = []
    for e in train(config(tmp_path), control):
        events.append(e)
        if isinstance(e, TrainingStarted):
            control.stop()
    assert events[-1].reason == "stopped by user" and events[-1].best_val_acc is None
    assert load_bundle(tmp_path / "run" / "model.pt").class_names == ["blue", "green", "red"]
    assert load_checkpoint(tmp_path / "run" / "last.pt").epochs_done == 0


def test_resume_continues_the_history_and_the_optimizer(tmp_path):
    first = list(train(config(tmp_path, epochs=1, batch_size=4)))
    steps_before = load_checkpoint(tmp_path / "run" / "last.pt").optimizer["state"][0]["step"].item()
    again = list(train(config(tmp_path, epochs=2, resume=True, mode="head", lr=123.0)))
    started = next(e for e in again if isinstance(e, TrainingStarted))
    assert started.start_epoch == 2 and started.mode == "full"  # the run's own settings, not the new ones
    assert [h.epoch for h in started.history] == [1]
    assert started.history[0] == next(e for e in first if isinstance(e, EpochMetrics))
    assert [e.epoch for e in again if isinstance(e, EpochMetrics)] == [2]
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    assert ckpt.epochs_done == 2 and [h["epoch"] for h in ckpt.bundle.history] == [1, 2]
    assert ckpt.optimizer["state"][0]["step"].item() == steps_before + 3
    assert ckpt.bundle.config["lr"] != 123.0
    assert [int(r["epoch"]) for r in csv.DictReader((tmp_path / "run" / "metrics.csv").open())] == [1, 2]
    # Nothing left to do: resuming a finished run only reports it.
    done = list(train(config(tmp_path, resume=True)))
    assert not any(isinstance(e, EpochMetrics) for e in done) and done[-1].epochs_done == 2


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(mode="partial"), "Unknown training mode"),
        (dict(epochs=0), "at least 1"),
        (dict(batch_size=1), "at least 2"),
        (dict(image_size=8), "at least 16 pixels"),
        (dict(lr=-1.0), "positive"),
    ],
)
def test_impossible_settings_are_refused_up_front(tmp_path, bad, message):
    with pytest.raises(StudioError, match=message):
        next(train(config(tmp_path, **bad)))


def test_the_run_folder_may_not_be_inside_the_dataset(tmp_path):
    cfg = config(tmp_path)
    cfg.out_dir = cfg.data_dir / "run"
    with pytest.raises(StudioError, match="inside the dataset"):
        next(train(cfg))


def test_a_run_folder_is_never_overwritten_and_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(StudioError, match="no last.pt to resume"):
        list(train(config(tmp_path, resume=True)))
    list(train(config(tmp_path, epochs=1)))
    with pytest.raises(StudioError, match="already holds a training run"):
        list(train(config(tmp_path, epochs=1)))


def test_a_crash_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    list(train(config(tmp_path, epochs=1)))
    last = tmp_path / "run" / "last.pt"
    before = last.read_bytes()
    real_save = torch.save

    def crash_mid_write(obj, f, *args, **kwargs):
        real_save({"partial": torch.zeros(1000)}, f)  # some bytes reach the disk…
        raise OSError("power cut")  # …then the machine dies

    monkeypatch.setattr(torch, "save", crash_mid_write)
    with pytest.raises(OSError, match="power cut"):
        list(train(config(tmp_path, epochs=2, resume=True)))
    assert last.read_bytes() == before
    assert load_checkpoint(last).epochs_done == 1
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]  # no temp files left


def test_a_corrupt_image_is_skipped_and_reported_not_fatal(tmp_path):
    data = make_dataset(tmp_path / "ds")
    bad = truncate(data / "red" / "2.png")
    (data / "green" / "junk.jpg").write_text("not a jpeg")
    events = list(train(config(tmp_path, epochs=2, batch_size=4)))
    skipped = {e.path: e.reason for e in events if isinstance(e, SkippedFile)}
    assert str(data / "green" / "junk.jpg") in skipped  # found by the scan
    assert "damaged or truncated" in skipped[str(bad)]  # found when decoding
    assert list(skipped).count(str(bad)) == 1 and events[-1].reason == "completed"


def test_out_of_memory_halves_the_batch_and_loses_no_sample(tmp_path, monkeypatch):
    real_step = Stepper.train_step
    sizes = []

    def flaky_step(self, x, y):
        if len(sizes) == 0 and x.shape[0] > 2:
            sizes.append(-x.shape[0])
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        sizes.append(x.shape[0])
        return real_step(self, x, y)

    monkeypatch.setattr(Stepper, "train_step", flaky_step)
    events = list(train(config(tmp_path, epochs=1, batch_size=12)))
    reduced = [e for e in events if isinstance(e, BatchSizeReduced)]
    assert [(e.old, e.new) for e in reduced] == [(12, 6)]
    assert sizes == [-12, 6, 6]  # the failed batch is redone in halves: every image trains once
    assert events[-1].reason == "completed"
    assert load_checkpoint(tmp_path / "run" / "last.pt").batch_size == 6


def test_run_in_chunks_halves_until_it_fits_and_gives_up_clearly():
    calls = []

    def fn(x, y):
        calls.append(len(y))
        if len(y) > 3:
            raise RuntimeError("MPS backend out of memory")
        return len(y)

    size = BatchSize(16)
    out = list(run_in_chunks(fn, torch.zeros(10), torch.zeros(10), size, lambda: None))
    assert [o.new for o in out if isinstance(o, BatchSizeReduced)] == [8, 4, 2]
    assert [o for o in out if isinstance(o, int)] == [2, 2, 2, 2, 2] and size.value == 2

    def always(x, y):
        raise torch.OutOfMemoryError("CUDA out of memory")

    with pytest.raises(DeviceError, match="Out of GPU memory even with a batch of 2 images"):
        list(run_in_chunks(always, torch.zeros(4), torch.zeros(4), BatchSize(2), lambda: None, min_size=2))
    with pytest.raises(ValueError):  # other errors are not mistaken for out-of-memory
        list(run_in_chunks(lambda x, y: int("x"), torch.zeros(2), torch.zeros(2), BatchSize(2), lambda: None))


def test_early_stopping_after_patience_epochs_without_improvement(tmp_path, monkeypatch):
    from model.training.epochs import HeadModeData

    def flat_validate(self):
        yield from ()
        return 1.0, 0.5, None

    monkeypatch.setattr(HeadModeData, "validate", flat_validate)
    events = list(train(config(tmp_path, mode="head", epochs=6, patience=2)))
    done = events[-1]
    assert done.stopped_early and done.reason.startswith("early stopping") and done.epochs_done == 3


def test_schedule_warms_up_then_decays_by_progress():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    opt.param_groups[0]["lr_scale"] = 0.1
    s = WarmupCosine(opt, base_lr=1e-2, epochs=10)  # warm-up: one epoch
    assert s.set_progress(0.5) == pytest.approx(5e-3)
    assert opt.param_groups[0]["lr"] == pytest.approx(5e-4)
    assert s.set_progress(1.0) == pytest.approx(1e-2)
    assert s.set_progress(5.5) == pytest.approx(1e-2 * (0.01 + 0.99 * 0.5))
    assert s.set_progress(10.0) == pytest.approx(1e-4)
    assert s.set_progress(3.0) > s.set_progress(4.0)


def test_auto_batch_size_fits_the_device_and_the_data():
    cpu = torch.device("cpu")
    assert auto_batch_size("b0", 224, cpu, 10_000) == 32
    assert auto_batch_size("b0", 32, cpu, 10_000) == 128
    assert auto_batch_size("b7", 600, cpu, 10_000) == 8
    assert auto_batch_size("b0", 32, cpu, 1000) == 32  # at least ~20 steps per epoch on small data
    assert auto_batch_size("b0", 224, cpu, 5) == 5


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.cuda
@cuda
def test_cuda_trains_with_mixed_precision_and_channels_last(tmp_path):
    events = list(train(config(tmp_path, device="cuda", num_workers=2, epochs=2)))
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert started.device == "cuda" and started.mixed_precision in ("bfloat16", "float16") and started.channels_last
    # cuDNN autotuning stays off: it cost 39 s before the first step on an H200 and chose no faster kernels
    assert torch.backends.cudnn.benchmark is False
    assert events[-1].reason == "completed"
    assert all(v.device.type == "cpu" for v in load_bundle(tmp_path / "run" / "model.pt").state_dict.values())


@pytest.mark.cuda
@cuda
def test_cuda_out_of_memory_really_halves_the_batch(tmp_path):
    make_dataset(tmp_path / "ds", classes=("red", "blue"), per_class=160, size=(24, 24))
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, 3 * 2**30 / total))  # pretend the GPU has 3 GiB
    try:
        events = list(train(config(tmp_path, device="cuda", image_size=224, batch_size=256, epochs=1, num_workers=2)))
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
    reduced = [e for e in events if isinstance(e, BatchSizeReduced)]
    assert reduced and reduced[0].old == 256 and reduced[-1].new < 256
    assert events[-1].reason == "completed"
