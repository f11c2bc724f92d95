"""Tiny class-folder datasets for the training tests (Pillow images in tmp_path)."""

from __future__ import annotations

from pathlib import Path

from conftest import make_image

COLORS = {"red": (210, 40, 40), "green": (40, 190, 60), "blue": (40, 60, 210)}


def make_dataset(root: Path, classes=("red", "green", "blue"), per_class: int = 5, size=(36, 32), start_seed: int = 0) -> Path:
    """``root/<class>/<i>.png``: textured noise around a colour per class, distinct per image."""
    seed = start_seed
    for name in classes:
        for i in range(per_class):
            make_image(root / name / f"{i}.png", size=size, color=COLORS.get(name, (128, 128, 128)), seed=seed)
            seed += 1
    return root


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut a file short: its header still parses, decoding it fails."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
