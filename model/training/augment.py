"""Training augmentation presets, and mixup/cutmix on whole batches.

A preset turns an RGB PIL image into the uint8 tensor [3, S, S] one training
step sees. Normalisation happens later, on whole batches on the device
(``model.imaging.transforms.normalize_batch``), so presets stay uint8.

- ``none``: resize and centre crop, nothing random.
- ``light``: a mild random crop (scale 0.6–1) and the flip.
- ``standard``: the crops and colour jitter training always had (scale 0.35–1).
- ``strong``: standard plus TrivialAugment, and mixup or cutmix on a few batches
  (``BatchMixer``), for larger data sets and longer runs.

``flip`` decides the random horizontal flip in every preset but ``none``: off for
anything with a handedness (digits, text, road signs), where a mirrored image is a
different thing, or no thing at all.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # torch is imported where it is used, so the CLI's parser can read the presets cheaply
    import torch

PRESETS = ("none", "light", "standard", "strong")
DEFAULT_PRESET = "light"
MIX_PROBABILITY = 0.2  # strong preset: share of batches mixed (half mixup, half cutmix)

PRESET_HELP = {
    "none": "no augmentation: every epoch sees the same centred crop",
    "light": "mild random crops (60–100 % of the image)",
    "standard": "random crops (35–100 %) and colour jitter",
    "strong": "standard plus TrivialAugment, and mixup/cutmix on a fifth of the batches",
}


def preset_name(augment: "str | bool") -> str:
    """A preset from a config value: bundles from before the presets stored True (standard) or False (none)."""
    if isinstance(augment, bool):
        return "standard" if augment else "none"
    return check_preset(str(augment))


def check_preset(preset: str) -> str:
    from model.core.errors import StudioError

    if preset not in PRESETS:
        raise StudioError(f"Unknown augmentation {preset!r}: use one of {', '.join(PRESETS)}.")
    return preset


def train_transform(image_size: int, preset: str = DEFAULT_PRESET, flip: bool = True) -> Callable:
    """RGB PIL image → uint8 tensor [3, S, S] with ``preset``'s augmentation."""
    import torchvision.transforms.v2 as T

    check_preset(preset)
    if preset == "none":
        return T.Compose([T.Resize(image_size, antialias=True), T.CenterCrop(image_size), T.PILToTensor()])
    # Milder minimum scales than ImageNet's 0.08: small user data sets lose the object otherwise.
    scale = (0.6, 1.0) if preset == "light" else (0.35, 1.0)
    steps: list = [T.RandomResizedCrop(image_size, scale=scale, antialias=True)]
    if flip:
        steps.append(T.RandomHorizontalFlip())
    if preset in ("standard", "strong"):
        steps.append(T.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2))
    if preset == "strong":
        steps.append(T.TrivialAugmentWide())
    steps.append(T.PILToTensor())
    return T.Compose(steps)


class BatchMixer:
    """Mixup or cutmix on a share of the batches (the strong preset), on normalised float batches.

    Returns (images, targets): targets are class probabilities [N, C] for a mixed
    batch and the plain labels otherwise; ``F.cross_entropy`` takes either.
    """

    def __init__(self, num_classes: int, probability: float = MIX_PROBABILITY, alpha: float = 0.4, seed: int = 0) -> None:
        self.num_classes = num_classes
        self.probability = probability
        self.alpha = alpha
        import torch

        self.generator = torch.Generator().manual_seed(seed)

    def _uniform(self) -> float:
        import torch

        return float(torch.rand((), generator=self.generator))

    def __call__(self, x: "torch.Tensor", y: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        import torch

        if x.shape[0] < 2 or self._uniform() >= self.probability:
            return x, y
        lam = float(torch.distributions.Beta(self.alpha, self.alpha).sample())
        perm = torch.randperm(x.shape[0], generator=self.generator).to(x.device)
        if self._uniform() < 0.5:  # mixup: a weighted sum of two images
            x = lam * x + (1 - lam) * x[perm]
        else:  # cutmix: a box of the other image pasted in
            h, w = x.shape[-2:]
            cut = math.sqrt(1 - lam)
            bh, bw = int(h * cut), int(w * cut)
            cy, cx = int(self._uniform() * h), int(self._uniform() * w)
            y0, y1 = max(cy - bh // 2, 0), min(cy + bh // 2, h)
            x0, x1 = max(cx - bw // 2, 0), min(cx + bw // 2, w)
            x = x.clone()
            x[..., y0:y1, x0:x1] = x[perm][..., y0:y1, x0:x1]
            lam = 1 - (y1 - y0) * (x1 - x0) / (h * w)
        one_hot = torch.nn.functional.one_hot(y, self.num_classes).float()
        return x, lam * one_hot + (1 - lam) * one_hot[perm]


def augmented_samples(images: list, image_size: int, preset: str, flip: bool, count: int = 8, seed: int = 0) -> list:
    """``count`` augmented samples of the user's PIL images (cycling through them) as HxWx3 uint8
    arrays: what the Train page's strip shows."""
    import torch

    tf = train_transform(image_size, preset, flip)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random stream alone
        torch.manual_seed(seed)
        return [tf(images[i % len(images)].convert("RGB")).permute(1, 2, 0).numpy().copy() for i in range(count)]


__all__ = ["PRESETS", "DEFAULT_PRESET", "PRESET_HELP", "BatchMixer", "augmented_samples", "check_preset", "train_transform"]
