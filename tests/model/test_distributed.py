"""Distributed training under torchrun: 2 gloo processes on the CPU, compared with one process.

Why the comparison can be tight: in head mode the backbone is frozen (eval mode) and
its features are cached, so only the classifier trains. With dropout off (``--dropout 0``)
a step is deterministic, and each rank's loss is its shard's summed loss × world / global
batch, so DDP's average of the ranks' gradients is the global batch's mean gradient; the
only difference from one process is the order of float32 additions (a few ulp per step, far
below 1e-5 after a handful of steps at these magnitudes). With dropout on, each rank would
draw masks from its own RNG stream for different samples than one process does: equal in
distribution, not in value. Full mode cannot match exactly on the CPU either (no SyncBatchNorm:
batch-norm statistics come from each rank's shard), so it gets a smoke run.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from tests.model.train_helpers import make_dataset

from model.nets.bundle import load_bundle
from model.training.checkpoint import load_checkpoint
from model.cli import main
from model.training.distributed import DistContext
from model.training.engine import TrainConfig, train
from model.core.events import CheckpointSaved, Finished
from model.training.sharding import ShardedBatchSampler, shard

ROOT = Path(__file__).resolve().parents[2]
RUN_FILES = {"model.pt", "last.pt", "metrics.csv", "evaluation.json"} | (
    {"tensorboard"} if __import__("importlib").util.find_spec("tensorboard") else set()  # beside metrics.csv when installed
)
# Head mode, exact: no dropout, a learning rate high enough that the head really moves, a global
# batch of 3 over 10 training images: batches of 3, 3, 3, 1, so the two ranks' shards are uneven
# (2 and 1) and, in the last batch, one of them is empty.
HEAD = ["--weights", "random", "--mode", "head", "--image-size", "32", "--device", "cpu", "--workers", "0",
        "--dropout", "0", "--lr", "0.5", "--batch-size", "3", "--seed", "3"]
TOLERANCE = 1e-5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_cmd(nproc: int, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
        "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
        "-m", "model", "train", *args,
    ]


def env() -> dict:
    # One compute thread per process: two processes share the two cores of a CI machine.
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def torchrun(nproc: int, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(torchrun_cmd(nproc, *args), cwd=ROOT, env=env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def metric_rows(run: Path) -> list[dict]:
    return list(csv.DictReader((run / "metrics.csv").open()))


def assert_same_weights(a: Path, b: Path) -> None:
    sa, sb = load_checkpoint(a).bundle.state_dict, load_checkpoint(b).bundle.state_dict
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.allclose(sa[key].float(), sb[key].float(), rtol=0, atol=TOLERANCE), key


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("dist") / "ds", classes=("red", "green"), per_class=6)


def test_two_gloo_processes_match_one_process_and_resume_on_one(data, tmp_path, capsys):
    single, multi = tmp_path / "single", tmp_path / "multi"
    assert main(["train", str(data), "--out", str(single), "--epochs", "2", *HEAD]) == 0
    capsys.readouterr()
    done = torchrun(2, str(data), "--out", str(multi), "--epochs", "2", "--json", *HEAD)

    # Only rank 0 printed: one "started", one "finished"; the run folder holds rank 0's files only.
    lines = json_lines(done.stdout)
    assert [e["event"] for e in lines].count("started") == 1 and lines[-1]["event"] == "finished"
    assert lines[-1]["reason"] == "completed" and lines[-1]["epochs_done"] == 2
    assert next(e for e in lines if e["event"] == "started")["batch_size"] == 3
    assert any("2 processes (gloo)" in e["message"] for e in lines if e["event"] == "notice")
    assert {p.name for p in multi.iterdir()} == RUN_FILES

    # The head moved (the comparison is not of two untouched initialisations) ...
    first, last = metric_rows(single)
    assert abs(float(first["train_loss"]) - float(last["train_loss"])) > 1e-3
    # ... and the weights and every reduced metric match one process with the same global batch.
    assert_same_weights(single / "last.pt", multi / "last.pt")
    for a, b in zip(metric_rows(single), metric_rows(multi), strict=True):
        for col in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
            assert float(a[col]) == pytest.approx(float(b[col]), abs=TOLERANCE), col
    ea, eb = (json.loads((r / "evaluation.json").read_text()) for r in (single, multi))
    assert ea["confusion_matrix"] == eb["confusion_matrix"] and ea["loss"] == pytest.approx(eb["loss"], abs=TOLERANCE)

    # Resume across world sizes: the 2-process run continued on 1 process equals the 1-process run continued.
    for run in (single, multi):
        assert main(["train", str(data), "--out", str(run), "--epochs", "3", "--resume", "--device", "cpu", "--workers", "0"]) == 0
    assert load_checkpoint(multi / "last.pt").epochs_done == 3
    assert load_checkpoint(multi / "last.pt").bundle.config["dropout"] == 0.0  # kept on resume
    assert_same_weights(single / "last.pt", multi / "last.pt")


def test_a_stop_on_one_rank_stops_both_and_rank_0_saves(data, tmp_path):
    run = tmp_path / "run"
    cmd = torchrun_cmd(2, str(data), "--out", str(run), "--epochs", "5000", "--json", *HEAD)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []
    try:
        for line in proc.stdout:
            if line.startswith("{"):
                lines.append(json.loads(line))
                if lines[-1]["event"] == "epoch" and lines[-1]["epoch"] == 2:
                    os.kill(worker_pid(proc.pid, rank=1), signal.SIGINT)  # rank 1 only; rank 0 gets no signal
                    break
        lines += [json.loads(line) for line in proc.stdout if line.startswith("{")]
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    err = proc.stderr.read()
    assert "rank 1: Stopping after this step" in err
    last = lines[-1]
    assert last["event"] == "finished" and last["reason"] == "stopped by user", err[-2000:]
    assert 2 <= last["epochs_done"] < 5000
    assert load_checkpoint(run / "last.pt").epochs_done == last["epochs_done"]
    assert load_bundle(run / "model.pt").class_names == ["green", "red"]


def worker_pid(parent: int, rank: int, timeout: float = 10.0) -> int:
    """The pid of torchrun's worker with RANK=``rank`` (Linux: read from /proc)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                environ = (entry / "environ").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if ppid == parent and f"RANK={rank}".encode() in environ:
                return int(entry.name)
        time.sleep(0.1)
    raise AssertionError(f"no worker with RANK={rank} under {parent}")


