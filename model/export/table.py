"""The export formats as one table: each format's name, file suffix, dialog filter and code, in one record.

To add a format, write a module with ``write(model, path, image_size, metadata)``,
``read_metadata(path)`` and ``logits(path, inputs)`` (see ``model.export.onnx``) and
add its record here: the CLI's ``--format`` choices, the app's save dialog and
``export_model`` all read this table. It imports no torch, so the UI can build
its dialog from it; a format's module is imported only when it is used.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType

from model.core.errors import StudioError


class ExportError(StudioError):
    """The model could not be exported or the exported file does not match the model."""


@dataclass(frozen=True)
class ExportFormat:
    """One export format and where its writer, metadata reader and runner live."""

    name: str  # what the CLI's --format takes and reports say: "onnx"
    title: str  # for people: "ONNX"
    suffix: str  # added to a file name without a known one: ".onnx"
    dialog_filter: str  # the save dialog's filter: "ONNX model (*.onnx)"
    runtime: str  # what runs the file when it is verified: "ONNX Runtime"
    module: str  # defines write(), read_metadata() and logits()
    also_suffixes: tuple[str, ...] = ()  # other names a user may give such a file

    def code(self) -> ModuleType:
        return importlib.import_module(self.module)

    def write(self, model, path: str | os.PathLike, image_size: int, metadata: dict[str, str]):
        """Write ``model`` to ``path`` (atomically) with ``metadata`` inside; returns the path."""
        return self.code().write(model, path, image_size, metadata)

    def read_metadata(self, path: str | os.PathLike) -> dict[str, str]:
        return self.code().read_metadata(path)

    def logits(self, path: str | os.PathLike, inputs):
        """Run the file on ``inputs`` (a torch tensor) with the format's own runtime: a numpy array."""
        return self.code().logits(path, inputs)

    def matches(self, path: str | os.PathLike) -> bool:
        """Whether the file name says it is of this format."""
        return str(path).lower().endswith((self.suffix, *self.also_suffixes))


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("onnx", "ONNX", ".onnx", "ONNX model (*.onnx)", "ONNX Runtime", "model.export.onnx"),
    ExportFormat(
        "torchscript", "TorchScript", ".torchscript.pt", "TorchScript model (*.torchscript.pt)", "TorchScript",
        "model.export.torchscript", also_suffixes=(".pt", ".pth", ".ts", ".torchscript"),
    ),
    # fp32 IR here; INT8 (quantised on the user's images, judged by accuracy) is model.export.int8.
    ExportFormat("openvino", "OpenVINO IR", ".xml", "OpenVINO IR (*.xml)", "OpenVINO", "model.export.openvino_ir"),
)
EXPORT_FORMATS = tuple(f.name for f in FORMATS)


def get_format(name: str) -> ExportFormat:
    """The format called ``name`` (any case); an ``ExportError`` naming the choices otherwise."""
    for fmt in FORMATS:
        if fmt.name == name.lower():
            return fmt
    raise ExportError(f"Unknown export format {name!r}: use one of {', '.join(EXPORT_FORMATS)}.")


def format_for_file(path: str, chosen_filter: str = "") -> tuple[ExportFormat, str]:
    """(format, path with a fitting suffix) for a save dialog's answer: from the file name's suffix,
    else from the filter the user picked (else the first format), whose suffix is then added."""
    for fmt in FORMATS:
        if fmt.matches(path):
            return fmt, path
    fmt = next((f for f in FORMATS if f.dialog_filter == chosen_filter), FORMATS[0])
    return fmt, path + fmt.suffix


__all__ = ["EXPORT_FORMATS", "ExportError", "ExportFormat", "FORMATS", "format_for_file", "get_format"]
