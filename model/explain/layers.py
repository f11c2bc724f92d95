"""Which feature layer a class-activation map (Grad-CAM, Grad-CAM++, Score-CAM) is taken at.

A CAM can only be as fine as the grid of its layer. EfficientNet's last stage
sees the image at 1/32 of its size: 7×7 at 224 px, but 2×2 at 64 px and 1×1
at 32 px, where a CAM can no longer say *where* anything is. So the default is
the deepest stage of ``model.features`` whose grid is at least 4×4, and the map
says which layer it used; the user may choose any other stage.

Grids are computed from the convolutions' own arithmetic, without running the
network, so a GUI can list the choices for any input size at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

MIN_GRID = 4  # a map coarser than 4×4 cannot localise; below it we move to an earlier stage


@dataclass(frozen=True)
class CamLayer:
    """One stage of ``model.features`` a CAM can be taken at, with its grid for a given input size."""

    index: int  # position in model.features (1 = first MBConv stage; the last is the 1×1 head conv)
    grid: tuple[int, int]
    channels: int

    @property
    def name(self) -> str:
        """The module's name, e.g. "features.5" (what pytorch-grad-cam's ``target_layers`` would hold)."""
        return f"features.{self.index}"

    @property
    def label(self) -> str:
        """Readable, e.g. "features.5 · 112 ch · 4×4"."""
        return f"{self.name} · {self.channels} ch · {self.grid[0]}×{self.grid[1]}"


def _out(size: int, conv: nn.Conv2d, axis: int) -> int:
    k, s, p, d = conv.kernel_size[axis], conv.stride[axis], conv.padding[axis], conv.dilation[axis]
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _stage_channels(stage: nn.Module) -> int:
    convs = [m for m in stage.modules() if isinstance(m, nn.Conv2d)]
    return int(convs[-1].out_channels)


def cam_layers(model: nn.Module, input_size: tuple[int, int]) -> list[CamLayer]:
    """Every stage of ``model.features`` after the stem, with its grid at ``input_size`` = (H, W)."""
    h, w = int(input_size[0]), int(input_size[1])
    layers = []
    for index, stage in enumerate(model.features):
        # The SE convolutions act on the pooled 1×1 map and leave the grid alone; every other
        # convolution of the stage is on the main path, in forward order.
        for conv in (m for m in stage.modules() if isinstance(m, nn.Conv2d)):
            if conv.kernel_size != (1, 1) or conv.stride != (1, 1):
                h, w = _out(h, conv, 0), _out(w, conv, 1)
        if index > 0:
            layers.append(CamLayer(index, (h, w), _stage_channels(stage)))
    return layers


def default_cam_layer(layers: list[CamLayer]) -> CamLayer:
    """The deepest layer whose grid is at least ``MIN_GRID``×``MIN_GRID`` (the finest one when none is)."""
    fine = [layer for layer in layers if min(layer.grid) >= MIN_GRID]
    if fine:
        return fine[-1]
    return max(layers, key=lambda layer: (min(layer.grid), -layer.index))


def choose_cam_layer(model: nn.Module, input_size: tuple[int, int], index: int | None = None) -> CamLayer:
    """The layer at ``index`` of ``model.features`` (``None``: the default rule) for ``input_size``."""
    layers = cam_layers(model, input_size)
    if index is None:
        return default_cam_layer(layers)
    index = index if index >= 0 else len(model.features) + index
    for layer in layers:
        if layer.index == index:
            return layer
    raise ValueError(f"no CAM layer features.{index}: choose one of {', '.join(l.name for l in layers)}")


def layer_note(layer: CamLayer, layers: list[CamLayer]) -> str:
    """One sentence on the layer used, saying so when the last stage was too coarse."""
    last = layers[-1]
    text = f"at {layer.label}"
    if layer.index != last.index and min(last.grid) < MIN_GRID and layer == default_cam_layer(layers):
        text += f" (the last stage is only {last.grid[0]}×{last.grid[1]} at this size)"
    return text
