"""Full mode resumes exactly: a run cut off after epoch 2 and resumed matches an uninterrupted one bit for bit."""

import random
from dataclasses import replace
from functools import partial

import numpy as np
import torch
from tests.model.train_helpers import make_dataset

from model.core.events import EpochMetrics
from model.nets.bundle import load_bundle
from model.training.data import train_transform
from model.training.engine import TrainConfig, train
from model.training.loaders import ImageSamples, decode_for_training


def epochs(events):
    return [replace(e, seconds=0.0) for e in events if isinstance(e, EpochMetrics)]


def test_a_full_mode_run_cut_off_after_epoch_2_resumes_bit_identically(tmp_path):
    data = make_dataset(tmp_path / "ds", classes=("red", "blue"), per_class=4)

    def config(run, **kw):
        return TrainConfig(data, tmp_path / run, weights="random", mode="full", epochs=3, image_size=32, batch_size=3,
                           num_workers=0, device="cpu", val_split=0.25, **kw)

    whole = epochs(train(config("whole")))
    cut = train(config("cut"))
    for e in cut:
        if isinstance(e, EpochMetrics) and e.epoch == 3:
            break  # killed while epoch 3 was being saved: the folder holds epoch 2
    cut.close()
    torch.manual_seed(99), random.seed(99), np.random.seed(99)  # a new process starts from other states
    resumed = epochs(train(config("cut", resume=True)))
    assert resumed == whole[2:]
    a, b = load_bundle(tmp_path / "whole" / "model.pt"), load_bundle(tmp_path / "cut" / "model.pt")
    timeless = [[{k: v for k, v in h.items() if k != "seconds"} for h in x.history] for x in (a, b)]
    assert timeless[0] == timeless[1]
    assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)


def test_a_training_sample_is_augmented_from_its_own_seed_alone(tmp_path):
    data = make_dataset(tmp_path / "ds", classes=("red",), per_class=1)
    samples = ImageSamples([(data / "red" / "0.png", 0)], partial(decode_for_training, image_size=32), train_transform(32))
    first = samples[(0, 7)][0]
    torch.rand(10)  # whatever else draws from torch's generator meanwhile…
    state = torch.get_rng_state()
    assert torch.equal(samples[(0, 7)][0], first)  # …the same seed gives the same crop
    assert torch.equal(torch.get_rng_state(), state)  # and augmenting draws nothing from the global generator
    assert not torch.equal(samples[(0, 8)][0], first)
