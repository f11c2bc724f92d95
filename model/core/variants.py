"""The EfficientNet B0-B7 family and its compound-scaling arithmetic.

One table, ``VARIANTS``, describes each variant: the scaling multipliers and
dropout that torchvision builds it with, the paper's native resolution, the
eval preprocessing of torchvision's ImageNet weights, and the parameter count,
GFLOPs, ImageNet accuracy and download size of those weights. The last two groups are
copied from torchvision's weight metadata so that this table needs no torch (the UI
shows it before torch is loaded); tests/model/test_variants.py checks the copy against
torchvision's own metadata, so a torchvision that changes them fails the suite.

Compound scaling (Tan & Le, 2019) grows depth by α^φ, width by β^φ and
resolution by γ^φ with α=1.2, β=1.1, γ=1.15. The released B1-B7 were tuned by
hand after that rule, so ``phi`` is *computed*: the least-squares φ that best
explains each variant's actual depth, width and resolution multipliers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

ALPHA = 1.2  # depth
BETA = 1.1  # width
GAMMA = 1.15  # resolution
BASE_RESOLUTION = 224

# name: (width_mult, depth_mult, paper resolution, dropout) as in the paper and in
# torchvision's efficientnet_bN builders.
_SCALING = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}


# name: (parameters with the 1000-class head, GFLOPs, ImageNet-1k top-1 %, top-5 %, download MB,
#        eval resize, eval crop, interpolation), from torchvision's EfficientNet_BN_Weights.DEFAULT.
_IMAGENET = {
    "b0": (5288548, 0.386, 77.692, 93.532, 20.451, 256, 224, "bicubic"),
    "b1": (7794184, 0.687, 79.838, 94.934, 30.136, 255, 240, "bilinear"),
    "b2": (9109994, 1.088, 80.608, 95.31, 35.174, 288, 288, "bicubic"),
    "b3": (12233232, 1.827, 82.008, 96.054, 47.184, 320, 300, "bicubic"),
    "b4": (19341616, 4.394, 83.384, 96.594, 74.489, 384, 380, "bicubic"),
    "b5": (30389784, 10.266, 83.444, 96.628, 116.864, 456, 456, "bicubic"),
    "b6": (43040704, 19.068, 84.008, 96.916, 165.362, 528, 528, "bicubic"),
    "b7": (66347960, 37.746, 84.122, 96.908, 254.675, 600, 600, "bicubic"),
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Variant:
    """One EfficientNet variant and the facts the app shows about it."""

    name: str  # "b0" … "b7"
    width_mult: float
    depth_mult: float
    resolution: int  # the paper's native input resolution
    dropout: float

    @property
    def title(self) -> str:
        return f"EfficientNet-{self.name.upper()}"

    @property
    def builder_name(self) -> str:
        """Name of the torchvision builder function, e.g. ``efficientnet_b0``."""
        return f"efficientnet_{self.name}"

    @property
    def _imagenet(self) -> tuple:
        return _IMAGENET[self.name]

    @property
    def params(self) -> int:
        """Parameter count with the 1000-class ImageNet head."""
        return int(self._imagenet[0])

    @property
    def gflops(self) -> float:
        return float(self._imagenet[1])

    @property
    def top1(self) -> float:
        """ImageNet-1k top-1 accuracy (%) of torchvision's weights."""
        return float(self._imagenet[2])

    @property
    def top5(self) -> float:
        return float(self._imagenet[3])

    @property
    def download_mb(self) -> float:
        """Size of torchvision's ImageNet weights file, in MB."""
        return float(self._imagenet[4])

    @cached_property
    def eval_preprocessing(self) -> "Preprocessing":
        """The resize/crop/normalise recipe of torchvision's ImageNet weights."""
        _, _, _, _, _, resize, crop, interpolation = self._imagenet
        return Preprocessing(resize, crop, interpolation, IMAGENET_MEAN, IMAGENET_STD)

    # --- compound scaling -------------------------------------------------
    @property
    def resolution_mult(self) -> float:
        return self.resolution / BASE_RESOLUTION

    @property
    def phi_depth(self) -> float:
        return math.log(self.depth_mult) / math.log(ALPHA)

    @property
    def phi_width(self) -> float:
        return math.log(self.width_mult) / math.log(BETA)

    @property
    def phi_resolution(self) -> float:
        return math.log(self.resolution_mult) / math.log(GAMMA)

    @property
    def phi(self) -> float:
        """Least-squares φ for log(d, w, r) ≈ φ·log(α, β, γ)."""
        logs = (math.log(ALPHA), math.log(BETA), math.log(GAMMA))
        mults = (self.depth_mult, self.width_mult, self.resolution_mult)
        num = sum(math.log(m) * l for m, l in zip(mults, logs))
        return num / sum(l * l for l in logs)

    @property
    def flops_scale_predicted(self) -> float:
        """FLOPs relative to B0 predicted by the rule: (α·β²·γ²)^φ ≈ 2^φ."""
        return (ALPHA * BETA**2 * GAMMA**2) ** self.phi


