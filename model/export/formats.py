"""Taking models out of the app: ONNX and TorchScript files that run without it.

An exported file carries what someone else needs to use it: the class names,
the input size, the mean/std and resize recipe, and the variant. Every export
is verified straight away by running the file (ONNX Runtime, or TorchScript)
against the torch model on a few inputs and reporting the largest difference.
Files are written to a temporary name and renamed, so a failed export never
leaves a half-written file where the user asked for one.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model.core.atomic import temp_file_next_to
from model.core.errors import StudioError
from model.core.faults import WriteError, is_write_failure
from model.core.json_text import json_text
from model.core.variants import Preprocessing

EXPORT_FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAME = "logits"
TORCHSCRIPT_METADATA = "metadata.json"


class ExportError(StudioError):
    """The model could not be exported or the exported file does not match the model."""


@dataclass(frozen=True)
class ExportReport:
    """What was written and how closely it matches the torch model."""

    path: Path
    format: str
    max_abs_diff: float  # largest |probability difference| over the check inputs
    metadata: dict[str, str] = field(default_factory=dict)


class Calibrated(nn.Module):
    """``model``'s logits divided by the bundle's temperature: the exported file's softmax is calibrated."""

    def __init__(self, model: nn.Module, temperature: float) -> None:
        super().__init__()
        self.model = model
        self.temperature = float(temperature)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) / self.temperature


def export_metadata(variant: str, class_names: list[str], prep: Preprocessing, temperature: float = 1.0) -> dict[str, str]:
    """String key/values stored in the exported file (ONNX metadata_props allow strings only)."""
    return {
        # The outputs are already divided by it; it is here so readers know the file is calibrated.
        "temperature": repr(float(temperature)),
        "output": "logits divided by temperature: softmax gives calibrated probabilities",
        "producer": "EfficientNet Studio",
        "variant": variant,
        "class_names": json_text(list(class_names)),  # valid UTF-8 even for undecodable folder names
        "input_size": str(prep.crop_size),
        "resize_size": str(prep.resize_size),
        "interpolation": prep.interpolation,
        "mean": json.dumps(list(prep.mean)),
        "std": json.dumps(list(prep.std)),
        "input_layout": "NCHW float32 RGB, normalised with mean/std",
    }


def _temp_next_to(path: Path) -> Path:
    fd, tmp = temp_file_next_to(path)  # umask permissions, like any file the user saves
    os.close(fd)
    return tmp


def write_onnx(model: nn.Module, path: str | os.PathLike, image_size: int, metadata: dict[str, str]) -> Path:
    """Export ``model`` to ONNX with a dynamic batch axis and ``metadata`` in metadata_props."""
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    dummy = torch.zeros(1, 3, image_size, image_size)
    tmp = _temp_next_to(path)
    try:
        # no_grad: tracing with autograd on keeps every activation for a backward
        # pass that never comes (B7 at 600 px: 5.6 GB peak and 10 s, against 2.0 GB and 4 s).
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript-based exporter is chatty
            # dynamo=False: the TorchScript-based exporter needs no onnxscript and
            # handles EfficientNet in well under a second.
            torch.onnx.export(
                model, (dummy,), str(tmp), dynamo=False, opset_version=ONNX_OPSET,
                input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            )
        proto = onnx.load(str(tmp))
        del proto.metadata_props[:]
        for key, value in metadata.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, str(value)
        onnx.save(proto, str(tmp))
        os.replace(tmp, path)
    except Exception as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, StudioError):
            raise
        if is_write_failure(e):
            raise WriteError(path, e) from None
        raise ExportError(f"ONNX export failed: {e}") from e
    return path


def read_onnx_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The metadata_props of an ONNX file as a dict."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}


def write_torchscript(model: nn.Module, path: str | os.PathLike, image_size: int, metadata: dict[str, str]) -> Path:
    """Trace ``model`` to TorchScript; the metadata travels as an extra file in the archive."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    tmp = _temp_next_to(path)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(model, torch.zeros(1, 3, image_size, image_size))
            torch.jit.save(traced, str(tmp), _extra_files={TORCHSCRIPT_METADATA: json.dumps(metadata)})
        os.replace(tmp, path)
    except Exception as e:
        tmp.unlink(missing_ok=True)
        if is_write_failure(e):
            raise WriteError(path, e) from None
        raise ExportError(f"TorchScript export failed: {e}") from e
    return path


def read_torchscript_metadata(path: str | os.PathLike) -> dict[str, str]:
    extra = {TORCHSCRIPT_METADATA: ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated but still the format users ask for
        torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    return json.loads(extra[TORCHSCRIPT_METADATA] or "{}")


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_inputs(image_size: int, count: int = 3, seed: int = 0) -> torch.Tensor:
    """A few normalised-image-like inputs (batch > 1, so the dynamic axis is exercised)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(count, 3, image_size, image_size, generator=g)


def exported_logits(path: str | os.PathLike, fmt: str, inputs: torch.Tensor) -> np.ndarray:
    """Run an exported file on ``inputs`` with its own runtime."""
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run([OUTPUT_NAME], {INPUT_NAME: inputs.numpy()})[0]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return torch.jit.load(str(path), map_location="cpu")(inputs).numpy()


def verify_export(path: str | os.PathLike, fmt: str, model: nn.Module, image_size: int) -> float:
    """Largest absolute difference of softmax probabilities between the file and ``model``."""
    inputs = check_inputs(image_size)
    with torch.no_grad():
        reference = model.eval().cpu()(inputs).numpy()
    got = exported_logits(path, fmt, inputs)
    if got.shape != reference.shape:
        raise ExportError(f"The exported model gives outputs of shape {got.shape}, expected {reference.shape}.")
    return float(np.abs(_softmax(got) - _softmax(reference)).max())


def export_model(
    model: nn.Module,
    fmt: str,
    out: str | os.PathLike,
    *,
    variant: str,
    class_names: list[str],
    preprocessing: Preprocessing,
    tolerance: float = 1e-3,
    temperature: float = 1.0,
) -> ExportReport:
    """Export ``model`` as ``fmt`` to ``out`` and verify it; a mismatch above ``tolerance`` is an error."""
    fmt = fmt.lower()
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}.")
    meta = export_metadata(variant, class_names, preprocessing, temperature)
    if temperature != 1.0:
        model = Calibrated(model, temperature).eval()
    writer = write_onnx if fmt == "onnx" else write_torchscript
    path = writer(model, out, preprocessing.crop_size, meta)
    diff = verify_export(path, fmt, model, preprocessing.crop_size)
    if not diff <= tolerance:
        raise ExportError(
            f"The exported {fmt} file disagrees with the model (max probability difference {diff:.2e}); "
            f"it was written to {path} but should not be trusted."
        )
    return ExportReport(path=Path(path), format=fmt, max_abs_diff=diff, metadata=meta)


def export_bundle(bundle_path: str | os.PathLike, fmt: str, out: str | os.PathLike) -> ExportReport:
    """Export a fine-tuned bundle (``model.pt``) to ONNX or TorchScript."""
    from model.nets.bundle import load_bundle

    bundle = load_bundle(bundle_path)  # validates, including bundles from older versions
    return export_model(
        bundle.build_model(), fmt, out,
        variant=bundle.variant, class_names=bundle.class_names, preprocessing=bundle.preprocessing,
        temperature=bundle.temperature,
    )
