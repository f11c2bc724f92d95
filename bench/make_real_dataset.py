"""Build a small class-folder data set of real images from an installed package (no network).

    python bench/make_real_dataset.py OUT_DIR [--size 32] [--test-fraction 0.25]

The images are scikit-learn's bundled handwritten digits (``load_digits``: 1,797
scans of real handwriting by 43 people, 8×8 pixels, 16 grey levels), enlarged to
``--size`` pixels and written as PNGs:

    OUT_DIR/train/<0…9>/*.png   for training (the trainer holds out its own val split)
    OUT_DIR/test/<0…9>/*.png    never seen in training: for ``python -m model evaluate``

The test split is stratified and seeded, and the writers in the test set are
mixed with those in training (the data set does not say who wrote what).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def build(out: Path, size: int = 32, test_fraction: float = 0.25, seed: int = 0) -> dict[str, int]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    counts = {"train": 0, "test": 0}
    for label in range(10):
        idx = np.flatnonzero(digits.target == label)
        rng.shuffle(idx)
        n_test = round(len(idx) * test_fraction)
        for rank, i in enumerate(idx):
            part = "test" if rank < n_test else "train"
            grey = (digits.images[i] * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
            # Dark ink on white paper, smoothly enlarged: what a scan of handwriting looks like.
            im = Image.fromarray(255 - grey, "L").resize((size, size), Image.BICUBIC)
            folder = out / part / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            im.save(folder / f"{i:04d}.png")
            counts[part] += 1
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description="Write scikit-learn's handwritten digits as a class-folder data set.")
    ap.add_argument("out", type=Path, help="output folder (train/ and test/ are created inside)")
    ap.add_argument("--size", type=int, default=32, help="image size in pixels (default: 32)")
    ap.add_argument("--test-fraction", type=float, default=0.25, help="share kept aside for testing (default: 0.25)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.out.exists() and any(a.out.iterdir()):
        print(f"error: {a.out} is not empty; choose a new folder.", file=sys.stderr)
        return 1
    counts = build(a.out, a.size, a.test_fraction, a.seed)
    print(f"wrote {counts['train']} training and {counts['test']} test images of 10 digit classes to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
