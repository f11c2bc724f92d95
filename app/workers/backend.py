"""The session's loaders: the backend itself, a Predictor for a model choice, and the online check.

``ModelSession`` starts these; they import torch and the backend inside ``work()``,
in the worker thread, so the window is on screen first.
"""

from __future__ import annotations

import socket
from dataclasses import replace

from PySide6.QtCore import Signal

from app.state import ActiveModel, BackendInfo, ModelChoice, VariantFacts
from app.workers.base import Worker


class BackendLoader(Worker):
    """Imports torch and the backend, picks the device and reads every variant's facts."""

    loaded = Signal(object)  # BackendInfo

    def __init__(self, device: str = "auto") -> None:
        super().__init__("Loading the backend")
        self.device = device

    def work(self) -> None:
        from model.nets.device import available_devices, describe_device, resolve_device
        from model.core.errors import DeviceError
        from model.inference.predict import Predictor  # noqa: F401 (imported here so the first load is fast)
        from model.core.variants import VARIANTS
        from model.nets.weights import is_imagenet_cached

        note = ""
        try:
            device = resolve_device(self.device)
        except DeviceError as e:
            note = f"{e} Using the best available device instead."
            device = resolve_device("auto")
        facts = tuple(
            VariantFacts(
                name=v.name,
                resolution=v.resolution,
                params=v.params,
                gflops=v.gflops,
                top1=v.top1,
                download_mb=v.download_mb,
                cached=is_imagenet_cached(v.name),
            )
            for v in VARIANTS.values()
        )
        info = BackendInfo(str(device), describe_device(device), tuple(available_devices()), facts, note)
        self.loaded.emit(info)


class PredictorLoader(Worker):
    """Builds the Predictor for a choice; ImageNet weights that are not on disk mean random weights."""

    loaded = Signal(object, object)  # Predictor, ActiveModel

    def __init__(self, choice: ModelChoice, device: str, notes: tuple[str, ...] = ()) -> None:
        what = "fine-tuned model" if choice.bundle else f"EfficientNet-{choice.variant.upper()}"
        super().__init__(f"Loading {what}")
        self.choice = choice
        self.device = device
        self.notes = notes

    def work(self) -> None:
        from app.predictor_loading import load_predictor
        from model.nets.device import describe_device
        from model.nets.weights import is_imagenet_cached

        choice = self.choice
        missing = not choice.bundle and choice.weights == "imagenet" and not is_imagenet_cached(choice.variant)
        # Never download behind the user's back: random weights now, the banner offers the rest.
        wanted = replace(choice, weights="random") if missing else choice
        predictor = load_predictor(wanted, self.device, self._stop)
        if predictor is None:  # stopped while loading
            return
        classifier = predictor.classifier
        active = ActiveModel(
            choice=choice,
            variant=classifier.variant.name,
            source=classifier.source,
            class_count=len(predictor.class_names),
            device=str(predictor.device),
            device_name=describe_device(predictor.device),
            imagenet_missing=missing,
            notes=self.notes,
        )
        self.loaded.emit(predictor, active)


class OnlineProbe(Worker):
    """Checks whether the weights server can be reached, so the UI offers downloads only then."""

    probed = Signal(bool)

    def __init__(self, host: str = "download.pytorch.org", port: int = 443, timeout: float = 3.0) -> None:
        super().__init__("Checking the internet connection")
        self.address = (host, port)
        self.timeout = timeout

    def work(self) -> None:
        try:
            with socket.create_connection(self.address, timeout=self.timeout):
                online = True
        except OSError:
            online = False
        self.probed.emit(online)
