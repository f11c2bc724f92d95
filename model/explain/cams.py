"""Class-activation maps at any stage of an EfficientNet: Grad-CAM, Grad-CAM++ and Score-CAM.

All three weigh the channels A_k of one layer and keep ReLU(Σ_k w_k·A_k); they
differ in the weights, and follow the ``grad-cam`` package (pytorch-grad-cam)
exactly, which the tests check:

* Grad-CAM (Selvaraju et al.): w_k = mean over space of ∂y_c/∂A_k.
* Grad-CAM++ (Chattopadhay et al., eq. 19): w_k = Σ_ij ReLU(g)·α with
  α = g² / (2g² + Σ_ij A_k · g³), zero where the gradient is.
* Score-CAM (Wang et al.): no gradients; each channel, upsampled and scaled to
  [0, 1], masks the input, and w = softmax over channels of the masked
  inputs' scores for the class. It costs one forward pass per channel (1280
  at B0's last stage), batched.

Only the stages after the chosen layer are differentiated, so a CAM at the last
stage costs little more than one forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

GRADIENT_CAMS = ("gradcam", "gradcam++")
SCORE_BATCH = 32  # masked inputs per forward pass of Score-CAM


@dataclass(frozen=True)
class LayerPass:
    """One forward pass split at ``layer``: its activations, their gradient for the targets, and the logits."""

    activations: torch.Tensor  # [N, C, h, w]
    gradients: torch.Tensor | None  # [N, C, h, w] ∂ logit[target] / ∂ activations; None without targets
    logits: torch.Tensor  # [N, K]
    targets: list[int]


def head(model: nn.Module, features: torch.Tensor) -> torch.Tensor:
    """Logits from the last feature map: pool, flatten, classify."""
    return model.classifier(torch.flatten(model.avgpool(features), 1))


def layer_pass(
    model: nn.Module, x: torch.Tensor, layer: int, targets: list[int] | None = None, *, gradients: bool = True
) -> LayerPass:
    """Run ``model`` on ``x`` keeping stage ``layer``'s output and (if asked) the targets' gradient there.

    The stages up to ``layer`` run without autograd. ``targets`` default to the
    predicted classes.
    """
    with torch.no_grad():
        a = model.features[: layer + 1](x)
    a = a.detach().requires_grad_(gradients)
    with torch.set_grad_enabled(gradients):
        logits = head(model, model.features[layer + 1 :](a))
    if targets is None:
        targets = logits.argmax(dim=1).tolist()
    if len(targets) != len(logits):
        raise ValueError(f"{len(targets)} target classes for a batch of {len(logits)}")
    grads = None
    if gradients:
        index = torch.as_tensor(targets, device=logits.device).view(-1, 1)
        (grads,) = torch.autograd.grad(logits.gather(1, index).sum(), a)
    return LayerPass(a.detach(), grads, logits.detach(), [int(t) for t in targets])


def gradient_cam(kind: str, activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Grad-CAM (``kind="gradcam"``) or Grad-CAM++ (``"gradcam++"``) from a layer's A and ∂y/∂A: [N, h, w]."""
    if kind == "gradcam":
        weights = gradients.mean(dim=(2, 3), keepdim=True)
    elif kind == "gradcam++":
        g2 = gradients * gradients
        g3 = g2 * gradients
        sum_a = activations.sum(dim=(2, 3), keepdim=True)
        alpha = g2 / (2 * g2 + sum_a * g3 + 1e-6)
        alpha = torch.where(gradients != 0, alpha, torch.zeros_like(alpha))
        weights = (torch.relu(gradients) * alpha).sum(dim=(2, 3), keepdim=True)
    else:
        raise ValueError(f"kind must be one of {GRADIENT_CAMS}, not {kind!r}")
    return torch.relu((weights * activations).sum(dim=1))


def score_cam(model: nn.Module, x: torch.Tensor, layer: int, target: int, *, activations: torch.Tensor | None = None,
              batch_size: int = SCORE_BATCH) -> torch.Tensor:
    """Score-CAM of one image ``x`` [1, 3, H, W] at stage ``layer`` for class ``target``: [h, w]."""
    if activations is None:
        activations = layer_pass(model, x, layer, [target], gradients=False).activations
    a = activations[:1].float()
    # pytorch-grad-cam upsamples with UpsamplingBilinear2d, i.e. align_corners=True.
    masks = F.interpolate(a, size=x.shape[-2:], mode="bilinear", align_corners=True)[0]  # [C, H, W]
    flat = masks.flatten(1)
    lo, hi = flat.min(dim=1).values[:, None, None], flat.max(dim=1).values[:, None, None]
    masks = (masks - lo) / (hi - lo + 1e-8)
    scores = []
    with torch.no_grad():
        for start in range(0, len(masks), batch_size):
            batch = x * masks[start : start + batch_size, None]
            scores.append(model(batch)[:, target].float())
    weights = torch.softmax(torch.cat(scores), dim=0)
    return torch.relu((weights[:, None, None] * a[0]).sum(dim=0))
