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


def eval_uint8(image: Image.Image, prep: Preprocessing) -> torch.Tensor:
    """RGB PIL image → uint8 tensor [3, crop, crop]: resize the short side, centre-crop.

    Training caches these and normalises whole batches on the device, which gives
    exactly the numbers ``eval_tensor`` gives (the same float operations, in order).
    """
    img = TF.resize(image, [prep.resize_size], interpolation=interpolation_mode(prep.interpolation), antialias=True)
    img = TF.center_crop(img, [prep.crop_size])
    return TF.pil_to_tensor(img)


def eval_tensor(image: Image.Image, prep: Preprocessing) -> torch.Tensor:
    """RGB PIL image → normalised float tensor [3, crop, crop]: resize short side, centre-crop, normalise."""
    t = eval_uint8(image, prep).to(torch.float32).div_(255.0)
    return TF.normalize(t, list(prep.mean), list(prep.std))


def normalize_batch(x: torch.Tensor, prep: Preprocessing, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 batch [N, 3, H, W] (any device, any memory format) → normalised float batch."""
    mean = torch.tensor(prep.mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(prep.std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    return x.to(torch.float32).div_(255.0).sub_(mean).div_(std).to(dtype)


def denormalize(t: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """Undo the normalisation of ``eval_tensor``: back to [0, 1] RGB for display."""
    mean = torch.tensor(prep.mean, dtype=t.dtype).view(-1, 1, 1)
    std = torch.tensor(prep.std, dtype=t.dtype).view(-1, 1, 1)
    return (t * std + mean).clamp_(0, 1)