# Input sizes the app accepts anywhere (flags, bundles): above 2048 px one batch needs
# gigabytes (100000 px grew to 21 GB and was OOM-killed), below 16 the stem has nothing to see.
MIN_IMAGE_SIZE = 16
MAX_IMAGE_SIZE = 2048
# Interpolations every resize path (torchvision, Pillow, the vector kernel's fallback) knows.
INTERPOLATIONS = frozenset({"bilinear", "bicubic", "nearest", "nearest-exact"})


@dataclass(frozen=True)
class Preprocessing:
    """Eval preprocessing: resize the short side, centre-crop, normalise."""

    resize_size: int
    crop_size: int
    interpolation: str  # "bicubic" or "bilinear"
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def to_dict(self) -> dict:
        return {
            "resize_size": self.resize_size,
            "crop_size": self.crop_size,
            "interpolation": self.interpolation,
            "mean": list(self.mean),
            "std": list(self.std),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocessing":
        return cls(
            resize_size=int(d["resize_size"]),
            crop_size=int(d["crop_size"]),
            interpolation=str(d["interpolation"]),
            mean=tuple(float(x) for x in d["mean"]),
            std=tuple(float(x) for x in d["std"]),
        )

    def problem(self) -> str | None:
        """What makes this recipe unusable (a file can say anything), or None when it is sound."""
        if not MIN_IMAGE_SIZE <= self.crop_size <= MAX_IMAGE_SIZE:
            return f"crop size {self.crop_size} is outside {MIN_IMAGE_SIZE}-{MAX_IMAGE_SIZE} pixels"
        if not self.crop_size <= self.resize_size <= 4 * self.crop_size:
            return f"resize size {self.resize_size} is not between the crop size {self.crop_size} and 4 times it"
        if self.interpolation not in INTERPOLATIONS:
            return f"interpolation {self.interpolation!r} is not one of {', '.join(sorted(INTERPOLATIONS))}"
        if len(self.mean) != 3 or len(self.std) != 3:
            return "mean and std need 3 values each (red, green, blue)"
        if not all(math.isfinite(m) and abs(m) <= 10 for m in self.mean):
            return f"mean {list(self.mean)} is not finite and small"
        if not all(math.isfinite(s) and 1e-3 <= s <= 10 for s in self.std):
            return f"std {list(self.std)} must be finite and between 0.001 and 10 (0 divides by zero)"
        return None

    def at_size(self, crop_size: int) -> "Preprocessing":
        """The same recipe scaled to another crop size (keeps the resize/crop ratio)."""
        ratio = self.resize_size / self.crop_size
        return Preprocessing(round(crop_size * ratio), crop_size, self.interpolation, self.mean, self.std)


VARIANTS: dict[str, Variant] = {
    name: Variant(name, w, d, r, p) for name, (w, d, r, p) in _SCALING.items()
}
VARIANT_NAMES: tuple[str, ...] = tuple(VARIANTS)


def get_variant(name: str) -> Variant:
    """Look up a variant by "b0", "B3" or "efficientnet_b7"; a clear error otherwise."""
    key = str(name).strip().lower().removeprefix("efficientnet_").removeprefix("efficientnet-")
    if key not in VARIANTS:
        from model.core.errors import StudioError

        raise StudioError(f"Unknown variant {name!r}: choose one of {', '.join(VARIANT_NAMES)}.")
    return VARIANTS[key]
