"""Test-time augmentation for evaluation: average the probabilities of a few views of each image.

The views are the image itself, its mirror (only when the model was trained
with flips: a mirrored digit is not the same digit) and a slight zoom (the
centre 90 %, scaled back up). TTA costs two or three forward passes per image,
so it is an option of ``evaluate`` (``--tta``), reported beside the plain
figures, never the default.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

ZOOM = 0.9


def tta_views(x: torch.Tensor, flip: bool) -> list[torch.Tensor]:
    """The views of a normalised float batch [N, 3, S, S]."""
    views = [x]
    if flip:
        views.append(torch.flip(x, dims=[-1]))
    s = x.shape[-1]
    c = max(1, round(s * ZOOM))
    o = (s - c) // 2
    zoomed = F.interpolate(x[..., o : o + c, o : o + c], size=x.shape[-2:], mode="bilinear", align_corners=False, antialias=False)
    views.append(zoomed)
    return views


@torch.no_grad()
def tta_logits(stepper, x_uint8: torch.Tensor, flip: bool, temperature: float = 1.0) -> torch.Tensor:
    """Log of the mean calibrated softmax over the views: logits whose softmax is the TTA
    probabilities (float32, CPU), already divided by ``temperature``."""
    views = tta_views(stepper.to_device(x_uint8), flip)
    probs = 0.0
    for view in views:
        with stepper._autocast():
            probs = probs + (stepper.module(view).float() / temperature).softmax(1)
    return (probs / len(views)).clamp_min(1e-12).log().cpu()


__all__ = ["tta_logits", "tta_views"]
