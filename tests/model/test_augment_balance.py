"""Augmentation presets (no mirrored sample without flips) and the class-imbalance remedies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from model.training.augment import PRESETS, BatchMixer, augmented_samples, train_transform
from model.training.balance import BalancedSampler, class_balance, class_weights


def _marked_image(size: int = 64) -> Image.Image:
    """Grey with a red block in the left third: a mirrored crop puts the red on the right."""
    a = np.full((size, size, 3), 128, np.uint8)
    a[:, : size // 3] = (230, 20, 20)
    return Image.fromarray(a)


def _red_centre_x(sample: np.ndarray) -> float | None:
    r, g, b = (sample[..., i].astype(int) for i in range(3))
    red = (r > 150) & (g < 110) & (b < 110)
    if red.sum() < 4:
        return None
    return float(np.nonzero(red)[1].mean()) / sample.shape[1]


@pytest.mark.parametrize("preset", ["light", "standard"])
def test_no_mirrored_sample_under_no_flip(preset):
    samples = augmented_samples([_marked_image()], 48, preset, flip=False, count=40, seed=1)
    centres = [c for c in map(_red_centre_x, samples) if c is not None]
    assert len(centres) > 20
    assert max(centres) < 0.5  # the red block never ends up on the right


def test_with_flips_some_samples_are_mirrored():
    samples = augmented_samples([_marked_image()], 48, "light", flip=True, count=40, seed=1)
    centres = [c for c in map(_red_centre_x, samples) if c is not None]
    assert max(centres) > 0.5


def test_every_preset_gives_uint8_at_the_size_and_strong_has_no_flip_when_asked():
    import torchvision.transforms.v2 as T

    for preset in PRESETS:
        out = train_transform(40, preset, flip=True)(_marked_image(57))
        assert out.dtype == torch.uint8 and tuple(out.shape) == (3, 40, 40)
    strong = train_transform(40, "strong", flip=False)
    assert not any(isinstance(t, T.RandomHorizontalFlip) for t in strong.transforms)
    assert any(isinstance(t, T.TrivialAugmentWide) for t in strong.transforms)


def test_batch_mixer_mixes_some_batches_into_soft_targets():
    mixer = BatchMixer(3, probability=1.0, seed=0)
    x, y = torch.randn(8, 3, 16, 16), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    mixed, targets = mixer(x, y)
    assert targets.shape == (8, 3)
    assert torch.allclose(targets.sum(1), torch.ones(8))
    never = BatchMixer(3, probability=0.0)
    assert never(x, y)[1] is y


def test_the_balanced_sampler_draws_every_class_about_equally():
    labels = [0] * 90 + [1] * 10
    sampler = BalancedSampler(list(range(100)), labels, seed=3)
    drawn = []
    for epoch in range(20):
        sampler.epoch = epoch
        drawn += [labels[i] for i, _ in sampler]  # (index, augmentation seed) pairs
    assert len(drawn) == 2000
    share = drawn.count(1) / len(drawn)
    assert 0.44 < share < 0.56  # 10 % of the images, half of the draws
    sampler.active.remove(95)  # a file that failed to decode drops out
    assert 95 not in [i for i, _ in sampler]
    seeds = [s for _, s in sampler]
    assert len(set(seeds)) == len(seeds)  # an image drawn twice is augmented twice differently


def test_imbalance_is_detected_beyond_three_to_one_and_described():
    names = ("cat", "dog")
    bal = class_balance([0] * 100 + [1] * 20, names)
    assert bal.imbalanced and bal.remedy == "sampler"
    text = bal.describe()
    assert "imbalanced" in text and "'cat' has 100" in text and "'dog' 20" in text and "macro F1" in text
    assert class_balance([0] * 30 + [1] * 20, names).remedy == "off"
    assert class_balance([0] * 100 + [1] * 20, names, "off").remedy == "off"
    assert class_balance([0] * 100 + [1] * 20, names, "loss").remedy == "loss"


def test_class_weights_make_every_class_weigh_the_same_in_total():
    counts = [90, 10]
    w = class_weights(counts)
    assert w[1] > w[0]
    assert float(w[0] * 90) == pytest.approx(float(w[1] * 10))
    assert float((w * torch.tensor(counts, dtype=torch.float32)).sum()) == pytest.approx(100.0)
