"""SIGTERM stops a training like Ctrl-C (exit 143), and a second Ctrl-C never cuts a checkpoint in half."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.model.train_helpers import make_dataset

from model.nets.bundle import load_bundle
from model.training.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--weights", "random", "--mode", "head", "--image-size", "32", "--device", "cpu", "--workers", "0", "--json"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))

# Sends the first Ctrl-C as last.pt's save starts and the second from inside torch's zip writer.
SECOND_CTRL_C_WHILE_SAVING = """
import os, signal, sys, torch
from model.cli import main

real_save = torch.save

class PokingFile:
    def __init__(self, f):
        self.f, self.poked = f, False
    def write(self, data):
        if not self.poked:
            self.poked = True
            os.kill(os.getpid(), signal.SIGINT)
        return self.f.write(data)
    def flush(self):
        self.f.flush()

def save(obj, f, *args, **kwargs):
    if isinstance(obj, dict) and obj.get("format") == "efficientnet-studio-checkpoint":
        os.kill(os.getpid(), signal.SIGINT)
        f = PokingFile(f)
    real_save(obj, f, *args, **kwargs)

torch.save = save
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_stops_after_the_step_saves_both_checkpoints_and_exits_143(tmp_path):
    data = make_dataset(tmp_path / "ds", classes=("red", "blue"), per_class=4)
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "model", "train", str(data), "--out", str(run), "--epochs", "500", *TINY]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(json.loads(line))
            if lines[-1]["event"] == "epoch":
                proc.send_signal(signal.SIGTERM)
                break
        lines += [json.loads(line) for line in proc.stdout]
        assert proc.wait(timeout=60) == 143
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert "Stopping after this step and saving checkpoints (SIGTERM)." in err and "Traceback" not in err
    last = lines[-1]
    assert last["event"] == "finished" and last["reason"] == "stopped by user" and 1 <= last["epochs_done"] < 500
    assert load_checkpoint(run / "last.pt").epochs_done == last["epochs_done"]
    assert load_bundle(run / "model.pt").class_names == ["blue", "red"]


def test_a_second_ctrl_c_during_a_save_lets_the_save_finish_then_exits_130(tmp_path):
    data = make_dataset(tmp_path / "ds", classes=("red", "blue"), per_class=4)
    run = tmp_path / "run"
    cmd = [sys.executable, "-c", SECOND_CTRL_C_WHILE_SAVING, "train", str(data), "--out", str(run), "--epochs", "3", *TINY]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "Aborted:" in done.stderr
    assert load_checkpoint(run / "last.pt").epochs_done == 1  # complete, and readable
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]
