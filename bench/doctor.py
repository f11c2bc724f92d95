"""How well the dataset doctor finds errors planted in real handwriting, and how fast it is.

    python bench/doctor.py WORK_DIR               # plant, train a B0 (full mode, 64 px), diagnose
    python bench/doctor.py WORK_DIR --epochs 10   # WORK_DIR is reused: an existing run is not retrained
    python bench/doctor.py WORK_DIR --speed-only  # only the 10,000-image timing on synthetic features

The data are scikit-learn's handwritten digits (bench/make_real_dataset.py) in a
``train/`` + ``val/`` layout, with errors planted on purpose and written down in
``WORK_DIR/truth.json``:

- 60 training images moved into a wrong class folder (flipped labels);
- 30 training images copied into the same class, resized and re-encoded as JPEG (near duplicates);
- 20 training images copied into ``val/`` (train/val leaks), half of them re-encoded.

A B0 is trained from random weights on the noisy folder (full mode, 64 px), then
``diagnose`` runs with that bundle. Printed: recall of the flipped images among the
top 120 label issues (goal ≥ 70 %) and the precision there, the share of planted
duplicates found (goal ≥ 90 %), the leaks found and marked ``across_splits`` (goal:
all), and whether any file changed (goal: none). The speed part times the doctor's
own work (label issues, duplicates, outliers, imbalance) on 10,000 synthetic
feature rows (goal < 30 s on 2 cores); features are cached, so that is what a
second run costs. Last, the embedding map is filled with 20,000 points and redrawn
(it should stay fluid: a redraw well under 100 ms).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.make_real_dataset import build  # noqa: E402

FLIPS, NEAR_DUPES, LEAKS, TOP = 60, 30, 20, 120


def plant(data: Path, seed: int = 0) -> dict:
    """Digits in train/ + val/ with flipped labels, near duplicates and leaks; what was planted."""
    build(data, size=32, test_fraction=0.25, seed=seed)
    (data / "test").rename(data / "val")
    rng = np.random.default_rng(seed + 1)
    train = sorted((data / "train").glob("*/*.png"))
    picks = rng.permutation(len(train))
    flipped, dupes, leaks = [], [], []
    for i in picks[:FLIPS]:
        src = train[i]
        label = int(src.parent.name)
        wrong = int((label + rng.integers(1, 10)) % 10)
        dst = data / "train" / str(wrong) / src.name
        src.rename(dst)
        flipped.append({"path": str(dst.relative_to(data)), "true": str(label), "given": str(wrong)})
    for i in picks[FLIPS : FLIPS + NEAR_DUPES]:
        src = train[i]
        dst = src.with_name(f"copy_{src.stem}.jpg")
        Image.open(src).convert("RGB").resize((40, 40), Image.BICUBIC).save(dst, quality=85)
        dupes.append([str(src.relative_to(data)), str(dst.relative_to(data))])
    for k, i in enumerate(picks[FLIPS + NEAR_DUPES : FLIPS + NEAR_DUPES + LEAKS]):
        src = train[i]
        if k % 2:
            dst = data / "val" / src.parent.name / f"leak_{src.stem}.jpg"
            Image.open(src).convert("RGB").save(dst, quality=90)
        else:
            dst = data / "val" / src.parent.name / f"leak_{src.name}"
            shutil.copyfile(src, dst)
        leaks.append([str(src.relative_to(data)), str(dst.relative_to(data))])
    truth = {"flipped": flipped, "near_duplicates": dupes, "leaks": leaks}
    (data.parent / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def fingerprint(data: Path) -> dict[str, str]:
    """Every file under ``data`` (outside .studio/) → its SHA-256."""
    return {
        str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(data.rglob("*"))
        if p.is_file() and ".studio" not in p.relative_to(data).parts
    }


def train_bundle(data: Path, run: Path, epochs: int) -> Path:
    bundle = run / "model.pt"
    if bundle.is_file():
        print(f"reusing {bundle}")
        return bundle
    cmd = [sys.executable, "-m", "model", "train", str(data), "--out", str(run), "--variant", "b0",
           "--weights", "random", "--mode", "full", "--image-size", "64", "--epochs", str(epochs), "--device", "cpu"]
    print("training:", " ".join(cmd[2:]), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    print(f"trained in {time.perf_counter() - t0:.0f} s")
    return bundle


def _finish(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def _group_of(report, path: str) -> set[frozenset[str]]:
    return {frozenset(d.paths) for d in report.duplicates if path in d.paths}


def quality(work: Path, epochs: int, untrained: bool = False) -> None:
    from model.doctor.features import FeatureSource
    from model.doctor.run import diagnose, diagnose_all

    data = work / "data"
    truth_file = work / "truth.json"
    truth = json.loads(truth_file.read_text()) if truth_file.is_file() else plant(data)
    before = fingerprint(data)
    t0 = time.perf_counter()
    if untrained:  # a lower bound: random-weight features (the doctor warns that they mean little)
        report = _finish(diagnose(data, FeatureSource(None, "b0", "random", image_size=64), device="cpu"))
    else:
        bundle = train_bundle(data, work / "run", epochs)
        t0 = time.perf_counter()
        report = diagnose_all(data, model=bundle, device="cpu")
    took = time.perf_counter() - t0
    after = fingerprint(data)

    flipped = {f["path"] for f in truth["flipped"]}
    top = [issue.path for issue in report.label_issues[:TOP]]
    hits = sum(p in flipped for p in top)
    all_hits = sum(issue.path in flipped for issue in report.label_issues)
    dupes_found = sum(any(set(pair) <= g for g in _group_of(report, pair[0])) for pair in truth["near_duplicates"])
    leaks_found = sum(
        any(set(pair) <= set(d.paths) and d.across_splits for d in report.duplicates) for pair in truth["leaks"]
    )
    print(f"diagnosed {report.images} images in {took:.1f} s (features included)")
    print(f"label issues flagged: {len(report.label_issues)}; flipped among them: {all_hits}/{len(flipped)}")
    print(f"top {TOP}: recall {hits / len(flipped):.1%} of the {len(flipped)} flipped (goal ≥ 70%), precision {hits / max(1, len(top)):.1%}")
    print(f"near duplicates found: {dupes_found}/{len(truth['near_duplicates'])} = {dupes_found / len(truth['near_duplicates']):.1%} (goal ≥ 90%)")
    print(f"train/val leaks found and marked across_splits: {leaks_found}/{len(truth['leaks'])} (goal: all)")
    print(f"duplicate groups: {len(report.duplicates)}, outliers: {len(report.outliers)}")
    print(f"files changed by the doctor: {sum(before.get(k) != v for k, v in after.items()) + len(set(before) ^ set(after))} (goal: 0)")


def speed(n: int = 10_000, classes: int = 10, dim: int = 1280, seed: int = 0) -> None:
    """The doctor's own work on cached features: synthetic clusters, 5 % of labels flipped."""
    import torch

    from model.doctor.run import analyse

    torch.set_num_threads(2)
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dim)).astype(np.float32)
    labels = rng.integers(0, classes, n)
    feats = centres[labels] + rng.normal(scale=2.0, size=(n, dim)).astype(np.float32)
    given = labels.copy()
    flip = rng.choice(n, n // 20, replace=False)
    given[flip] = (given[flip] + 1) % classes
    sizes = np.full((n, 2), 64)
    splits = ["train"] * n
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = analyse(feats, given, [str(c) for c in range(classes)], splits, sizes, hashes=[f"{i}" for i in range(n)])
    took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    found = len(set(np.flatnonzero(result.issue_mask)) & set(flip.tolist()))
    load = os.getloadavg()[0]
    print(f"{n} images × {dim} features: the doctor's own work took {took:.1f} s wall, {cpu:.1f} s of CPU "
          f"(goal < 30 s on 2 cores; load average {load:.1f}); {found}/{len(flip)} flipped labels flagged")


def map_speed(n: int = 20_000, classes: int = 10, seed: int = 0) -> None:
    """The embedding map with ``n`` points: time to fill it, to redraw it, and to find the point under the mouse."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from types import SimpleNamespace

    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from app.pages.doctor.embedding import EmbeddingMap

    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    xy = (rng.normal(size=(n, 2)) + labels[:, None] * 0.7).astype(np.float32)
    items = [SimpleNamespace(label=int(y), rel=f"{y}/{i}.png") for i, y in enumerate(labels)]
    report = SimpleNamespace(items=items, classes=[str(c) for c in range(classes)], embedding=xy, embedding_method="PCA",
                             flagged_indices=lambda: set(range(0, n, 50)))
    view = EmbeddingMap(lambda i: None)
    view.resize(700, 600)
    view.show()
    t0 = time.perf_counter()
    view.show_report(report)
    app.processEvents()
    fill = time.perf_counter() - t0
    frames = []
    for _ in range(10):
        t0 = time.perf_counter()
        view.plot.grab()  # a full repaint of the scatter
        frames.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for k in range(50):
        view.dots.pointsAt(QPointF(float(xy[k, 0]), float(xy[k, 1])))
    hover = (time.perf_counter() - t0) / 50
    print(f"embedding map, {n} points: filled in {fill * 1000:.0f} ms, a full redraw takes {np.median(frames) * 1000:.0f} ms "
          f"(median of 10), finding the point under the mouse {hover * 1000:.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", type=Path, help="working folder (data/, run/ and truth.json are made there)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--map-only", action="store_true", help="only the embedding map's timing at 20,000 points")
    ap.add_argument("--untrained", action="store_true", help="random-weight B0 features instead of a trained bundle (a lower bound)")
    a = ap.parse_args()
    if a.map_only:
        map_speed()
        return 0
    if not a.speed_only:
        a.work.mkdir(parents=True, exist_ok=True)
        quality(a.work, a.epochs, a.untrained)
    speed()
    map_speed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
