"""EfficientNet Studio's backend: networks, weights, data, training, inference and attention.

This package never imports Qt. The GUI (``app``), the CLI (``python -m model``)
and the tests all drive the same API. Heavy modules are imported lazily so that
``import model`` stays cheap.
"""

from __future__ import annotations

from model.core.errors import (
    BundleError,
    DatasetError,
    DeviceError,
    ImageError,
    StudioError,
    WeightsError,
    WeightsOfflineError,
)
from model.core.variants import VARIANT_NAMES, VARIANTS, get_variant

__all__ = [
    "BundleError",
    "DatasetError",
    "DeviceError",
    "ImageError",
    "Predictor",
    "StudioError",
    "VARIANTS",
    "VARIANT_NAMES",
    "WeightsError",
    "WeightsOfflineError",
    "get_variant",
]


def __getattr__(name: str):
    # Predictor pulls in torch; load it only when someone asks for it.
    if name == "Predictor":
        from model.inference.predict import Predictor

        return Predictor
    raise AttributeError(f"module 'model' has no attribute {name!r}")
