"""Class comparison of SE gates: the divergence score on known cases, progress, cancel, skipped files."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

from model.explain.attention import ClassComparison, ClassExcitationStats, class_comparison, divergence_score
from model.core.errors import DatasetError
from model.core.events import Progress
from model.core.variants import get_variant
from tests.model.attention_models import calibrated_b0, hook_count

PREP = get_variant("b0").eval_preprocessing.at_size(64)


@pytest.fixture(scope="module")
def b0():
    return calibrated_b0()


def test_divergence_score_on_a_known_case():
    # Class a: gates 0.1 and 0.3 (mean 0.2, RMS spread 0.1); class b: 0.7 and 0.9 (mean 0.8, spread 0.1).
    stats = ClassExcitationStats(2, [1])
    stats.add([0, 0, 1, 1], [np.array([[0.1], [0.3], [0.7], [0.9]])])
    np.testing.assert_allclose(stats.class_means(0), [[0.2], [0.8]])
    np.testing.assert_allclose(stats.within_spread(0), [0.1, 0.1], atol=1e-9)
    assert divergence_score(stats.class_means(0), stats.within_spread(0)) == pytest.approx(0.6 / 0.1, rel=1e-4)


def test_divergence_score_averages_pairs_and_is_zero_for_identical_classes():
    means = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])  # pair distances 5, 0, 5 → mean 10/3
    assert divergence_score(means, np.array([1.0, 2.0, 3.0])) == pytest.approx((10 / 3) / 2.0, rel=1e-5)
    assert divergence_score(np.full((3, 8), 0.4), np.full(3, 0.05)) == 0.0


def test_stats_accumulate_across_batches_like_one_pass():
    rng = np.random.default_rng(0)
    s = rng.random((10, 5))
    labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    once, twice = ClassExcitationStats(3, [5]), ClassExcitationStats(3, [5])
    once.add(labels, [s])
    twice.add(labels[:4], [s[:4]])
    twice.add(labels[4:], [s[4:]])
    np.testing.assert_allclose(once.class_means(0), twice.class_means(0))
    for k in range(3):
        rows = s[np.array(labels) == k]
        rms = np.sqrt(((rows - rows.mean(0)) ** 2).sum(1).mean())
        assert twice.within_spread(0)[k] == pytest.approx(rms, rel=1e-6)


def _dataset(image_factory, per_class=2):
    """data/cat: reddish noise images, data/dog: bluish ones; returns the data folder."""
    for k in range(per_class):
        image_factory(f"data/cat/{k}.png", size=(72, 64), color=(220, 40, 40), seed=k)
        last = image_factory(f"data/dog/{k}.png", size=(72, 64), color=(40, 60, 220), seed=10 + k)
    return last.parent.parent


def test_progress_result_and_skipped_files(b0, image_factory):
    root = _dataset(image_factory)
    (root / "dog" / "broken.jpg").write_bytes(b"garbage, not an image")
    (root / "empty").mkdir()  # no images: not a class
    events = list(class_comparison(b0, root, preprocessing=PREP, batch_size=2))
    progress, results = events[:-1], events[-1:]
    assert all(isinstance(e, Progress) for e in progress)
    assert [(p.done, p.total) for p in progress] == [(0, 5), (2, 5), (4, 5), (5, 5)]
    (result,) = results
    assert isinstance(result, ClassComparison)
    assert result.class_names == ["cat", "dog"] and result.counts == [2, 2]
    assert len(result.skipped) == 1 and result.skipped[0][0].endswith("broken.jpg")
    assert len(result.blocks) == 16 and result.divergence.shape == (16,) and result.within_spread.shape == (16, 2)
    assert all(m.shape == (2, b.channels) for m, b in zip(result.class_means, result.blocks))
    assert np.isfinite(result.divergence).all() and (result.divergence > 0).any()
    assert hook_count(b0) == 0


def test_same_images_in_two_classes_give_zero_divergence(b0, image_factory):
    root = _dataset(image_factory)
    shutil.rmtree(root / "dog")
    shutil.copytree(root / "cat", root / "copycat")
    # batch_size=2 puts each class in its own, identical batch: the same arithmetic, bit for bit.
    *_, result = class_comparison(b0, root, preprocessing=PREP, batch_size=2)
    assert result.counts == [2, 2]
    assert result.divergence.max() < 1e-6


def test_cancel_stops_without_a_result_and_leaves_no_hooks(b0, image_factory):
    root = _dataset(image_factory, per_class=3)
    cancel = threading.Event()
    events = []
    for event in class_comparison(b0, root, preprocessing=PREP, batch_size=1, cancel=cancel):
        events.append(event)
        assert hook_count(b0) == 0  # nothing stays hooked while the caller holds the generator
        if isinstance(event, Progress) and event.done == 2:
            cancel.set()
    assert [e.done for e in events] == [0, 1, 2]
    assert not any(isinstance(e, ClassComparison) for e in events)


def test_refuses_folders_that_cannot_be_compared(b0, tmp_path, image_factory):
    with pytest.raises(DatasetError, match="not a folder"):
        next(class_comparison(b0, tmp_path / "missing", preprocessing=PREP))
    image_factory("one/only/a.png", seed=1)
    with pytest.raises(DatasetError, match="at least two"):
        next(class_comparison(b0, tmp_path / "one", preprocessing=PREP))
    (tmp_path / "bad" / "a").mkdir(parents=True)
    (tmp_path / "bad" / "b").mkdir()
    (tmp_path / "bad" / "a" / "x.png").write_bytes(b"nope")
    image_factory("bad/b/y.png", seed=2)
    with pytest.raises(DatasetError, match="readable"):
        list(class_comparison(b0, tmp_path / "bad", preprocessing=PREP))


def test_npz_round_trip_without_pickle(b0, tmp_path, image_factory):
    *_, result = class_comparison(b0, _dataset(image_factory, per_class=1), preprocessing=PREP)
    path = result.save_npz(tmp_path / "out" / "classes.npz")
    with np.load(path, allow_pickle=False) as data:
        assert list(data["class_names"]) == ["cat", "dog"]
        assert list(data["block_names"]) == [b.name for b in result.blocks]
        np.testing.assert_array_equal(data["divergence"], result.divergence)
        np.testing.assert_array_equal(data["mean_00_stage1_block1"], result.class_means[0])


def test_a_train_val_layout_compares_the_classes_not_the_splits(b0, image_factory):
    """train/cat, train/dog, val/cat, val/dog: two classes with every image, as training reads the folder."""
    for split, k in (("train", 0), ("train", 1), ("val", 2)):
        image_factory(f"tv/{split}/cat/{k}.png", size=(72, 64), color=(220, 40, 40), seed=k)
        last = image_factory(f"tv/{split}/dog/{k}.png", size=(72, 64), color=(40, 60, 220), seed=10 + k)
    *_, result = class_comparison(b0, last.parent.parent.parent, preprocessing=PREP)
    assert result.class_names == ["cat", "dog"] and result.counts == [3, 3]
