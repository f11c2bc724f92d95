"""Which explanation to trust: every registered map's deletion/insertion AUC against a random map, and its cost.

    python bench/explain_faithfulness.py --model RUN/model.pt --data DIGITS/test
    python bench/explain_faithfulness.py --train DIGITS   # makes DIGITS with bench/make_real_dataset.py
                                                          # and trains B0 from scratch first (slow on a CPU)

The model should be a B0 trained from scratch on the digits of
``bench/make_real_dataset.py`` at 64 px, e.g.
``python -m model train DIGITS/train --out RUN --mode full --weights random --image-size 64 --epochs 10``.
On ``--per-class`` held-out images per class (from DATA, never seen in training)
it analyses each image, makes every method's default map (SE maps at the
deepest SE block with a grid of at least 4×4, CAMs at their default stage) for
the predicted class, and scores it by deletion and insertion AUC
(``model.explain.faithfulness``: 20 steps, constant mean-colour baseline). It prints the
mean AUCs, how often each map beats the random map on both curves, and the
seconds per image to make the map and to score it; then a Markdown table for
the README. The acceptance check: Grad-CAM's mean deletion AUC below the
random map's and its mean insertion AUC above it. A second section times the
scoring of one map, and of the random baseline (the mean of a few draws), for
B0 at 224 px (random weights: timing does not depend on the values).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from model.explain.attention import analyse_image, analyse_tensor  # noqa: E402
from model.explain.evidence import beats_random, random_on_its_grid  # noqa: E402
from model.explain.explainer import Explainer  # noqa: E402
from model.explain.methods import METHODS  # noqa: E402


def held_out(data: Path, per_class: int) -> list[Path]:
    """The first ``per_class`` images (sorted) of every class folder of ``data``."""
    files = []
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        files += sorted(folder.glob("*.png"))[:per_class]
    return files


def train_digits(root: Path, epochs: int) -> Path:
    """Make the digits at 64 px and train B0 from scratch on them (``model.engine.train``)."""
    from bench.make_real_dataset import build
    from model.engine import TrainConfig, TrainControl, train

    if not (root / "train").is_dir():
        build(root, size=64)
    out = root / "run"
    config = TrainConfig(data_dir=str(root / "train"), out_dir=str(out), variant="b0", weights="random",
                         mode="full", epochs=epochs, image_size=64)
    for event in train(config, TrainControl()):
        print(event, flush=True)
    return out / "model.pt"


def score_images(classifier, files: list[Path]) -> dict[str, dict[str, list[float]]]:
    """Per method: deletion and insertion AUCs, wins over random, and seconds per map and per score."""
    stats = {name: {"deletion": [], "insertion": [], "wins": [], "map_s": [], "score_s": []} for name in METHODS}
    correct = 0
    for n, path in enumerate(files, start=1):
        result = analyse_image(classifier, path)
        correct += int(result.label(result.target_classes[0]) == path.parent.name)
        explainer = Explainer(classifier.model, result)
        scores = {}
        for name in METHODS:
            start = time.perf_counter()
            smap = explainer.map(name)
            made = time.perf_counter()
            scores[name] = explainer.score(smap)
            stats[name]["map_s"].append(made - start)
            stats[name]["score_s"].append(time.perf_counter() - made)
        for name, s in scores.items():
            stats[name]["deletion"].append(s.deletion_auc)
            stats[name]["insertion"].append(s.insertion_auc)
            stats[name]["wins"].append(float(beats_random(s, random_on_its_grid(explainer, name))))
        print(f"\r{n}/{len(files)} images", end="", file=sys.stderr, flush=True)
    print(f"\naccuracy on these held-out images: {correct}/{len(files)}", file=sys.stderr)
    return stats


def report(stats: dict, where: dict[str, str]) -> bool:
    random = stats["random"]
    print("\n| method | map at | deletion AUC ↓ | insertion AUC ↑ | beats random on both | map s/image | score s/image |")
    print("|---|---|---|---|---|---|---|")
    for name, s in stats.items():
        wins = "—" if name == "random" else f"{np.mean(s['wins']):.0%}"
        print(f"| {METHODS[name].label} | {where[name]} | {np.mean(s['deletion']):.3f} | {np.mean(s['insertion']):.3f} "
              f"| {wins} | {np.mean(s['map_s']):.3f} | {np.mean(s['score_s']):.3f} |")
    cam = stats["gradcam"]
    ok = np.mean(cam["deletion"]) < np.mean(random["deletion"]) and np.mean(cam["insertion"]) > np.mean(random["insertion"])
    print(f"\nGrad-CAM deletion {np.mean(cam['deletion']):.3f} vs random {np.mean(random['deletion']):.3f}; "
          f"insertion {np.mean(cam['insertion']):.3f} vs random {np.mean(random['insertion']):.3f}: "
          + ("Grad-CAM beats random on both" if ok else "Grad-CAM does NOT beat random"))
    return ok


def cost_at_224(repeats: int) -> None:
    """Seconds to score one map (42 perturbed images) and the random baseline (``RANDOM_DRAWS`` maps) for B0
    at 224 px on the CPU, against one forward pass."""
    from model.explain.faithfulness import RANDOM_DRAWS
    from model.nets.network import build_model

    torch.manual_seed(0)
    model = build_model("b0", num_classes=1000).eval()
    x = torch.randn(1, 3, 224, 224)
    explainer = Explainer(model, analyse_tensor(model, x))
    smap, random_map = explainer.map("gradcam"), explainer.map("random")

    def forward():
        with torch.no_grad():
            model(x)

    def scorer(chosen):
        def score():
            explainer._cache = {}  # score afresh every time
            explainer.score(chosen)
        return score

    best = {}
    for name, fn in (("forward", forward), ("score", scorer(smap)), ("random", scorer(random_map))):
        fn()
        best[name] = min(_timed(fn) for _ in range(repeats))
    print(f"\nB0 at 224 px on the CPU ({torch.get_num_threads()} threads): one forward pass {best['forward']:.3f} s, "
          f"scoring one map {best['score']:.2f} s ({best['score'] / best['forward']:.0f}× a forward pass), "
          f"the random baseline ({RANDOM_DRAWS} draws) {best['random']:.2f} s")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a bundle (model.pt) trained on the digits")
    ap.add_argument("--data", type=Path, help="held-out class folders (DIGITS/test)")
    ap.add_argument("--train", type=Path, metavar="DIGITS", help="make the digits here and train B0 first")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--per-class", type=int, default=5, help="held-out images per class (default: 5)")
    ap.add_argument("--repeats", type=int, default=3, help="timing repetitions at 224 px (default: 3)")
    ap.add_argument("--skip-224", action="store_true", help="skip the 224 px timing")
    args = ap.parse_args()
    from model.nets.classifier import load_classifier

    torch.manual_seed(0)
    if args.train:
        args.model = train_digits(args.train, args.epochs)
        args.data = args.data or args.train / "test"
    if not (args.model and args.data):
        ap.error("give --model and --data, or --train")
    classifier = load_classifier(bundle=str(args.model))
    classifier.model.eval()
    files = held_out(args.data, args.per_class)
    stats = score_images(classifier, files)
    probe = Explainer(classifier.model, analyse_image(classifier, files[0]))
    where = {name: probe.map(name).source for name in METHODS}
    ok = report(stats, where)
    if not args.skip_224:
        cost_at_224(args.repeats)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
