"""Taking models out of the app: ONNX and TorchScript files with their metadata, written, read back and verified."""
