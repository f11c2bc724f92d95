"""A tiny data set with planted problems for the doctor's tests (importable as ``tests.doctor_data``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

from tests.image_files import make_image

COLOURS = {"blue": (30, 40, 220), "green": (30, 200, 40), "red": (220, 30, 30)}
MISLABELLED = "train/blue/oops.png"  # a red image in the blue folder
EXACT = ("train/green/green0.png", "train/green/green0_copy.png")
NEAR = ("train/green/green1.png", "train/green/green1_small.jpg")  # resized and re-encoded
LEAK = ("train/red/red1.png", "val/red/leak.png")


def make_doctor_dataset(root: Path) -> Path:
    """train/ and val/ with three colour classes, one mislabel, an exact and a near duplicate, one leak."""
    for n, (name, colour) in enumerate(COLOURS.items()):
        for i in range(8):
            make_image(root / "train" / name / f"{name}{i}.png", size=(40, 40), color=colour, seed=10 * n + i)
        make_image(root / "val" / name / f"v{name}.png", size=(40, 40), color=colour, seed=100 + n)
    make_image(root / MISLABELLED, size=(40, 40), color=COLOURS["red"], seed=99)
    shutil.copyfile(root / EXACT[0], root / EXACT[1])
    Image.open(root / NEAR[0]).resize((56, 56), Image.BICUBIC).save(root / NEAR[1], quality=92)
    shutil.copyfile(root / LEAK[0], root / LEAK[1])
    return root
