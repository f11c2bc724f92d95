"""A small generated class-folder dataset (shapes drawn with Pillow) for screenshots and benchmarks.

It lets ``--screenshot --page train`` and the UI benchmark show a real training
run without any user data or download: circles, squares and triangles of random
sizes and places on a speckled background, one sub-folder per class. Each class
leans towards its own colour, so that even a network trained from random weights
for a few seconds learns something worth showing.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

SHAPES = ("circles", "squares", "triangles")
TINTS = {"circles": (190, 50, 40), "squares": (40, 150, 60), "triangles": (50, 70, 190)}


def _draw(shape: str, size: int, rng: random.Random):
    from PIL import Image, ImageDraw

    background = tuple(rng.randint(150, 255) for _ in range(3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    for _ in range(size * size // 24):  # speckles, so that no two images are alike
        x, y = rng.randrange(size), rng.randrange(size)
        draw.point((x, y), fill=tuple(max(0, c - rng.randint(20, 70)) for c in background))
    tint = TINTS.get(shape, (90, 90, 90))
    colour = tuple(min(255, max(0, c + rng.randint(-45, 45))) for c in tint)
    radius = rng.uniform(0.22, 0.38) * size
    cx, cy = rng.uniform(radius, size - radius), rng.uniform(radius, size - radius)
    if shape == "circles":
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)
    elif shape == "squares":
        angle = rng.uniform(0, math.pi / 2)
        corners = [(cx + radius * math.cos(angle + k * math.pi / 2), cy + radius * math.sin(angle + k * math.pi / 2))
                   for k in range(4)]
        draw.polygon(corners, fill=colour)
    else:
        angle = rng.uniform(0, 2 * math.pi)
        corners = [(cx + radius * math.cos(angle + k * 2 * math.pi / 3), cy + radius * math.sin(angle + k * 2 * math.pi / 3))
                   for k in range(3)]
        draw.polygon(corners, fill=colour)
    return image


def make_sample_dataset(root: str | Path, per_class: int = 12, size: int = 64, classes=SHAPES, seed: int = 0) -> Path:
    """Write ``root/<shape>/<i>.png`` for each shape class and return ``root``."""
    root = Path(root)
    rng = random.Random(seed)
    for shape in classes:
        folder = root / shape
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            _draw(shape, size, rng).save(folder / f"{shape[:-1]}_{i:03d}.png")
    return root
