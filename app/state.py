"""Plain records the app passes between its workers, its session and its pages.

They hold strings and numbers only (no torch, no Qt), so they cross threads
safely and the window can show them before the backend has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from model.core.variants import VARIANTS


@dataclass(frozen=True)
class VariantFacts:
    """What the Models page shows about one variant. The torchvision facts are None
    until the backend has loaded (they come from torchvision's weight metadata)."""

    name: str  # "b0" … "b7"
    resolution: int
    params: int | None = None
    gflops: float | None = None
    top1: float | None = None
    download_mb: float | None = None
    cached: bool | None = None  # ImageNet weights on disk

    @property
    def title(self) -> str:
        return VARIANTS[self.name].title


def initial_facts() -> tuple[VariantFacts, ...]:
    """The facts known without torch: names and native resolutions."""
    return tuple(VariantFacts(v.name, v.resolution) for v in VARIANTS.values())


@dataclass(frozen=True)
class BackendInfo:
    """What the background loader found: the device and the facts of every variant."""

    device: str  # "cpu", "cuda:0", "mps"
    device_name: str  # "CPU · 2 cores", "NVIDIA H100 · 80 GB"
    available_devices: tuple[str, ...]
    facts: tuple[VariantFacts, ...]
    note: str = ""  # e.g. why a remembered device could not be used


@dataclass(frozen=True)
class ModelChoice:
    """The classifier the user asked for: a variant with weights, or a fine-tuned bundle."""

    variant: str = "b0"
    weights: str = "imagenet"  # "imagenet", "random" or a weights file path
    bundle: str = ""  # a fine-tuned bundle path; when set it wins over variant/weights


@dataclass(frozen=True)
class ActiveModel:
    """The classifier actually in use, as the banner and the status bar describe it."""

    choice: ModelChoice
    variant: str
    source: str  # the backend's own words: "ImageNet weights", "random weights", "run <run folder>"
    class_count: int
    device: str
    device_name: str
    imagenet_missing: bool = False  # ImageNet weights were wanted but are not on disk: random meanwhile
    runtime: str = ""  # what classification runs on, e.g. "OpenVINO bf16", "ONNX Runtime f32"
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. why an earlier choice failed

    @property
    def title(self) -> str:
        return VARIANTS[self.variant].title

    @property
    def uses_random_weights(self) -> bool:
        return self.imagenet_missing or (not self.choice.bundle and self.choice.weights == "random")

    @property
    def is_fine_tuned(self) -> bool:
        return bool(self.choice.bundle)

    def summary(self) -> str:
        """One line for the status bar: "EfficientNet-B0 · ImageNet weights"."""
        return f"{self.title} · {self.source}"
