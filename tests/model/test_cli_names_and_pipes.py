"""Issue 15: file names that are not UTF-8 work end to end; a closed stdout ends output, not work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.image_files import make_image

from model.cli import main
from model.nets.bundle import load_bundle
from model.training.checkpoint import load_checkpoint
from model.training.features import cache_key

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--weights", "random", "--image-size", "32", "--device", "cpu", "--workers", "0"]
pytestmark = pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses file names that are not UTF-8")


def _latin1_dataset(root: Path) -> Path:
    """Class folders and files whose names are Latin-1 bytes, undecodable as UTF-8."""
    for i, (name, color) in enumerate(((b"caf\xe9", (210, 40, 40)), (b"gr\xfcn", (40, 190, 60)))):
        for j in range(4):
            raw = os.path.join(os.fsencode(root), name, b"bild\xff%d.png" % j)
            make_image(Path(os.fsdecode(raw)), size=(36, 32), color=color, seed=10 * i + j)
    return root


def _utf8_json_lines(text: str) -> list[dict]:
    text.encode("utf-8")  # strict: nothing unencodable reached the output
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_feature_cache_key_takes_undecodable_names(tmp_path):
    p = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.png"))
    assert cache_key("b0", "random", 32, [(p, 0)]) != cache_key("b0", "random", 32, [(tmp_path / "cafe.png", 0)])


@pytest.mark.parametrize("mode", ["head", "full"])
def test_train_evaluate_predict_on_undecodable_names(tmp_path, capsys, mode):
    data = _latin1_dataset(tmp_path / "ds")
    run = tmp_path / "run"
    assert main(["train", str(data), "--out", str(run), "--mode", mode, "--epochs", "1", "--json", *TINY]) == 0
    events = _utf8_json_lines(capsys.readouterr().out)
    assert events[-1]["event"] == "finished"
    started = next(e for e in events if e["event"] == "started")
    assert started["class_names"] == ["caf\udce9", "gr\udcfcn"]  # json.loads gives back the same str
    assert load_bundle(run / "model.pt").class_names == ["caf\udce9", "gr\udcfcn"]
    json.loads((run / "evaluation.json").read_bytes().decode("utf-8"))
    if mode == "full":
        return  # the rest does not depend on the mode

    assert main(["evaluate", str(run / "model.pt"), str(data), "--json", "--device", "cpu"]) == 0
    ev = _utf8_json_lines(capsys.readouterr().out)[0]
    assert ev["classes"] == ["caf\udce9", "gr\udcfcn"] and ev["num_images"] == 8

    assert main(["predict", str(data), "--model", str(run / "model.pt"), "--json", "--device", "cpu"]) == 0
    preds = _utf8_json_lines(capsys.readouterr().out)
    assert len(preds) == 8 and all(p["error"] is None for p in preds)
    assert os.fsencode(preds[0]["path"]).endswith(b"/caf\xe9/bild\xff0.png")

    assert main(["predict", str(data), "--model", str(run / "model.pt"), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "caf\\xe9/bild\\xff0.png" in out  # undecodable bytes printed as escapes, not a crash


def _popen(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "model", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_predict_json_into_head_exits_quietly(tmp_path):
    for i in range(12):
        make_image(tmp_path / "photos" / f"{i:02d}.png", size=(40, 32), seed=i)
    proc = _popen("predict", str(tmp_path / "photos"), "--weights", "random", "--device", "cpu", "--json")
    first = proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    code = proc.wait(timeout=300)
    err = proc.stderr.read().decode()
    assert json.loads(first)["path"].endswith("00.png")
    assert code == 141 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_training_whose_stdout_closes_keeps_training_and_saving(tmp_path):
    data = tmp_path / "ds"
    for i, color in enumerate(((210, 40, 40), (40, 190, 60))):
        for j in range(4):
            make_image(data / f"c{i}" / f"{j}.png", size=(36, 32), color=color, seed=10 * i + j)
    run = tmp_path / "run"
    proc = _popen("train", str(data), "--out", str(run), "--epochs", "3", "--json", *TINY)
    head = [proc.stdout.readline() for _ in range(3)]  # `| head -3`
    proc.stdout.close()
    code = proc.wait(timeout=300)
    err = proc.stderr.read().decode()
    assert all(json.loads(line)["event"] for line in head)
    assert code == 0 and "Traceback" not in err, err
    assert load_checkpoint(run / "last.pt").epochs_done == 3
    assert load_bundle(run / "model.pt").class_names == ["c0", "c1"]
