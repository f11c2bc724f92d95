"""Taking models out of the app: ONNX and TorchScript files that run without it.

An exported file carries what someone else needs to use it: the class names,
the input size, the mean/std and resize recipe, and the variant. Every export
is verified straight away by running the file with its own runtime (ONNX
Runtime, or TorchScript) against the torch model on a few inputs and reporting
the largest difference. Files are written to a temporary name and renamed, so a
failed export never leaves a half-written file where the user asked for one.
The formats themselves are the records of ``model.export.table``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model.core.json_text import json_text
from model.core.variants import Preprocessing
from model.export.table import ExportError, get_format


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


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_inputs(image_size: int, count: int = 3, seed: int = 0) -> torch.Tensor:
    """A few normalised-image-like inputs (batch > 1, so the dynamic axis is exercised)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(count, 3, image_size, image_size, generator=g)


def verify_export(path: str | os.PathLike, fmt: str, model: nn.Module, image_size: int) -> float:
    """Largest absolute difference of softmax probabilities between the file and ``model``."""
    inputs = check_inputs(image_size)
    with torch.no_grad():
        reference = model.eval().cpu()(inputs).numpy()
    got = get_format(fmt).logits(path, inputs)
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
    kind = get_format(fmt)
    meta = export_metadata(variant, class_names, preprocessing, temperature)
    if temperature != 1.0:
        model = Calibrated(model, temperature).eval()
    path = kind.write(model, out, preprocessing.crop_size, meta)
    diff = verify_export(path, kind.name, model, preprocessing.crop_size)
    if not diff <= tolerance:
        raise ExportError(
            f"The exported {kind.name} file disagrees with the model (max probability difference {diff:.2e}); "
            f"it was written to {path} but should not be trusted."
        )
    return ExportReport(path=Path(path), format=kind.name, max_abs_diff=diff, metadata=meta)


def export_bundle(bundle_path: str | os.PathLike, fmt: str, out: str | os.PathLike) -> ExportReport:
    """Export a fine-tuned bundle (``model.pt``) through the table of formats, calibrated by its temperature."""
    from model.nets.bundle import load_bundle

    bundle = load_bundle(bundle_path)  # validates, including bundles from older versions
    return export_model(
        bundle.build_model(), fmt, out,
        variant=bundle.variant, class_names=bundle.class_names, preprocessing=bundle.preprocessing,
        temperature=bundle.temperature,
    )


__all__ = ["ExportError", "ExportReport", "check_inputs", "export_bundle", "export_metadata", "export_model", "verify_export"]
