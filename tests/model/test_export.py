"""Export round trips: the file runs without the app and says what it needs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from model.nets.bundle import Bundle, save_bundle
from model.export.formats import ExportError, export_bundle
from model.export.table import EXPORT_FORMATS, FORMATS, format_for_file, get_format
from model.nets.network import build_model
from model.core.variants import get_variant

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory):
    torch.manual_seed(0)
    net = build_model("b0", num_classes=3)
    prep = get_variant("b0").eval_preprocessing.at_size(64)
    b = Bundle(net.state_dict(), "b0", ["cat", "dog", "émeu"], 64, prep)
    return save_bundle(b, tmp_path_factory.mktemp("bundle") / "model.pt")


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_round_trip_with_metadata(tmp_path, bundle_path, fmt):
    out = tmp_path / f"m.{fmt}"
    report = export_bundle(bundle_path, fmt, out)
    assert report.path == out and out.stat().st_size > 1_000_000
    assert report.max_abs_diff < 1e-4
    meta = get_format(fmt).read_metadata(out)
    assert json.loads(meta["class_names"]) == ["cat", "dog", "émeu"]
    assert meta["input_size"] == "64" and meta["variant"] == "b0"
    assert json.loads(meta["mean"]) == pytest.approx([0.485, 0.456, 0.406])
    # Dynamic batch: 5 images in, 5 rows out.
    assert get_format(fmt).logits(out, torch.zeros(5, 3, 64, 64)).shape == (5, 3)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp files left


def test_unknown_format_and_bad_bundle_are_clear(tmp_path, bundle_path):
    with pytest.raises(ExportError, match="Unknown export format"):
        export_bundle(bundle_path, "coreml", tmp_path / "x")
    (tmp_path / "old.pt").write_bytes(b"not a bundle")
    from model.core.errors import BundleError

    with pytest.raises(BundleError):
        export_bundle(tmp_path / "old.pt", "onnx", tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_cli_export_json(tmp_path, bundle_path):
    out = tmp_path / "m.onnx"
    r = subprocess.run([sys.executable, "-m", "model", "export", str(bundle_path), "--format", "onnx",
                        "--out", str(out), "--json"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["path"] == str(out) and report["max_abs_diff"] < 1e-4
    r = subprocess.run([sys.executable, "-m", "model", "export", str(tmp_path / "missing.pt"), "--format", "onnx",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "no such" in r.stderr


def test_readme_snippet_classifies_without_the_app(tmp_path, bundle_path):
    """The usage snippet documented in the README works on an exported file."""
    from PIL import Image

    out = export_bundle(bundle_path, "onnx", tmp_path / "m.onnx").path
    Image.new("RGB", (90, 70), (200, 10, 10)).save(tmp_path / "photo.jpg")
    snippet = (ROOT / "docs" / "onnx_usage.py").read_text()
    r = subprocess.run([sys.executable, "-c", snippet, str(out), str(tmp_path / "photo.jpg")],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    label, score = r.stdout.split()[:2]
    assert label in ("cat", "dog", "émeu") and 0 < float(score) <= 1


def test_one_table_names_each_format_for_the_cli_and_the_save_dialog():
    from model.cli import build_parser

    assert EXPORT_FORMATS == ("onnx", "torchscript", "openvino")
    assert [f.title for f in FORMATS] == ["ONNX", "TorchScript", "OpenVINO IR"]
    for name in EXPORT_FORMATS:  # the CLI takes exactly the table's names
        assert build_parser().parse_args(["export", "m.pt", "--format", name, "--out", "x"]).format == name
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "m.pt", "--format", "coreml", "--out", "x"])
    onnx, ts, ir = FORMATS
    assert format_for_file("/x/m.ONNX") == (onnx, "/x/m.ONNX")
    assert format_for_file("/x/m.pth", onnx.dialog_filter) == (ts, "/x/m.pth")  # the name wins over the filter
    assert format_for_file("/x/m", ts.dialog_filter) == (ts, "/x/m.torchscript.pt")
    assert format_for_file("/x/m", "") == (onnx, "/x/m.onnx")
    assert format_for_file("/x/m", ir.dialog_filter) == (ir, "/x/m.xml")
    with pytest.raises(ExportError, match="use one of onnx, torchscript, openvino"):
        get_format("coreml")


def test_the_table_loads_without_torch():
    """The app builds its save dialog from the table on the UI thread, before torch is imported."""
    code = "import sys, model.export.table; print([m for m in ('torch', 'onnx') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
