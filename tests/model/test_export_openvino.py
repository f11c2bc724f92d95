"""OpenVINO IR export: fp32 verified like ONNX; INT8 calibrated on the bundle's images, judged before it is kept."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from model.core.errors import StudioError
from model.core.events import Progress
from model.export.formats import export_bundle, exported_logits
from tests.bundles import make_colour_bundle

pytest.importorskip("openvino")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained_bundle(tmp_path_factory):
    """A two-class bundle at 32 px whose config names its training folder (as training writes it)."""
    return make_colour_bundle(tmp_path_factory.mktemp("int8"))


def test_fp32_ir_round_trip_is_verified_and_carries_metadata(tmp_path, trained_bundle):
    from model.export.openvino_ir import read_openvino_metadata

    report = export_bundle(trained_bundle[0], "openvino", tmp_path / "m.xml")
    assert report.path == tmp_path / "m.xml" and (tmp_path / "m.bin").stat().st_size > 1_000_000
    assert report.max_abs_diff < 1e-4
    meta = read_openvino_metadata(report.path)
    assert json.loads(meta["class_names"]) == ["red", "blue"] and meta["input_size"] == "32"
    assert exported_logits(report.path, "openvino", torch.zeros(5, 3, 32, 32)).shape == (5, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin", "m.xml"]  # no temp files left


def test_int8_round_trip_is_staged_until_kept(tmp_path, trained_bundle):
    from model.export.int8 import StagedInt8Export, export_int8
    from model.export.openvino_ir import IrRunner, read_openvino_metadata

    out = tmp_path / "out" / "int8.xml"
    events = list(export_int8(trained_bundle[0], out))
    staged = events[-1]
    assert isinstance(staged, StagedInt8Export) and all(isinstance(e, Progress) for e in events[:-1])
    assert not out.exists()  # nothing at the destination before the numbers were seen
    assert staged.calibration_images == 12 and staged.validation_images == 4  # 25 % of 8 per class held out
    assert 0 <= staged.accuracy_int8 <= 1 and 0 <= staged.accuracy_fp32 <= 1 and 0 <= staged.top1_agreement <= 1
    assert "before" in staged.describe() and "after INT8" in staged.describe()
    path = staged.keep()
    assert path == out and out.with_suffix(".bin").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["int8.bin", "int8.xml"]
    assert read_openvino_metadata(out)["precision"] == "int8"
    assert "FakeQuantize" in out.read_text() or 'element_type="i8"' in out.read_text()  # really quantised
    assert IrRunner(out)(torch.zeros(1, 3, 32, 32).numpy()).shape == (1, 2)


def test_int8_without_its_training_folder_is_one_sentence(tmp_path, trained_bundle):
    from model.export.int8 import export_int8

    # (Discarding a staged export is tested through the app: tests/app/test_int8_export.py.)
    with pytest.raises(StudioError, match="training folder cannot be found"):
        list(export_int8(trained_bundle[0], tmp_path / "x.xml", data_dir=tmp_path / "gone"))
    assert list(tmp_path.iterdir()) == []


def test_cli_int8_export_json(tmp_path, trained_bundle):
    out = tmp_path / "q.xml"
    r = subprocess.run([sys.executable, "-m", "model", "export", str(trained_bundle[0]), "--format", "openvino",
                        "--int8", "--out", str(out), "--json"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)  # NNCF's progress bars never reach stdout
    assert report["path"] == str(out) and report["precision"] == "int8" and out.is_file()
    assert {"accuracy_fp32", "accuracy_int8", "top1_agreement"} <= set(report)
    assert "accuracy" in r.stderr and "before" in r.stderr
    r = subprocess.run([sys.executable, "-m", "model", "export", str(trained_bundle[0]), "--format", "onnx",
                        "--int8", "--out", str(tmp_path / "x.onnx")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "--int8 is for --format openvino" in r.stderr
