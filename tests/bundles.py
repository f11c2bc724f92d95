"""Tiny fine-tuned bundles for tests (importable as ``tests.bundles``)."""

from __future__ import annotations

from pathlib import Path

import torch

from tests.image_files import make_image

COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220)}


def make_colour_bundle(root: Path, per_class: int = 8, size: int = 32) -> tuple[Path, Path]:
    """(bundle path, training folder): a random two-class B0 at ``size`` px whose config names its
    training folder, as a bundle from training does; images are textured red and blue squares."""
    from model.core.variants import get_variant
    from model.nets.bundle import Bundle, save_bundle
    from model.nets.network import build_model

    data = root / "data"
    for name, colour in COLOURS.items():
        for i in range(per_class):
            make_image(data / name / f"{i}.png", size=(40, 36), color=colour, seed=i)
    torch.manual_seed(0)
    net = build_model("b0", num_classes=len(COLOURS))
    prep = get_variant("b0").eval_preprocessing.at_size(size)
    config = {"data_dir": str(data), "val_split": 0.25, "seed": 0}
    return save_bundle(Bundle(net.state_dict(), "b0", list(COLOURS), size, prep, config), root / "model.pt"), data
