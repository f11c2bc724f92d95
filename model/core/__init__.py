"""Torch-free records and rules shared by every layer.

Errors, events, the B0-B7 table and its preprocessing, atomic writes, the ordered
thread pool, the training config (``TrainConfig``) and its control (``TrainControl``).
The UI may import this package freely; it never imports torch (an import-linter
contract in pyproject.toml checks it).
"""
