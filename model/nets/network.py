"""Building torchvision EfficientNets and changing what they train.

``build_model`` makes any variant with any number of classes (random weights;
``model.nets.weights`` fills them in). The helpers swap the classifier head and
freeze or unfreeze the backbone for fine-tuning.
"""

from __future__ import annotations

import torch
from torch import nn

from model.core.variants import Variant, get_variant


def build_model(variant: str | Variant, num_classes: int = 1000, dropout: float | None = None) -> nn.Module:
    """A randomly initialised torchvision EfficientNet for ``variant``."""
    import torchvision.models as tvm

    v = variant if isinstance(variant, Variant) else get_variant(variant)
    builder = getattr(tvm, v.builder_name)
    return builder(weights=None, num_classes=num_classes, dropout=v.dropout if dropout is None else dropout)


def classifier_linear(model: nn.Module) -> nn.Linear:
    """The final Linear layer of torchvision's EfficientNet head."""
    return model.classifier[-1]


def num_classes_of(model: nn.Module) -> int:
    return classifier_linear(model).out_features


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Put a fresh Linear(num_features → num_classes) head on ``model`` (in place)."""
    old = classifier_linear(model)
    new = nn.Linear(old.in_features, num_classes)
    # torchvision initialises EfficientNet heads with this uniform range; keep it.
    init_range = 1.0 / (num_classes**0.5)
    nn.init.uniform_(new.weight, -init_range, init_range)
    nn.init.zeros_(new.bias)
    model.classifier[-1] = new.to(old.weight.device, old.weight.dtype)
    return model


def set_head_dropout(model: nn.Module, p: float) -> None:
    """Set the dropout rate in front of the classifier (used while training only)."""
    for m in model.classifier.modules():
        if isinstance(m, nn.Dropout):
            m.p = float(p)


def set_backbone_trainable(model: nn.Module, trainable: bool) -> None:
    """Freeze (False) or unfreeze (True) everything except the classifier head."""
    for p in model.features.parameters():
        p.requires_grad_(trainable)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def feature_dim(model: nn.Module) -> int:
    """Width of the pooled feature vector the head sees (1280 for B0)."""
    return classifier_linear(model).in_features


def build_empty_model(variant: str | Variant, num_classes: int = 1000) -> nn.Module:
    """The network's structure without storage (on the meta device).

    Cheap (no random init, no memory): used to read a variant's state-dict
    signature, and as a shell for ``load_state_dict(weights, assign=True)`` so
    loading known weights does not pay for random initialisation first.
    """
    with torch.device("meta"):
        return build_model(variant, num_classes=num_classes)
