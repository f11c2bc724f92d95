"""Turning maps into pixels: perceptual colormaps, overlays and legend-friendly ranges.

Shared by the CLI (PNG files) and the GUI (pixmaps). Everything returns RGB
``uint8`` numpy arrays of shape [H, W, 3]; ``to_pil`` wraps one as a Pillow
image. No matplotlib at runtime: the colormaps are matplotlib's viridis,
inferno and magma (perceptually uniform, readable in greyscale and by most
colour-blind viewers), stored as every fifth entry of their 256-colour tables
and linearly interpolated back to 256 entries (within 1/255 of the originals).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from model.core.atomic import atomic_write

# Entries 0, 5, 10, …, 255 of matplotlib's 256-entry tables, as RRGGBB hex.
_CONTROL_POINTS = {
    "viridis": (
        "44015446085c471063481769481d6f482475472a7a46307e453781433d844142873f48893d4e8a3a538b38598c355e8d"
        "33638d31688e2e6d8e2c718e2a768e297b8e27808e25848e23898e218e8d20928c1f978b1e9c891fa18821a58524aa83"
        "28ae802eb37c35b7793dbc7446c06f50c46a5ac86465cb5e70cf577cd25089d54895d840a2da37b0dd2fbddf26cae11f"
        "d8e219e5e419f1e51dfde725"
    ),
    "inferno": (
        "00000402020c0504170a072210092d160b391e0c45260c512f0a5b380962400a67490b6a510e6c59106e61136e69166e"
        "71196e781c6d801f6c88226a902568982766a02a63a82e5fb0315bb73557bf3952c63d4dcc4248d34743d94d3ddf5337"
        "e45a31e9612bed6925f1711ff47918f78212f98b0bfa9407fb9d07fca60cfcb014fbba1ffac42af8cd37f6d746f4e156"
        "f2ea69f2f27df5f992fcffa4"
    ),
    "magma": (
        "00000402020b0504160907200e0b2b140e361a104221114e29115a311165390f6e420f754a107952137c5a167e621980"
        "6a1c81721f81792282812581892881912b81992d80a1307eaa337db2357bba3878c23b75ca3e72d2426fd9466be04c67"
        "e75263ec5860f1605df4695cf7725cf97b5dfb8560fc8e64fd9869fea16efeaa74feb47bfebd82fec68afecf92fed89a"
        "fde2a3fdebacfcf4b6fcfdbf"
    ),
}
COLORMAP_NAMES: tuple[str, ...] = tuple(_CONTROL_POINTS)
DEFAULT_COLORMAP = "inferno"
NAN_COLOR = (64, 64, 64)


@lru_cache(maxsize=None)
def colormap_lut(name: str = DEFAULT_COLORMAP) -> np.ndarray:
    """The 256×3 uint8 lookup table of colormap ``name`` (read-only)."""
    if name not in _CONTROL_POINTS:
        raise ValueError(f"unknown colormap {name!r}: choose one of {', '.join(COLORMAP_NAMES)}")
    raw = bytes.fromhex(_CONTROL_POINTS[name])
    points = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.float64)
    at = np.arange(len(points)) * 5.0
    lut = np.stack([np.interp(np.arange(256), at, points[:, k]) for k in range(3)], axis=1)
    lut = np.round(lut).astype(np.uint8)
    lut.flags.writeable = False
    return lut


def apply_colormap(values: np.ndarray, cmap: str = DEFAULT_COLORMAP, vmin: float = 0.0, vmax: float = 1.0) -> np.ndarray:
    """Colour a 2-D array: ``vmin`` → the map's first colour, ``vmax`` → its last; NaN → grey."""
    values = np.asarray(values, np.float64)
    span = vmax - vmin if vmax > vmin else 1.0
    t = np.clip((values - vmin) / span, 0.0, 1.0)
    nan = np.isnan(t)
    index = np.round(np.where(nan, 0.0, t) * 255.0).astype(np.intp)
    rgb = colormap_lut(cmap)[index]
    if nan.any():
        rgb[nan] = NAN_COLOR
    return rgb