def test_full_mode_with_a_frozen_warm_up_epoch_trains_on_two_processes(data, tmp_path):
    # Warm-up freezes the backbone (DDP must tolerate parameters without gradients), then unfreezes it.
    run = tmp_path / "run"
    done = torchrun(
        2, str(data), "--out", str(run), "--epochs", "2", "--warmup-epochs", "1", "--json", "--weights", "random",
        "--mode", "full", "--image-size", "32", "--device", "cpu", "--workers", "0", "--batch-size", "4",
    )
    epochs = [e for e in json_lines(done.stdout) if e["event"] == "epoch"]
    assert [e["backbone_frozen"] for e in epochs] == [True, False]
    assert all(0 <= e["train_acc"] <= 1 and e["train_loss"] > 0 and e["val_acc"] is not None for e in epochs)
    assert {p.name for p in run.iterdir()} == RUN_FILES
    # Batch norm's running statistics were updated, and evaluation.json describes the saved model.
    ev = json.loads((run / "evaluation.json").read_text())
    assert ev["num_images"] == 2 and sum(map(sum, ev["confusion_matrix"])) == 2


class Rank1Alone(DistContext):
    """Rank 1 of 2 with the collectives answered locally: shows what rank 1 does on its own."""

    def __init__(self) -> None:
        super().__init__(rank=1, world_size=2, backend="fake")

    def wrap(self, model, device, find_unused_parameters=False):
        return model

    def sum(self, values):
        return [2 * v for v in values]

    def any(self, flag):
        return bool(flag)

    def all_gather_object(self, obj):
        return [obj, obj]

    def sync_buffers(self, model):
        pass

    def barrier(self):
        pass

    def close(self):
        pass


def test_ranks_other_than_0_write_nothing(data, tmp_path, monkeypatch):
    monkeypatch.setattr(DistContext, "from_env", classmethod(lambda cls, device_type: Rank1Alone()))
    monkeypatch.setenv("RANK", "1")  # what torchrun tells rank 1 (which therefore takes no run-folder lock)
    monkeypatch.setenv("WORLD_SIZE", "2")
    cfg = TrainConfig(data, tmp_path / "run", weights="random", mode="head", epochs=2, image_size=32,
                      device="cpu", num_workers=0, batch_size=4, feature_cache="disk")
    events = list(train(cfg))
    assert isinstance(events[-1], Finished) and events[-1].epochs_done == 2
    assert not any(isinstance(e, CheckpointSaved) for e in events)
    assert not (tmp_path / "run").exists()  # not even the feature cache: rank 1 keeps it in memory


