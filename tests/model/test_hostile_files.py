"""Issue 15: hostile model files are refused before they cost memory or produce nonsense."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from model.cli import main
from model.core.errors import BundleError
from model.core.variants import get_variant
from model.nets.archive_check import check_archive, max_archive_bytes
from model.nets.bundle import Bundle, bundle_to_dict, load_bundle, save_bundle
from model.training.checkpoint import Checkpoint, load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def make_zip_bomb(path: Path, declared_mb: int) -> Path:
    """A valid torch archive whose one storage record inflates from ~1 KB per MB to ``declared_mb`` MB of zeros."""
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            if info.filename.endswith("/data/0"):
                record = zipfile.ZipInfo(info.filename)
                record.compress_type = zipfile.ZIP_DEFLATED
                chunk = bytes(16 << 20)
                with out.open(record, "w", force_zip64=True) as f:
                    for _ in range(declared_mb // 16):
                        f.write(chunk)
            else:
                out.writestr(info, src.read(info))
    return path


PEAK_SCRIPT = """
import resource, sys
import torch
from model.core.errors import StudioError
from model.nets.bundle import load_bundle
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_bundle(sys.argv[1])
    print("loaded")
except StudioError as e:
    print("refused:", e)
print("growth_mb", (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def test_a_zip_bomb_is_refused_before_it_takes_memory(tmp_path):
    bomb = make_zip_bomb(tmp_path / "bomb.pt", 384)
    assert bomb.stat().st_size < 2 << 20  # a ~0.4 MB file declaring 384 MB
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(bomb)], capture_output=True, text=True, env=env, timeout=300
    ).stdout
    assert "refused:" in out and "unpacks to 384 MB" in out and "hostile" in out, out
    growth = float(out.rsplit("growth_mb", 1)[1])
    assert growth < 150, out  # torch.load alone grew by the declared 384 MB


def test_declared_sizes_are_bounded_by_the_variant(tmp_path):
    path = tmp_path / "w.pt"
    torch.save({"w": torch.zeros(64, 1024)}, path)  # 256 KB, stored uncompressed
    check_archive(path, max_archive_bytes("b0"))
    with pytest.raises(BundleError, match=r"declares 256 KB of data, more than a model of this kind can hold \(98 KB\)"):
        check_archive(path, 100_000)
    assert max_archive_bytes("b0") < max_archive_bytes("b7") == max_archive_bytes()


def test_a_real_bundle_passes_the_archive_check(tmp_path):
    path = save_bundle(_bundle(), tmp_path / "m.pt")
    check_archive(path, max_archive_bytes("b0"))
    assert load_bundle(path).class_names == ["cat", "dog"]


def _bundle(image_size: int = 64) -> Bundle:
    state = {"classifier.1.weight": torch.zeros(2, 1280), "classifier.1.bias": torch.zeros(2)}
    prep = get_variant("b0").eval_preprocessing.at_size(image_size)
    return Bundle(state, "b0", ["cat", "dog"], image_size, prep, config={"mode": "head"})


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("crop_size", 0, "crop size 0 is outside 16-2048 pixels"),
        ("crop_size", 20000, "crop size 20000 is outside 16-2048 pixels"),
        ("resize_size", 10, "resize size 10 is not between the crop size"),
        ("std", [0.2, 0.0, 0.2], "std [0.2, 0.0, 0.2] must be finite"),
        ("std", [0.2, float("nan"), 0.2], "std [0.2, nan, 0.2] must be finite"),
        ("mean", [float("inf"), 0.4, 0.4], "mean [inf, 0.4, 0.4] is not finite"),
        ("mean", [0.5, 0.5], "mean and std need 3 values"),
        ("interpolation", "sinc", "interpolation 'sinc' is not one of bicubic, bilinear"),
    ],
)
def test_poisoned_preprocessing_is_refused_with_one_sentence(tmp_path, field, value, words):
    d = bundle_to_dict(_bundle())
    d["preprocessing"][field] = value
    torch.save(d, tmp_path / "m.pt")
    with pytest.raises(BundleError) as e:
        load_bundle(tmp_path / "m.pt")
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path / 'm.pt'}: refused to load, the bundle's preprocessing is invalid (")
    assert words in msg and "\n" not in msg


def test_an_absurd_image_size_is_refused(tmp_path):
    d = bundle_to_dict(_bundle())
    d["image_size"] = 100_000
    torch.save(d, tmp_path / "m.pt")
    with pytest.raises(BundleError, match="image size 100000 is outside 16-2048"):
        load_bundle(tmp_path / "m.pt")


def test_predict_with_a_poisoned_bundle_is_one_sentence(tmp_path, capsys):
    from tests.image_files import make_image

    d = bundle_to_dict(_bundle())
    d["preprocessing"]["std"] = [0.0, 0.0, 0.0]
    torch.save(d, tmp_path / "m.pt")
    make_image(tmp_path / "x.png", size=(40, 32))
    assert main(["predict", str(tmp_path / "x.png"), "--model", str(tmp_path / "m.pt"), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "preprocessing is invalid" in err


def _checkpoint_dict(tmp_path) -> dict:
    ckpt = Checkpoint(
        bundle=_bundle(),
        optimizer={"state": {}, "param_groups": [{"params": [0, 1], "lr": 1e-3}]},
        scheduler={"base_lr": 1e-3},
        scaler=None,
        epochs_done=2,
    )
    save_checkpoint(ckpt, tmp_path / "last.pt")
    assert load_checkpoint(tmp_path / "last.pt").epochs_done == 2
    return torch.load(tmp_path / "last.pt", weights_only=True)


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda d: d.pop("optimizer"), "optimizer is missing"),
        (lambda d: d.pop("epochs_done") and d.pop("scheduler"), "scheduler, epochs_done are missing"),
        (lambda d: d["optimizer"].update(param_groups=[]), "the optimizer has no parameter groups"),
        (lambda d: d["optimizer"]["param_groups"][0].update(params=[]), "optimizer group 0 holds no parameters"),
        (lambda d: d["optimizer"]["param_groups"][0].update(lr=float("nan")), "optimizer group 0 has the learning rate nan"),
        (lambda d: d["bundle"]["config"].update(mode="sideways"), "the training mode 'sideways' is not one of head, full"),
        (lambda d: d.update(epochs_done=-1), "the number of epochs done is -1"),
    ],
)
def test_a_damaged_last_pt_is_refused_with_one_sentence(tmp_path, damage, words):
    d = _checkpoint_dict(tmp_path)
    damage(d)
    torch.save(d, tmp_path / "last.pt")
    with pytest.raises(BundleError) as e:
        load_checkpoint(tmp_path / "last.pt")
    assert str(e.value) == f"{tmp_path / 'last.pt'}: cannot resume from this checkpoint, {words}; start a new run or restore the file."