def as_rgb_array(image: np.ndarray | Image.Image) -> np.ndarray:
    """An RGB uint8 [H, W, 3] array from a Pillow image or an array (grey is expanded)."""
    arr = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.dtype != np.uint8:
        raise ValueError("expected an 8-bit RGB image")
    return arr[:, :, :3]


def resize_map(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a float map to ``size`` = (height, width)."""
    values = np.asarray(values, np.float32)
    if values.shape == tuple(size):
        return values
    im = Image.fromarray(values, mode="F").resize((size[1], size[0]), Image.Resampling.BILINEAR)
    return np.asarray(im, np.float32)


def overlay(
    image: np.ndarray | Image.Image,
    heat: np.ndarray,
    *,
    cmap: str = DEFAULT_COLORMAP,
    alpha: float = 0.5,
    vmin: float = 0.0,
    vmax: float = 1.0,
) -> np.ndarray:
    """Blend a colour-mapped ``heat`` map over ``image``: (1 − alpha)·image + alpha·colour.

    ``heat`` is resized (bilinear) to the image when the sizes differ, e.g. a
    block's raw grid drawn over the full crop.
    """
    base = as_rgb_array(image).astype(np.float32)
    heat = resize_map(heat, base.shape[:2])
    colour = apply_colormap(heat, cmap, vmin, vmax).astype(np.float32)
    return np.clip((1.0 - alpha) * base + alpha * colour + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class ValueRange:
    """A legend range rounded outwards to "nice" numbers, with tick positions."""

    lo: float
    hi: float
    ticks: tuple[float, ...]
    step: float

    def label(self, value: float) -> str:
        """Tick text with just as many decimals as the step needs (scientific for tiny or huge values)."""
        if value == 0:
            return "0"
        if self.step < 1e-3 or abs(value) >= 1e5:
            return f"{value:.3g}"
        decimals = next(d for d in range(13) if abs(round(self.step, d) - self.step) <= self.step * 1e-9)
        return f"{value:.{decimals}f}"


def _nice_step(span: float, max_ticks: int) -> float:
    raw = span / max(1, max_ticks - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude * (1 + 1e-9):
            return factor * magnitude
    return 10 * magnitude


def nice_range(vmin: float, vmax: float, max_ticks: int = 5) -> ValueRange:
    """Round [vmin, vmax] outwards to multiples of a 1-2-2.5-5 step; at most ``max_ticks`` ticks.

    For example (0.013, 0.87) → 0 … 1 in steps of 0.25, and (0, 3.1e-6) → 0 … 4e-6.
    """
    vmin, vmax = float(vmin), float(vmax)
    if not (math.isfinite(vmin) and math.isfinite(vmax)):
        raise ValueError("the value range must be finite")
    if vmax < vmin:
        vmin, vmax = vmax, vmin
    if vmax == vmin:
        pad = abs(vmin) * 0.5 or 1.0
        vmin, vmax = vmin - pad, vmax + pad
    step = _nice_step(vmax - vmin, max_ticks)
    while True:
        lo, hi = math.floor(vmin / step) * step, math.ceil(vmax / step) * step
        count = int(round((hi - lo) / step)) + 1
        if count <= max_ticks:
            break
        step = _nice_step(step * 1.01 * (max_ticks - 1), max_ticks)
    ticks = tuple(float(f"{lo + k * step:.12g}") for k in range(count))  # drop float noise
    return ValueRange(ticks[0], ticks[-1], ticks, step)


def to_pil(rgb: np.ndarray) -> Image.Image:
    """Wrap an RGB uint8 array as a Pillow image."""
    return Image.fromarray(as_rgb_array(rgb), "RGB")


def save_png(rgb: np.ndarray | Image.Image, path: str | os.PathLike) -> Path:
    """Write an RGB image as PNG (creating the folder), atomically: a full disk names the file."""
    image = rgb if isinstance(rgb, Image.Image) else to_pil(rgb)
    return atomic_write(path, lambda f: image.save(f, format="PNG"))
