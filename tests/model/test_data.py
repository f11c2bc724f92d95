"""Dataset scanning, refusals, warnings, splitting, transforms and the cached loaders."""

import os
import threading

import numpy as np
import pytest
import torch
from PIL import Image
from tests.model.train_helpers import make_dataset, truncate

from tests.image_files import make_image
from model.training.data import eval_preprocessing, scan_dataset, split_dataset, train_transform
from model.core.errors import DatasetError
from model.training.loaders import ImageSamples, SubsetSampler, collate, decode_for_eval, make_loader, prepare_cache
from model.imaging.transforms import eval_tensor, normalize_batch


def test_scan_finds_classes_counts_and_labels(tmp_path):
    root = make_dataset(tmp_path / "ds", per_class=3)
    (root / "red" / "notes.txt").write_text("not an image")
    make_image(root / "red" / ".hidden.png")
    make_image(root / ".thumbs" / "x.png")  # hidden folder: not a class
    make_image(root / "green" / "nested" / "deep.png")  # nested folders belong to their class
    scan = scan_dataset(root)
    assert scan.class_names == ["blue", "green", "red"]
    assert scan.counts == {"blue": 3, "green": 4, "red": 3}
    assert scan.val_files is None and scan.skipped == []
    labels = {p.name if p.parent.name != "nested" else "deep": scan.class_names[y] for p, y in scan.files}
    assert labels["deep"] == "green"
    assert all(scan.class_names[y] == p.parent.name for p, y in scan.files if p.parent.name != "nested")


def test_train_and_val_subfolders(tmp_path):
    make_dataset(tmp_path / "ds" / "train", classes=("a", "b"), per_class=3)
    make_dataset(tmp_path / "ds" / "val", classes=("a", "b"), per_class=2)
    scan = scan_dataset(tmp_path / "ds")
    assert scan.class_names == ["a", "b"] and len(scan.files) == 6 and len(scan.val_files) == 4
    split = split_dataset(scan, val_split=0.5)
    assert len(split.train) == 6 and len(split.val) == 4  # the val folder wins over --val-split


def test_explicit_val_dir_must_use_known_classes(tmp_path):
    root = make_dataset(tmp_path / "ds", classes=("a", "b"), per_class=3)
    val = make_dataset(tmp_path / "val", classes=("a",), per_class=2)
    scan = scan_dataset(root, val_dir=val)
    assert len(scan.val_files) == 2
    assert any("no images of 'b'" in w for w in scan.warnings)
    make_dataset(tmp_path / "val", classes=("zebra",), per_class=1)
    with pytest.raises(DatasetError, match="'zebra' that the training folder lacks"):
        scan_dataset(root, val_dir=val)


