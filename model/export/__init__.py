"""Taking models out of the app: ONNX and TorchScript files with their metadata, written, read back and verified.

``table`` is the one list of formats (name, suffix, dialog filter, runtime, and the
module with the format's writer, metadata reader and runner), read by the CLI's
``--format`` and the app's export dialog; ``onnx`` and ``torchscript`` are those
modules; ``formats`` exports a model or bundle through the table and verifies the file.
"""
