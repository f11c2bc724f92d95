"""``python -m model attention`` and ``attention-classes``: files written, JSON, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from model.cli import main
from model.core.variants import get_variant
from tests.model.attention_models import calibrated_b0

ROOT = Path(__file__).resolve().parents[2]
PREP = get_variant("b0").eval_preprocessing.at_size(64)
CLASSES = ["apple", "banana", "cherry", "date", "elder", "fig"]


@pytest.fixture
def fake_load(monkeypatch):
    """Swap the CLI's model loading for a calibrated random B0 at 64 px (no weights file needed)."""
    classifier = SimpleNamespace(model=calibrated_b0(), preprocessing=PREP, class_names=CLASSES, source="test model")
    calls = []

    def load(args):
        calls.append(args)
        return classifier

    import model.cli.attention as attention_cli
    import model.cli.attention_classes as classes_cli

    monkeypatch.setattr(attention_cli, "_load", load)
    monkeypatch.setattr(classes_cli, "_load", load)
    return calls


def test_attention_writes_every_file_and_json(fake_load, image_factory, tmp_path, capsys):
    image = image_factory("photo.png", size=(80, 70), seed=4)
    out = tmp_path / "maps"
    assert main(["attention", str(image), "--out", str(out), "--json", "--device", "cpu", "--target", "cherry"]) == 0
    report = json.loads(capsys.readouterr().out)
    blocks = report["blocks"]
    assert len(blocks) == 16
    assert blocks[0]["name"] == "stage 1 · block 1 · 32 ch · 32×32" and blocks[0]["grid"] == [32, 32]
    assert report["prediction"]["label"] in CLASSES and len(report["prediction"]["top"]) == 5
    assert report["gradcam_class"] == {"index": 2, "label": "cherry"}
    overlays = sorted(p.name for p in out.glob("[0-9][0-9]_stage*_block*.png"))
    assert overlays == [b["file"] for b in blocks] and overlays[0] == "00_stage1_block1.png"
    assert overlays[-1] == "15_stage7_block1.png"
    for name in ("gate_map.png", "gradcam.png", overlays[5]):
        with Image.open(out / name) as im:
            assert im.mode == "RGB"
    with Image.open(out / "gradcam.png") as im:
        assert im.size == (64, 64)  # the crop the model saw
    with np.load(out / "excitations.npz", allow_pickle=False) as npz:
        assert list(npz.keys()) == [Path(f).stem for f in overlays]
        for b in blocks:
            s = npz[Path(b["file"]).stem]
            assert s.shape == (b["channels"],) and (s >= 0).all() and (s <= 1).all()
            assert b["mean"] == pytest.approx(float(s.mean())) and b["max"] == pytest.approx(float(s.max()))


def test_attention_text_output_and_change_maps(fake_load, image_factory, tmp_path, capsys):
    image = image_factory("photo.jpg", size=(64, 64), seed=5)
    assert main(["attention", str(image), "--out", str(tmp_path / "o"), "--map", "change", "--cmap", "viridis"]) == 0
    text = capsys.readouterr().out
    assert "stage 7 · block 1" in text and "wrote 16 block overlays" in text


