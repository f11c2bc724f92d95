"""Fine-tuned model bundles: one ``.pt`` file with everything needed to use a model.

A bundle holds the state dict, variant, class names, image size and eval
preprocessing, the training config and metrics history, and the torch and
torchvision versions it was made with. It is written atomically (temporary file,
fsync, rename) so a crash mid-save never leaves a broken file, and it is read
with ``torch.load(weights_only=True)`` so a hostile file cannot run code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from model.core.atomic import atomic_write
from model.nets.archive_check import check_archive, max_archive_bytes
from model.core.errors import BundleError
from model.core.variants import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, Preprocessing, get_variant

BUNDLE_FORMAT = "efficientnet-studio-bundle"
BUNDLE_VERSION = 1


@dataclass
class Bundle:
    """A fine-tuned classifier and the facts needed to use, resume or explain it."""

    state_dict: dict[str, torch.Tensor]
    variant: str
    class_names: list[str]
    image_size: int
    preprocessing: Preprocessing
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    # Calibration (``model.training.calibration``): probabilities are softmax(logits / temperature).
    # Bundles from before calibration have none and load with 1.
    temperature: float = 1.0

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def build_model(self) -> torch.nn.Module:
        """A network of the bundle's variant with the bundle's weights loaded."""
        from model.nets.network import build_model

        net = build_model(self.variant, num_classes=self.num_classes)
        try:
            net.load_state_dict(self.state_dict)
        except RuntimeError as e:
            raise BundleError(f"The bundle's weights do not fit an EfficientNet-{self.variant.upper()}: {_first_line(e)}") from None
        return net.eval()


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def current_versions() -> dict[str, str]:
    import torchvision

    return {"torch": str(torch.__version__), "torchvision": str(torchvision.__version__)}


def bundle_to_dict(bundle: Bundle) -> dict[str, Any]:
    """Plain containers and tensors only, so ``weights_only=True`` can read it back."""
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_VERSION,
        "state_dict": {k: v.detach().cpu() for k, v in bundle.state_dict.items()},
        "variant": bundle.variant,
        "class_names": list(bundle.class_names),
        "image_size": int(bundle.image_size),
        "preprocessing": bundle.preprocessing.to_dict(),
        "config": bundle.config,
        "history": bundle.history,
        "versions": bundle.versions or current_versions(),
        "temperature": float(bundle.temperature),
    }


def is_bundle_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("format") == BUNDLE_FORMAT


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to ``path`` atomically (see ``model.core.atomic``)."""
    return atomic_write(path, lambda f: torch.save(obj, f))


def save_bundle(bundle: Bundle, path: str | os.PathLike) -> Path:
    """Write ``bundle`` to ``path`` atomically."""
    return atomic_torch_save(bundle_to_dict(bundle), path)


def read_torch_file(path: str | os.PathLike, what: str = "file", variant: str | None = None) -> Any:
    """``torch.load(weights_only=True)`` with every failure as one clear ``BundleError``.

    A pickle that would run code is refused by the restricted unpickler before
    anything runs; we say so instead of showing pickle's internals. A zip bomb
    is refused before torch allocates anything (``model.nets.archive_check``),
    with the bound of ``variant`` when the caller knows it.
    """
    p = Path(path)
    if not p.is_file():
        raise BundleError(f"{p}: no such {what}.")
    check_archive(p, max_archive_bytes(variant))
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # UnpicklingError, RuntimeError (zip), EOFError, …
        text = str(e)
        if "unsupported global" in text.lower():
            raise BundleError(
                f"{p}: refused to load, the file contains code or objects that are not plain weights "
                "(only tensors and simple values are accepted, for your safety)."
            ) from None
        raise BundleError(f"{p}: not a readable PyTorch {what} (damaged or a different format).") from None


def bundle_from_dict(obj: Any, source: str = "bundle") -> Bundle:
    """Validate a loaded dict and turn it into a ``Bundle``; any problem is a ``BundleError``."""
    if not is_bundle_dict(obj):
        raise BundleError(f"{source}: not an EfficientNet Studio model bundle.")
    if int(obj.get("format_version", 0)) > BUNDLE_VERSION:
        raise BundleError(f"{source}: made by a newer EfficientNet Studio (bundle format {obj.get('format_version')}); update the app.")
    try:
        variant = get_variant(obj["variant"]).name
        class_names = [str(c) for c in obj["class_names"]]
        state = obj["state_dict"]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise ValueError("state_dict is not a dict of tensors")
        if len(class_names) < 1:
            raise ValueError("no class names")
        image_size, preprocessing = int(obj["image_size"]), Preprocessing.from_dict(obj["preprocessing"])
        temperature = float(obj.get("temperature", 1.0))  # bundles from before calibration have none
        if not 0 < temperature < float("inf"):
            raise ValueError(f"temperature {temperature} is not a positive number")
    except Exception as e:
        raise BundleError(f"{source}: the bundle is incomplete or damaged ({_first_line(e)}).") from None
    # A hostile or damaged recipe used to divide by zero, print "nan%" or allocate gigabytes.
    problem = preprocessing.problem()
    if problem is None and not MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE:
        problem = f"image size {image_size} is outside {MIN_IMAGE_SIZE}-{MAX_IMAGE_SIZE} pixels"
    if problem is not None:
        raise BundleError(f"{source}: refused to load, the bundle's preprocessing is invalid ({problem}); retrain or re-save it.")
    try:
        return Bundle(
            state_dict=state,
            variant=variant,
            class_names=class_names,
            image_size=image_size,
            preprocessing=preprocessing,
            config=dict(obj.get("config") or {}),
            history=list(obj.get("history") or []),
            versions=dict(obj.get("versions") or {}),
            temperature=temperature,
        )
    except BundleError:
        raise
    except Exception as e:
        raise BundleError(f"{source}: the bundle is incomplete or damaged ({_first_line(e)}).") from None


def load_bundle(path: str | os.PathLike) -> Bundle:
    """Read and validate a bundle file written by ``save_bundle``."""
    return bundle_from_dict(read_torch_file(path, "model bundle"), str(path))
