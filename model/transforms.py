"""Eval preprocessing shared by classification, attention, evaluation and export.

``eval_tensor`` reproduces torchvision's ``ImageClassification`` preset (the
``weights.transforms()`` of the ImageNet weights) from a ``Preprocessing``
record, so a bundle made at another image size is preprocessed the same way.
"""

from __future__ import annotations

import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

from model.variants import Preprocessing


def interpolation_mode(name: str) -> InterpolationMode:
    return InterpolationMode(name)


def eval_tensor(image: Image.Image, prep: Preprocessing) -> torch.Tensor:
    """RGB PIL image → normalised float tensor [3, crop, crop]: resize short side, centre-crop, normalise."""
    img = TF.resize(image, [prep.resize_size], interpolation=interpolation_mode(prep.interpolation), antialias=True)
    img = TF.center_crop(img, [prep.crop_size])
    t = TF.pil_to_tensor(img).to(torch.float32).div_(255.0)
    return TF.normalize(t, list(prep.mean), list(prep.std))


def denormalize(t: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Undo the normalisation of ``eval_tensor``: back to [0, 1] RGB for display."""
    mean = torch.tensor(prep.mean, dtype=t.dtype).view(-1, 1, 1)
    std = torch.tensor(prep.std, dtype=t.dtype).view(-1, 1, 1)
    return (t * std + mean).clamp_(0, 1)
