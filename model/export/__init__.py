"""Taking models out of the app: ONNX, TorchScript and OpenVINO IR files (INT8 too) with their metadata, written, read back and verified."""

from model.export import openvino_ir  # noqa: F401 (registers the "openvino" format with formats)
