"""OpenVINO IR files (model.xml + model.bin): fp32, or INT8 quantised with NNCF on the user's own images.

The IR is converted from the same ONNX graph as the ONNX export and carries
the same metadata (class names, input size, preprocessing) in its runtime
info, under ``efficientnet_studio``. INT8 uses NNCF's post-training
quantisation, calibrated on up to ``CALIBRATION_IMAGES`` of the bundle's
training images; it changes the numbers by design, so an INT8 file is judged
by validation accuracy before and after (``model.export.int8``), not by
a probability tolerance. Both files are written under temporary names and
renamed, the .bin before the .xml, so a half-written pair is never found.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np
from torch import nn

from model.core.errors import StudioError
from model.export.formats import ExportError, register_format, write_onnx

RT_SECTION = "efficientnet_studio"
CALIBRATION_IMAGES = 300


def ir_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(model.xml, model.bin) for an IR path given with or without its .xml suffix."""
    path = Path(path)
    xml = path if path.suffix.lower() == ".xml" else path.with_name(path.name + ".xml")
    return xml, xml.with_suffix(".bin")


def write_openvino(
    model: nn.Module, path: str | os.PathLike, image_size: int, metadata: dict[str, str],
    calibration: Iterable[np.ndarray] | None = None, calibration_size: int = CALIBRATION_IMAGES,
) -> Path:
    """Write ``model`` as OpenVINO IR at ``path`` (.xml, with its .bin); INT8 when ``calibration`` is given.

    ``calibration`` yields normalised images [1, 3, S, S] as float32 arrays; NNCF
    reads up to ``calibration_size`` of them.
    """
    import openvino as ov

    xml, bin_ = ir_paths(path)
    xml.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".openvino-export-", dir=xml.parent) as tmp:
        try:
            onnx_path = write_onnx(model, Path(tmp) / "model.onnx", image_size, {})
            ir = ov.convert_model(str(onnx_path))
            if calibration is not None:
                ir = quantize_int8(ir, calibration, calibration_size)
            for key, value in metadata.items():
                ir.set_rt_info(str(value), [RT_SECTION, key])
            staged = Path(tmp) / "model.xml"
            ov.save_model(ir, str(staged), compress_to_fp16=False)
            os.replace(staged.with_suffix(".bin"), bin_)
            os.replace(staged, xml)
        except StudioError:
            raise
        except Exception as e:
            raise ExportError(f"OpenVINO export failed: {e}") from e
    return xml


def quantize_int8(ir, calibration: Iterable[np.ndarray], calibration_size: int):
    """NNCF post-training quantisation of an OpenVINO model on the given images."""
    try:
        import nncf
    except ImportError:
        raise StudioError(
            "INT8 export needs NNCF, which is not installed: pip install 'efficientnet-studio[int8]' (or nncf)."
        ) from None
    images = [np.ascontiguousarray(x, dtype=np.float32) for _, x in zip(range(calibration_size), calibration)]
    if not images:
        raise StudioError("INT8 export needs training images to calibrate on, and none could be read.")
    # NNCF draws progress bars on stdout; the CLI's --json output must stay clean.
    with contextlib.redirect_stdout(sys.stderr):
        return nncf.quantize(ir, nncf.Dataset(images), subset_size=len(images))


def read_openvino_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The metadata an IR file carries (what ``write_openvino`` stored)."""
    import openvino as ov

    ir = ov.Core().read_model(str(ir_paths(path)[0]))
    if not ir.has_rt_info([RT_SECTION]):
        return {}
    return {key: ir.get_rt_info([RT_SECTION, key]).astype(str) for key in ir.get_rt_info()[RT_SECTION]}


class IrRunner:
    """Runs an IR file on the CPU in fp32 arithmetic (INT8 layers stay INT8), one batch at a time."""

    def __init__(self, path: str | os.PathLike) -> None:
        import openvino as ov

        self.compiled = ov.Core().compile_model(str(ir_paths(path)[0]), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        self.request = self.compiled.create_infer_request()

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        return np.array(self.request.infer({0: np.ascontiguousarray(inputs, dtype=np.float32)})[0], copy=True)


def _run_file(path: str | os.PathLike, inputs: np.ndarray) -> np.ndarray:
    return IrRunner(path)(inputs)


register_format("openvino", write_openvino, _run_file)
