"""The dataset doctor finds planted problems, never changes the data, and its CLI keeps its JSON keys."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from model.cli import main as cli_main
from model.doctor.duplicates import find_duplicates, nearest, normalised
from model.doctor.features import FeatureSource
from model.doctor.outliers import find_outliers, imbalance
from model.doctor.run import analyse, diagnose
from model.training.data import scan_dataset
from tests.doctor_data import EXACT, LEAK, MISLABELLED, NEAR, make_doctor_dataset


def _digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file() and ".studio" not in p.parts}


def _run(gen):
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return stop.value, events


@pytest.fixture(scope="module")
def diagnosed(tmp_path_factory):
    root = make_doctor_dataset(tmp_path_factory.mktemp("doctor") / "data")
    before = _digest(root)
    report, events = _run(diagnose(root, FeatureSource(None, "b0", "random", image_size=64), folds=3, device="cpu"))
    return root, before, report, events


def test_a_planted_mislabel_ranks_first(diagnosed):
    _, _, report, events = diagnosed
    assert events and events[-1].done == events[-1].total
    first = report.label_issues[0]
    assert (first.path, first.given, first.suggested) == (MISLABELLED, "blue", "red")
    assert 0.0 <= first.score <= 1.0
    scores = [i.score for i in report.label_issues]
    assert scores == sorted(scores, reverse=True)


def test_exact_and_near_duplicates_are_grouped_and_a_leak_is_marked(diagnosed):
    _, _, report, _ = diagnosed
    groups = {frozenset(d.paths): d for d in report.duplicates}
    assert groups[frozenset(EXACT)].similarity == 1.0 and not groups[frozenset(EXACT)].across_splits
    assert frozenset(NEAR) in groups and not groups[frozenset(NEAR)].across_splits
    assert groups[frozenset(LEAK)].across_splits


def test_the_doctor_changes_no_file_and_the_scanner_ignores_its_folder(diagnosed):
    root, before, report, _ = diagnosed
    assert (root / ".studio" / "cache").is_dir()  # the feature cache is the only thing written
    assert _digest(root) == before
    scan = scan_dataset(root)
    assert not any(".studio" in p.parts for p, _ in scan.files + (scan.val_files or []))
    assert report.images == len(before)


def test_features_are_cached_and_reused(diagnosed):
    root, _, report, _ = diagnosed
    again, events = _run(diagnose(root, FeatureSource(None, "b0", "random", image_size=64), folds=3, device="cpu"))
    assert any("Reusing" in e.message for e in events)
    assert [i.path for i in again.label_issues] == [i.path for i in report.label_issues]


def test_analyse_ranks_planted_flips_on_synthetic_features():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 64)) * 3
    truth = np.repeat(np.arange(4), 30)
    feats = (centres[truth] + rng.normal(size=(120, 64))).astype(np.float32)
    given = truth.copy()
    given[[5, 40, 77]] = [1, 2, 3]
    found = analyse(feats, given, list("abcd"), ["train"] * 120, np.full((120, 2), 32), [str(i) for i in range(120)], folds=5)
    top3 = set(np.argsort(-found.labels.scores)[:3].tolist())
    assert top3 == {5, 40, 77}
    assert found.issue_mask[[5, 40, 77]].all()
    assert found.labels.suggested[5] == 0


def test_duplicates_join_equal_hashes_and_mark_groups_across_splits():
    unit = normalised(np.random.default_rng(1).normal(size=(6, 16)).astype(np.float32))
    groups = find_duplicates(nearest(unit, 3), ["a", "b", "a", "c", "d", "c"], ["train", "train", "val", "train", "train", "train"])
    assert [(g.members, g.across_splits, g.similarity) for g in groups] == [([0, 2], True, 1.0), ([3, 5], False, 1.0)]


def test_outliers_by_isolation_and_by_size():
    rng = np.random.default_rng(2)
    unit = normalised(np.concatenate([rng.normal(size=(40, 8)) * 0.05 + 1, rng.normal(size=(1, 8)) * 3]).astype(np.float32))
    sizes = np.full((41, 2), 64)
    sizes[3] = (640, 64)
    found = {o.index: o.reason for o in find_outliers(nearest(unit, 5)[1], sizes)}
    assert 40 in found and "far from every other image" in found[40]
    assert 3 in found and "aspect ratio" in found[3]
    assert len(found) == 2


def test_imbalance_counts_ratio_and_warning():
    calm = imbalance(["a", "b"], np.array([0, 0, 1, 1]))
    assert calm.to_dict() == {"counts": {"a": 2, "b": 2}, "ratio": 1.0, "warning": None}
    heavy = imbalance(["a", "b"], np.array([0] * 9 + [1]))
    assert heavy.ratio == 9.0 and "'a' has 9 images but 'b' only 1" in heavy.warning


def test_cli_json_has_the_documented_keys_and_out_writes_sheets(tmp_path, capsys):
    root = make_doctor_dataset(tmp_path / "data")
    (root / "train" / "red" / "broken.png").write_bytes(b"not an image")
    code = cli_main(["doctor", str(root), "--variant", "b0", "--weights", "random", "--folds", "3", "--device", "cpu", "--json", "--out", str(tmp_path / "report")])
    out, err = capsys.readouterr()
    assert code == 0
    assert "train first" in err.lower() or "train a model" in err.lower()
    data = json.loads(out)
    assert set(data) == {"images", "classes", "label_issues", "duplicates", "outliers", "imbalance", "unreadable"}
    assert data["classes"] == ["blue", "green", "red"]
    assert set(data["label_issues"][0]) == {"path", "given", "suggested", "score"}
    assert set(data["duplicates"][0]) == {"paths", "similarity", "across_splits"}
    assert set(data["imbalance"]) == {"counts", "ratio", "warning"}
    assert data["unreadable"] == [{"path": "train/red/broken.png", "error": "not an image (or a format we cannot read)"}]
    saved = json.loads((tmp_path / "report" / "report.json").read_text())
    assert saved["files"][MISLABELLED]["sha256"]
    assert (tmp_path / "report" / "label_issues.png").is_file() and (tmp_path / "report" / "duplicates.png").is_file()


def test_cli_refuses_model_together_with_variant(tmp_path, capsys):
    assert cli_main(["doctor", str(tmp_path), "--model", "x.pt", "--variant", "b0"]) == 2
    assert "either --model" in capsys.readouterr().err


def test_near_duplicates_need_the_pixels_to_agree_too():
    # A network trained on the data makes a class's features alike: features alone grouped up to 50
    # different digits. A vetoed pair stays apart; equal files are copies whatever the pixels say.
    unit = normalised(np.array([[1.0, 0.0], [1.0, 0.001], [0.0, 1.0], [0.0, 1.0]], np.float32))
    hashes, splits = ["a", "b", "c", "c"], ["train"] * 4
    assert [g.members for g in find_duplicates(nearest(unit, 3), hashes, splits)] == [[0, 1], [2, 3]]
    never = find_duplicates(nearest(unit, 3), hashes, splits, same_picture=lambda i, j: False)
    assert [g.members for g in never] == [[2, 3]]


def test_the_pixel_check_knows_a_resized_re_encoded_copy_from_another_picture(tmp_path):
    from PIL import Image, ImageEnhance
    from sklearn.datasets import load_sample_image

    from model.doctor.pixel_check import PixelCheck

    photo = Image.fromarray(load_sample_image("china.jpg"))  # 640×427, a real photograph
    photo.save(tmp_path / "original.png")
    copy = ImageEnhance.Brightness(photo.resize((384, 256), Image.Resampling.BICUBIC)).enhance(0.8)
    copy.save(tmp_path / "copy.jpg", quality=70)
    w, h = photo.size
    photo.crop((w // 5, h // 5, w, h)).resize(photo.size).save(tmp_path / "another_framing.png")
    Image.fromarray(load_sample_image("flower.jpg")).save(tmp_path / "flower.png")
    check = PixelCheck([tmp_path / n for n in ("original.png", "copy.jpg", "another_framing.png", "flower.png")])
    assert check.same_picture(0, 1)
    assert not check.same_picture(0, 2) and not check.same_picture(0, 3)
    assert check.thumbnails_made == 4
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "flat_red.png")
    Image.new("RGB", (60, 60), (30, 30, 200)).save(tmp_path / "flat_blue.jpg")
    flat = PixelCheck([tmp_path / "flat_red.png", tmp_path / "flat_blue.jpg", tmp_path / "original.png"])
    assert flat.same_picture(0, 1) and not flat.same_picture(0, 2)  # no pattern: the features decide