def test_refusals_are_one_clear_sentence(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        scan_dataset(tmp_path / "missing")
    (tmp_path / "empty" / "cats").mkdir(parents=True)
    with pytest.raises(DatasetError, match="holds no images"):
        scan_dataset(tmp_path / "empty")
    one = make_dataset(tmp_path / "one", classes=("cats",), per_class=2)
    with pytest.raises(DatasetError, match=r"only 1 class \(cats\).*at least 2"):
        scan_dataset(one)
    hollow = make_dataset(tmp_path / "hollow", classes=("cats", "dogs"), per_class=2)
    (hollow / "birds").mkdir()
    (hollow / "birds" / "readme.txt").write_text("no images here")
    with pytest.raises(DatasetError, match="'birds'.*no readable images"):
        scan_dataset(hollow)


def test_refusal_messages_are_single_lines(tmp_path):
    with pytest.raises(DatasetError) as info:
        scan_dataset(make_dataset(tmp_path / "one", classes=("cats",), per_class=1))
    assert "\n" not in str(info.value) and str(info.value).endswith(".")


def test_unreadable_files_are_skipped_with_a_reason(tmp_path):
    root = make_dataset(tmp_path / "ds", classes=("a", "b"), per_class=3)
    (root / "a" / "empty.jpg").write_bytes(b"")
    (root / "b" / "text.png").write_text("hello, I am not a PNG")
    scan = scan_dataset(root)
    reasons = {p.name: r for p, r in scan.skipped}
    assert reasons == {"empty.jpg": "file is empty", "text.png": "not an image (or a format we cannot read)"}
    assert scan.counts == {"a": 3, "b": 3}
    assert any("2 file(s) are not readable" in w for w in scan.warnings)


def test_warnings_for_tiny_classes_and_imbalance(tmp_path):
    root = make_dataset(tmp_path / "ds", classes=("many",), per_class=20)
    make_dataset(root, classes=("few",), per_class=2, start_seed=100)
    scan = scan_dataset(root)
    assert any("Tiny classes: 'few' (2)" in w for w in scan.warnings)
    assert any("heavily imbalanced: 'many' has 20 images but 'few' only 2" in w for w in scan.warnings)


def test_symlink_loops_do_not_hang(tmp_path):
    root = make_dataset(tmp_path / "ds", classes=("a", "b"), per_class=2)
    os.symlink(root / "a", root / "a" / "loop")
    os.symlink(root, root / "b" / "up")
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("scan", scan_dataset(root)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "scanning a folder with symlink loops hung"
    assert result["scan"].class_names == ["a", "b"]


def test_stratified_split_is_seeded_and_covers_every_class(tmp_path):
    root = make_dataset(tmp_path / "ds", classes=("a", "b", "c"), per_class=10)
    make_dataset(root, classes=("solo",), per_class=1, start_seed=99)
    scan = scan_dataset(root)
    s1, s2, s3 = split_dataset(scan, 0.2, seed=1), split_dataset(scan, 0.2, seed=1), split_dataset(scan, 0.2, seed=2)
    assert s1.train == s2.train and s1.val == s2.val and s1.val != s3.val
    assert not {p for p, _ in s1.train} & {p for p, _ in s1.val}
    assert sorted(s1.train + s1.val) == sorted(scan.files)
    val_counts = np.bincount([y for _, y in s1.val], minlength=4).tolist()
    assert val_counts[:3] == [2, 2, 2] and val_counts[scan.class_names.index("solo")] == 0
    assert any("'solo' has a single image" in w for w in s1.warnings)
    with pytest.raises(DatasetError, match="between 0 and 1"):
        split_dataset(scan, 1.5)


def test_train_transform_makes_uint8_crops_of_the_chosen_size():
    im = Image.fromarray((np.random.default_rng(0).random((50, 70, 3)) * 255).astype(np.uint8))
    for augment in (True, False):
        t = train_transform(32, augment)(im)
        assert t.dtype == torch.uint8 and t.shape == (3, 32, 32)


def test_cached_eval_crops_normalise_to_exactly_eval_tensor(tmp_path):
    path = make_image(tmp_path / "x.jpg", size=(90, 60), seed=3)
    prep = eval_preprocessing("b0", 48)
    assert prep.crop_size == 48 and prep.resize_size == round(48 * 256 / 224)
    cached = decode_for_eval(path, prep)
    from model.imaging.images import load_image

    reference = eval_tensor(load_image(path, draft_size=(prep.resize_size,) * 2), prep)
    assert torch.equal(normalize_batch(cached[None], prep)[0], reference)


def test_a_damaged_file_becomes_a_reported_failure_not_an_exception(tmp_path):
    root = make_dataset(tmp_path / "ds", classes=("a", "b"), per_class=2)
    bad = truncate(root / "a" / "1.png")
    scan = scan_dataset(root)
    assert scan.skipped == []  # the header is fine: only decoding finds out
    prep = eval_preprocessing("b0", 32)
    ds = ImageSamples(scan.files, lambda p: decode_for_eval(p, prep))
    batch = collate([ds[i] for i in range(len(ds))])
    bad_index = [i for i, (p, _) in enumerate(scan.files) if p == bad][0]
    assert [i for i, _ in batch.failed] == [bad_index] and "damaged or truncated" in batch.failed[0][1]
    assert len(batch) == 3 and batch.images.shape == (3, 3, 32, 32)
    loader = make_loader(ds, SubsetSampler(list(range(len(ds))), shuffle=False), 2, 0, False)
    assert sum(len(b) for b in loader) == 3


def test_prepare_cache_reports_failures_and_respects_the_budget(tmp_path):
    root = make_dataset(tmp_path / "ds", classes=("a", "b"), per_class=3)
    truncate(root / "b" / "0.png")
    scan = scan_dataset(root)
    prep = eval_preprocessing("b0", 32)
    ds = ImageSamples(scan.files, lambda p: decode_for_eval(p, prep))
    results = list(prepare_cache(ds, budget=10**9, threads=2))
    assert len(results) == 6 and sum(r is not None for _, r in results) == 1
    assert len(ds.cache) == 5
    many = scan_dataset(make_dataset(tmp_path / "many", classes=("a", "b"), per_class=6)).files
    small = ImageSamples(many, lambda p: decode_for_eval(p, prep))
    yielded = list(prepare_cache(small, budget=1, threads=1))  # one chunk of 8, then the budget is spent
    assert len(yielded) == 8 and sorted(small.cache) == list(range(8))
    # What is not cached is decoded on demand, identically.
    full = ImageSamples(many, lambda p: decode_for_eval(p, prep))
    list(prepare_cache(full, budget=10**9, threads=2))
    assert 11 not in small.cache and torch.equal(small[11][0], full[11][0])


def test_sampler_shuffles_per_epoch_and_drops_removed_indices():
    active = list(range(10))
    s = SubsetSampler(active, shuffle=True, seed=0)
    first = list(s)
    s.epoch = 1
    assert sorted(first) == active and list(s) != first
    active.remove(3)
    assert 3 not in list(s) and len(s) == 9
