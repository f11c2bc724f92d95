"""Taking models out of the app: ONNX, TorchScript and OpenVINO IR files (INT8 too) with their metadata, written, read back and verified.

``table`` is the one list of formats (name, suffix, dialog filter, runtime, and the
module with the format's writer, metadata reader and runner), read by the CLI's
``--format`` and the app's export dialog; ``onnx``, ``torchscript`` and ``openvino_ir``
are those modules; ``formats`` exports a model or bundle through the table and verifies
the file; ``int8`` quantises an OpenVINO IR on the user's images and judges it by accuracy.
"""
