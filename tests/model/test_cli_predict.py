"""The ``info`` and ``predict`` commands: JSON contract, exit statuses, no tracebacks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from model.cli import main
from model.core.errors import BundleError
from model.nets.network import build_empty_model
from model.nets import weights
from model.nets.weights import imagenet_cache_path

ROOT = Path(__file__).resolve().parents[2]
INFO_KEYS = {"variant", "params", "gflops", "resolution", "top1", "weights_cached"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m model ARGS`` in a fresh interpreter (TORCH_HOME is the test's temporary one)."""
    return subprocess.run([sys.executable, "-m", "model", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def zeros_state(variant: str, num_classes: int = 1000) -> dict[str, torch.Tensor]:
    return {k: torch.zeros(t.shape, dtype=t.dtype) for k, t in build_empty_model(variant, num_classes).state_dict().items()}


@pytest.fixture
def photo_folder(image_factory, tmp_path) -> Path:
    image_factory("photos/a.png", color=(200, 40, 40))
    image_factory("photos/sub/b.jpg", color=(40, 200, 40))
    image_factory("photos/sub/deeper/c.webp", color=(40, 40, 200))
    (tmp_path / "photos" / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "photos" / "readme.txt").write_text("not an image, and not picked up by the folder walk")
    return tmp_path / "photos"


def test_predict_json_is_one_object_per_file_per_line(photo_folder, tmp_path):
    missing = tmp_path / "missing.jpg"
    out = run_cli("predict", str(photo_folder), str(missing), "--json", "--weights", "random", "--top-k", "3", "--device", "cpu")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    expected = [photo_folder / "a.png", photo_folder / "broken.png", photo_folder / "sub" / "b.jpg",
                photo_folder / "sub" / "deeper" / "c.webp", missing]
    assert [r["path"] for r in rows] == [str(p) for p in expected]
    for row in rows:
        assert set(row) == {"path", "predictions", "error"}
    for row in (rows[0], rows[2], rows[3]):
        assert row["error"] is None and len(row["predictions"]) == 3
        for p in row["predictions"]:
            assert set(p) == {"label", "index", "score"}
            assert isinstance(p["label"], str) and isinstance(p["index"], int) and 0.0 <= p["score"] <= 1.0
    assert rows[1]["predictions"] == [] and "not an image" in rows[1]["error"]
    assert rows[4]["predictions"] == [] and "file not found" in rows[4]["error"]


def test_predict_prints_a_readable_table(photo_folder, capsys):
    assert main(["predict", str(photo_folder / "a.png"), str(photo_folder / "broken.png"), "--weights", "random",
                 "--top-k", "2", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == str(photo_folder / "a.png")
    assert lines[1].split()[0] == "1" and lines[1].split()[1].endswith("%")
    assert lines[3] == str(photo_folder / "broken.png") and lines[4].strip().startswith("error:")
    assert "2 file(s), 1 unreadable" in err


@pytest.mark.parametrize("flag, draft", [([], False), (["--fast-decode"], True)])
def test_fast_decode_is_off_unless_asked_for(flag, draft, photo_folder, monkeypatch, capsys):
    import model.inference.predict

    made = []

    class SpyDecoder(model.inference.predict.ThreadedDecoder):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self.draft)

    monkeypatch.setattr(model.inference.predict, "ThreadedDecoder", SpyDecoder)
    argv = ["predict", str(photo_folder / "sub" / "b.jpg"), "--weights", "random", "--device", "cpu", *flag]
    assert main(argv) == 0
    assert made == [draft]
    assert capsys.readouterr().out.startswith(str(photo_folder / "sub" / "b.jpg"))


def test_info_json_lists_every_variant_and_what_is_cached(capsys):
    out = run_cli("info", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["variant"] for r in rows] == [f"b{i}" for i in range(8)]
    assert all(set(r) == INFO_KEYS for r in rows)
    assert rows[0]["params"] == 5_288_548 and rows[7]["resolution"] == 600
    assert not any(r["weights_cached"] for r in rows)

    path = imagenet_cache_path("b2")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"present")
    assert main(["info", "--json"]) == 0
    cached = {r["variant"]: r["weights_cached"] for r in json.loads(capsys.readouterr().out)}
    assert cached == {f"b{i}": i == 2 for i in range(8)}
    assert main(["info"]) == 0
    table = capsys.readouterr().out
    assert "b7" in table and "66,347,960" in table


@pytest.mark.parametrize(
    "argv",
    [
        ["predict"],
        ["predict", "x.png", "--top-k", "0"],
        ["predict", "x.png", "--variant", "b9"],
        ["predict", "x.png", "--model", "m.pt", "--weights", "random"],
        ["predict", "x.png", "--model", "m.pt", "--variant", "b1"],
        ["info", "--bogus"],
    ],
)
def test_usage_errors_exit_with_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_a_model_that_cannot_be_loaded_exits_1_with_one_sentence(photo_folder, tmp_path):
    damaged = tmp_path / "model.pt"
    damaged.write_bytes(b"this is not a bundle")
    out = run_cli("predict", str(photo_folder), "--model", str(damaged), "--json")
    assert out.returncode == 1
    assert out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ") and "model.pt" in out.stderr
    # --debug shows the traceback for a bug report.
    with pytest.raises(BundleError):
        main(["predict", str(photo_folder), "--model", str(damaged), "--debug"])


def test_weights_for_another_variant_and_an_empty_folder_exit_1(photo_folder, tmp_path, capsys):
    b1 = tmp_path / "b1.pth"
    torch.save(zeros_state("b1"), b1)
    assert main(["predict", str(photo_folder), "--weights", str(b1), "--device", "cpu"]) == 1
    assert "EfficientNet-B1, not EfficientNet-B0; choose variant b1" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["predict", str(empty), "--weights", "random"]) == 1
    assert "No image files found" in capsys.readouterr().err


class _Terminal:
    """A stand-in for a terminal's stderr: records writes and says it is a tty."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_many_files_show_a_progress_bar_on_a_terminal_only(image_factory, tmp_path, monkeypatch, capsys):
    for i in range(9):
        image_factory(f"many/{i}.png", size=(32, 32), seed=i)
    terminal = _Terminal()
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", terminal)
        assert main(["predict", str(tmp_path / "many"), "--weights", "random", "--json", "--device", "cpu"]) == 0
    assert "Classifying" in terminal.text and "9/9" in terminal.text
    stdout = capsys.readouterr().out
    assert len(stdout.splitlines()) == 9 and "\r" not in stdout
    assert main(["predict", str(tmp_path / "many"), "--weights", "random", "--json", "--device", "cpu"]) == 0
    assert "Classifying" not in capsys.readouterr().err


def test_no_weights_offline_exits_1_saying_what_to_do(photo_folder, monkeypatch, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/efficientnet_b0_rwightman-7f5810bc.pth"
    monkeypatch.setattr(weights, "imagenet_url", lambda variant: closed)
    assert main(["predict", str(photo_folder), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot download the ImageNet weights") and err.count("\n") == 1
    assert "--weights random" in err and "import a weights file" in err
