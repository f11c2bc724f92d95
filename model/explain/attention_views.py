"""The drawable views of an ``AttentionResult``: spatial maps and the gate map.

These are plain data (numpy arrays plus the facts a legend or a hover tooltip
needs); ``model.explain.render`` turns them into pixels. They live apart from
``model.explain.attention`` so the recording code and the display conventions can be
read separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from model.explain.layers import CamLayer
from model.explain.se_recorder import BlockInfo

GATE_ORDERS = ("sorted", "channel")


def upsample(raw: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear upsampling of a [h, w] map to ``size`` = (H, W), pixel centres aligned
    (``align_corners=False``, the convention of OpenCV's ``resize`` used by ``grad-cam``)."""
    return F.interpolate(raw.detach()[None, None].float().cpu(), size=size, mode="bilinear", align_corners=False)[0, 0]


def normalise(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Min-max scale to [0, 1]; returns (scaled, min, max). A constant map becomes all zeros."""
    lo, hi = float(values.min()), float(values.max())
    if not hi > lo:
        return np.zeros_like(values, dtype=np.float32), lo, hi
    return ((values - lo) / (hi - lo)).astype(np.float32), lo, hi


@dataclass(frozen=True)
class SpatialMap:
    """A spatial map of one block (or Grad-CAM), ready to draw over the input crop.

    ``raw`` is the map at the block's own grid, after ReLU and before any
    scaling. ``image`` is ``raw`` bilinearly upsampled to the model input size
    and min-max normalised to [0, 1] per map (each block has its own scale,
    because channel counts and activation magnitudes differ along depth);
    ``vmin``/``vmax`` are the values of the upsampled map that 0 and 1 of
    ``image`` stand for, for a legend (within the raw range; an isolated peak
    cell is softened by the bilinear blend).
    """

    kind: str  # the name of its method in model.explain.methods: "se", "change", "gradcam", …
    block: BlockInfo | None  # the SE block of a per-block map; None otherwise
    raw: np.ndarray  # [h, w] float32
    image: np.ndarray  # [H, W] float32 in [0, 1]
    vmin: float
    vmax: float
    layer: CamLayer | None = None  # the feature stage of a CAM (and of the random map)

    @property
    def grid(self) -> tuple[int, int]:
        """(h, w) of the grid the map was computed on: how finely it can localise anything."""
        return int(self.raw.shape[0]), int(self.raw.shape[1])

    @property
    def source(self) -> str:
        """Where the map was taken, e.g. "s6 b3 · 4×4" or "features.5 · 112 ch · 4×4"."""
        if self.layer is not None:
            return self.layer.label
        where = self.block.short_name + " · " if self.block is not None else ""
        return f"{where}{self.grid[0]}×{self.grid[1]}"

    def grid_cell(self, x: float, y: float) -> tuple[int, int]:
        """(row, col) of ``raw`` under pixel (x, y) of ``image`` (clamped to the grid)."""
        h, w = self.raw.shape
        height, width = self.image.shape
        row = min(h - 1, max(0, int(y * h / height)))
        col = min(w - 1, max(0, int(x * w / width)))
        return row, col

    def value_at(self, x: float, y: float) -> float:
        """Raw map value of the grid cell under pixel (x, y) of ``image``: for a hover tooltip."""
        return float(self.raw[self.grid_cell(x, y)])


def make_spatial_map(raw: torch.Tensor, size: tuple[int, int], kind: str, block: BlockInfo | None,
                     layer: CamLayer | None = None) -> SpatialMap:
    # Normalise after upsampling (as grad-cam does): bilinear never overshoots, but an
    # isolated peak cell is blended with its neighbours, so the range can shrink a little.
    scaled, lo, hi = normalise(upsample(raw, size).numpy())
    return SpatialMap(kind, block, raw.detach().float().cpu().numpy().astype(np.float32, copy=True), scaled, lo, hi,
                      layer)


@dataclass(frozen=True)
class GateCell:
    """What a gate-map cell shows: the block, the channel index within it, and s."""

    block: BlockInfo
    channel: int
    value: float


@dataclass(frozen=True)
class GateMap:
    """Gates s of every block for one image, as a blocks × ``width`` matrix.

    Display choice: channel counts differ per block (B0: 16 to 1152), so each
    row is resampled to a common ``width`` (default: the largest channel count)
    by *nearest* sampling: every cell shows exactly one real channel, never an
    interpolated value, and with ``width`` ≥ every block's C no channel is
    dropped (narrow blocks repeat each channel over several cells). With
    ``order="sorted"`` each row is sorted by gate value, largest first, which
    shows how selective a block is (a steep fall = few channels pass); with
    ``order="channel"`` rows keep channel order, for comparing images.
    ``channels[r, c]`` says which channel cell (r, c) shows, so hovering maps a
    pixel back to (block, channel, value) via ``cell`` or ``cell_at_pixel``.
    """

    values: np.ndarray  # [B, width] float32 in (0, 1)
    channels: np.ndarray  # [B, width] int32: channel index shown in each cell
    blocks: list[BlockInfo]
    order: str
    means: np.ndarray | None = None  # [B] mean gate of each block over its own channels

    def centred(self) -> np.ndarray:
        """Each gate minus its block's mean: the contrast the fixed 0–1 scale hides when most gates sit
        near 0.5 (draw it with a diverging colour map, symmetric about 0)."""
        means = self.means if self.means is not None else self.values.mean(axis=1)
        return (self.values - means[:, None]).astype(np.float32)

    @property
    def width(self) -> int:
        return int(self.values.shape[1])

    def cell(self, row: int, col: int) -> GateCell:
        """The block, channel and gate value of cell (row, col)."""
        channel = int(self.channels[row, col])
        return GateCell(self.blocks[row], channel, float(self.values[row, col]))

    def cell_at_pixel(self, x: float, y: float, image_width: int, image_height: int) -> GateCell | None:
        """The cell under pixel (x, y) when the matrix is stretched over an image of the given size."""
        if not (0 <= x < image_width and 0 <= y < image_height):
            return None
        row = min(len(self.blocks) - 1, int(y * len(self.blocks) / image_height))
        col = min(self.width - 1, int(x * self.width / image_width))
        return self.cell(row, col)


def build_gate_map(gates: list[np.ndarray], blocks: list[BlockInfo], order: str = "sorted", width: int | None = None) -> GateMap:
    """Lay out per-block gate vectors ``gates[b]`` ([C_b]) as a ``GateMap``."""
    if order not in GATE_ORDERS:
        raise ValueError(f"order must be one of {GATE_ORDERS}, not {order!r}")
    width = int(width or max(len(g) for g in gates))
    values = np.empty((len(gates), width), np.float32)
    channels = np.empty((len(gates), width), np.int32)
    for row, g in enumerate(gates):
        ranked = np.argsort(-g, kind="stable") if order == "sorted" else np.arange(len(g))
        # Nearest sampling at cell centres: cell c shows entry floor((c + 0.5)·C / width).
        picks = ((np.arange(width) + 0.5) * len(g) / width).astype(np.int64)
        channels[row] = ranked[picks]
        values[row] = g[channels[row]]
    means = np.array([float(np.mean(g)) for g in gates], np.float32)
    return GateMap(values, channels, list(blocks), order, means)