def test_a_process_alone_has_a_context_without_collectives(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    ctx = DistContext.from_env("cpu")
    assert not ctx.enabled and ctx.is_main and (ctx.rank, ctx.world_size) == (0, 1)
    net = torch.nn.Linear(2, 2)
    assert ctx.wrap(net, torch.device("cpu")) is net
    assert ctx.sum([1.5, 2]) == [1.5, 2] and ctx.any(True) and not ctx.any(False)
    assert ctx.broadcast_object("x") == "x" and ctx.all_gather_object(3) == [3]
    assert ctx.device_for(torch.device("cuda")) == torch.device("cuda")
    ctx.sync_buffers(net), ctx.barrier(), ctx.close()


def _context_worker(rank: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    ctx = DistContext.from_env("cpu")
    bn = torch.nn.BatchNorm1d(3)
    bn.running_mean.fill_(rank + 1.0)
    ctx.sync_buffers(bn)
    result = {
        "enabled": ctx.enabled, "backend": ctx.backend, "is_main": ctx.is_main,
        "ddp": type(ctx.wrap(torch.nn.Linear(2, 2), torch.device("cpu"))).__name__,
        "sum": ctx.sum([rank + 1.0, 10.0]),
        "any_one": ctx.any(rank == 1), "any_none": ctx.any(False),
        "broadcast": ctx.broadcast_object({"from": rank}), "gather": ctx.all_gather_object(rank * 10),
        "running_mean": bn.running_mean.tolist(),
    }
    ctx.barrier()
    ctx.close()
    Path(out, f"{rank}.json").write_text(json.dumps(result))


def test_two_gloo_processes_reduce_agree_and_share_rank_0s_state(tmp_path):
    torch.multiprocessing.spawn(_context_worker, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    results = [json.loads((tmp_path / f"{r}.json").read_text()) for r in (0, 1)]
    for rank, r in enumerate(results):
        assert r["enabled"] and r["backend"] == "gloo" and r["is_main"] == (rank == 0)
        assert r["ddp"] == "DistributedDataParallel"
        assert r["sum"] == [3.0, 20.0] and r["any_one"] and not r["any_none"]
        assert r["broadcast"] == {"from": 0} and r["gather"] == [0, 10]
        assert r["running_mean"] == [1.0, 1.0, 1.0]  # rank 0's batch-norm statistics on both


def test_the_dropout_rate_is_a_checked_setting(data, tmp_path):
    from model.training.engine import check_config
    from model.core.errors import StudioError

    with pytest.raises(StudioError, match="dropout rate"):
        check_config(TrainConfig(data, tmp_path / "run", dropout=1.0))
    check_config(TrainConfig(data, tmp_path / "run", dropout=0.0))


def test_each_rank_takes_its_shard_of_every_global_batch():
    order = list(range(11))
    for world in (1, 2, 3):
        shards = [list(ShardedBatchSampler(order, 4, r, world)) for r in range(world)]
        for step, batch in enumerate([order[0:4], order[4:8], order[8:11]]):
            assert sorted(sum((s[step] for s in shards), [])) == batch
            assert shards[0][step] == shard(batch, 0, world)
    # Full mode: a last global batch whose smallest shard would hold one image is left out.
    sampler = ShardedBatchSampler(order, 4, 0, 2, min_shard=2)
    assert len(sampler) == 2 and sampler.global_total() == 8
    assert ShardedBatchSampler(list(range(12)), 4, 1, 2, min_shard=2).global_total() == 12


def test_a_short_shard_trains_with_frozen_batch_norm_statistics():
    # Distributed full mode: a rank whose shard lost images to failed decodes must still take its step.
    from model.training.epochs import batch_norm_frozen
    from model.nets.network import build_model

    net = build_model("b0", 2).train()
    bn = net.features[0][1]
    before = bn.running_mean.clone()
    for n in (1, 0):
        with batch_norm_frozen(net):
            net(torch.randn(n, 3, 32, 32)).sum().backward()
        assert torch.equal(bn.running_mean, before) and bn.training
    net(torch.randn(2, 3, 32, 32))
    assert not torch.equal(bn.running_mean, before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_one_gpu_nccl_smoke_run(data, tmp_path):
    run = tmp_path / "run"
    done = torchrun(1, str(data), "--out", str(run), "--epochs", "2", "--json", "--weights", "random", "--mode", "full",
                    "--image-size", "32", "--device", "cuda", "--workers", "0", "--batch-size", "4")
    lines = json_lines(done.stdout)
    assert lines[-1]["event"] == "finished" and lines[-1]["epochs_done"] == 2
    assert next(e for e in lines if e["event"] == "started")["device"] == "cuda"
    assert any("1 process (nccl)" in e["message"] for e in lines if e["event"] == "notice")
    assert {p.name for p in run.iterdir()} == RUN_FILES
