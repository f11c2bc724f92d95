"""The composed attention view (model.figures.attention_view_figure) used by the GUI's PNG export."""

from __future__ import annotations

import numpy as np
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
    # The crop is drawn unchanged (below its title line) at the top left.
    crop = result.images[0]
    rows = [y for y in range(40) if np.array_equal(plain[y : y + 64, :64], crop)]
    assert rows, "the input crop is not in the picture"
    assert plain.shape == changed.shape == later.shape
    assert not np.array_equal(plain, changed) and not np.array_equal(plain, later)
    # Taller than the row of pictures: the gate map is below it.
    assert plain.shape[0] > 64 + 200
