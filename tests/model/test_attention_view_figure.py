"""The composed attention view (model.figures.attention_view_figure) used by the GUI's PNG export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.explain.attention import analyse_image
from model.explain.figures import attention_view_figure
from model.core.variants import get_variant
from tests.model.attention_models import calibrated_b0

PREP = get_variant("b0").eval_preprocessing.at_size(64)


def test_the_view_shows_the_crop_the_chosen_overlay_and_the_gate_map(image_factory):
    torch.manual_seed(0)
    result = analyse_image(calibrated_b0(), image_factory("photo.png", size=(80, 72), seed=3), preprocessing=PREP)
    plain = attention_view_figure(result, 5)
    changed = attention_view_figure(result, 5, kind="change")
    later = attention_view_figure(result, 12)
    assert plain.dtype == np.uint8 and plain.ndim == 3 and plain.shape[2] == 3
    # The crop is drawn at the top left (below its title line), each pixel a 4×4 square: 64 px is enlarged to 256.
    crop = np.repeat(np.repeat(result.images[0], 4, axis=0), 4, axis=1)
    rows = [y for y in range(40) if np.array_equal(plain[y : y + 256, :256], crop)]
    assert rows, "the input crop is not in the picture"
    assert plain.shape == changed.shape == later.shape
    assert not np.array_equal(plain, changed) and not np.array_equal(plain, later)
    # Taller than the row of pictures: the gate map is below it.
    assert plain.shape[0] > 256 + 200


def largest_blank_square(rgb: np.ndarray) -> int:
    """The side of the largest square of pure background (white) anywhere in ``rgb``."""
    blank = (rgb == 255).all(axis=2).astype(np.int64)
    sums = np.zeros((blank.shape[0] + 1, blank.shape[1] + 1), np.int64)
    sums[1:, 1:] = blank.cumsum(0).cumsum(1)
    lo, hi = 0, min(blank.shape)
    while lo < hi:  # a blank k×k square exists for every k up to the answer
        k = (lo + hi + 1) // 2
        window = sums[k:, k:] - sums[:-k, k:] - sums[k:, :-k] + sums[:-k, :-k]
        lo, hi = (k, hi) if (window == k * k).any() else (lo, k - 1)
    return lo


@pytest.mark.parametrize("size", [32, 64])
def test_a_small_input_leaves_no_large_gap(image_factory, size):
    """Issue 13: a model trained at 32-64 px exported a figure that was mostly blank around tiny pictures."""
    prep = get_variant("b0").eval_preprocessing.at_size(size)
    result = analyse_image(calibrated_b0(), image_factory("photo.png", size=(80, 72), seed=3), preprocessing=prep)
    figure = attention_view_figure(result, 5)
    blank_rows = (figure == 255).all(axis=(1, 2)).mean()
    assert blank_rows < 0.18, f"{blank_rows:.0%} of the rows are empty"
    assert largest_blank_square(figure) < 0.2 * figure.shape[1]