def test_bad_image_is_one_clear_error(fake_load, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG but not really")
    assert main(["attention", str(bad), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "broken.png" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert fake_load == []  # failed before loading any model
    assert not (tmp_path / "o").exists()


def test_unknown_target_class_is_a_clear_error(fake_load, image_factory, tmp_path, capsys):
    image = image_factory("p.png", seed=1)
    assert main(["attention", str(image), "--out", str(tmp_path / "o"), "--target", "durian"]) == 1
    assert "durian" in capsys.readouterr().err


def test_attention_classes_writes_npz_png_and_json(fake_load, image_factory, tmp_path, capsys):
    for k in range(2):
        image_factory(f"data/red/{k}.png", color=(220, 30, 30), seed=k)
        image_factory(f"data/blue/{k}.png", color=(30, 30, 220), seed=5 + k)
    (tmp_path / "data" / "blue" / "bad.png").write_bytes(b"nope")
    out = tmp_path / "cmp"
    argv = ["attention-classes", str(tmp_path / "data"), "--model", "unused.pt", "--out", str(out), "--json", "--batch-size", "3"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["classes"] == [{"name": "blue", "count": 2}, {"name": "red", "count": 2}]
    assert len(report["skipped"]) == 1 and report["skipped"][0]["path"].endswith("bad.png")
    assert len(report["blocks"]) == 16 and all("divergence" in b for b in report["blocks"])
    assert report["most_class_specific"] in [b["name"] for b in report["blocks"]]
    with np.load(out / "class_comparison.npz", allow_pickle=False) as npz:
        assert npz["divergence"].shape == (16,) and list(npz["class_names"]) == ["blue", "red"]
    with Image.open(out / "class_comparison.png") as im:
        assert im.mode == "RGB" and im.height > 240


# End to end through `python -m model`, with the real model loading of model/classifier.py.


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_end_to_end_with_random_weights(image_factory, tmp_path):
    image = image_factory("cat.png", size=(90, 80), seed=2)
    done = _run("attention", str(image), "--variant", "b0", "--weights", "random", "--device", "cpu",
                "--out", str(tmp_path / "maps"), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["blocks"]) == 16 and report["blocks"][-1]["grid"] == [7, 7]  # ImageNet preset: 224 px
    assert len(list((tmp_path / "maps").glob("*_stage*_block*.png"))) == 16


def test_cli_end_to_end_with_a_bundle(image_factory, tmp_path):
    from model.nets.bundle import Bundle, save_bundle
    from model.nets.network import build_model

    bundle = save_bundle(
        Bundle(build_model("b0", num_classes=2).state_dict(), "b0", ["blue", "red"], 64, PREP), tmp_path / "model.pt"
    )
    for k in range(2):
        image_factory(f"data/red/{k}.png", color=(220, 30, 30), seed=k)
        image_factory(f"data/blue/{k}.png", color=(30, 30, 220), seed=5 + k)
    done = _run("attention-classes", str(tmp_path / "data"), "--model", str(bundle), "--out", str(tmp_path / "cmp"), "--json")
    assert done.returncode == 0, done.stderr
    assert [c["name"] for c in json.loads(done.stdout)["classes"]] == ["blue", "red"]
    assert (tmp_path / "cmp" / "class_comparison.png").is_file()


def test_model_and_weights_together_is_a_usage_error(fake_load, image_factory, tmp_path, capsys):
    image = image_factory("p.png", seed=1)
    with pytest.raises(SystemExit) as stop:
        main(["attention", str(image), "--model", "m.pt", "--weights", "random", "--out", str(tmp_path / "o")])
    assert stop.value.code == 2 and "--model" in capsys.readouterr().err
    assert fake_load == []


def test_attention_classes_reports_the_mean_ablation_curve_per_class(fake_load, image_factory, tmp_path, capsys):
    for k in range(2):
        image_factory(f"data/red/{k}.png", color=(220, 30, 30), seed=k)
        image_factory(f"data/blue/{k}.png", color=(30, 30, 220), seed=5 + k)
    out = tmp_path / "cmp"
    assert main(["attention-classes", str(tmp_path / "data"), "--model", "m.pt", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ablation_mode"] == "mean"
    assert [row["class"] for row in report["ablation"]] == ["blue", "red"]
    assert all(len(row["confidence_drop"]) == 16 for row in report["ablation"])
    assert any(abs(d) > 1e-4 for row in report["ablation"] for d in row["confidence_drop"])
    with np.load(out / "class_comparison.npz", allow_pickle=False) as npz:
        assert npz["ablation"].shape == (2, 16)
    assert main(["attention-classes", str(tmp_path / "data"), "--model", "m.pt", "--out", str(out), "--json",
                 "--ablate", "none"]) == 0
    assert "ablation" not in json.loads(capsys.readouterr().out)


def test_attention_score_adds_faithfulness_ablation_and_grids(fake_load, image_factory, tmp_path, capsys):
    image = image_factory("photo.png", size=(64, 64), seed=4)
    out = tmp_path / "maps"
    assert main(["attention", str(image), "--out", str(out), "--json", "--score", "--map", "gradcam++"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["gradcam"]["grid"] == [4, 4] and report["gradcam"]["layer"] == "features.5"
    faithfulness = report["faithfulness"]
    assert list(faithfulness) == ["se", "change", "gradcam", "gradcam++", "scorecam", "random"]
    for scores in faithfulness.values():
        assert set(scores) == {"deletion_auc", "insertion_auc"}
        assert all(isinstance(v, float) and 0 <= v <= 1 for v in scores.values())
    assert [row["block"] for row in report["ablation"]] == [b["name"] for b in report["blocks"]]
    assert all(set(row) == {"block", "confidence_drop", "top1_changed"} for row in report["ablation"])
    assert all(m["grid"] for m in report["maps"].values())
    assert all(isinstance(m["beats_random"], bool) for name, m in report["maps"].items() if name != "random")
    assert (out / "gradcam++.png").exists() and (out / "faithfulness.npz").exists()
    assert "prediction" in report and len(report["blocks"]) == 16  # the keys from before stay
    assert main(["attention", str(image), "--out", str(out), "--layer", "0"]) == 1
    assert "--layer 0" in capsys.readouterr().err
