"""Classification speed: EfficientNet Studio's Predictor against the plain torchvision recipe.

The reference is what a Python user would write::

    model = efficientnet_b0(weights=...).eval(); tf = weights.transforms()
    for p in paths: model(tf(Image.open(p).convert("RGB"))[None])

Both run in this process, on the same photo-sized JPEGs (real photographs from
scikit-learn, see bench/photos.py) and the same weights. ImageNet weights
cannot be downloaded here, so the weights are random with BatchNorm statistics
measured on the photos (a fresh random EfficientNet gives near-constant logits,
which would make the agreement check meaningless). Prints, per variant:
batch images/s ratio, one-image latency ratio, and the agreement of top-1/top-5
and the largest probability difference; 'exact' is the Predictor with
full-size JPEG decoding, whose pixels equal the reference's. Run: ``python bench/classify.py [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.photos import make_photos  # noqa: E402
from model.classifier import Classifier, imagenet_class_names  # noqa: E402
from model.network import build_model  # noqa: E402
from model.predict import Predictor  # noqa: E402
from model.variants import get_variant  # noqa: E402


def calibrated_model(variant: str, calibration: torch.Tensor) -> torch.nn.Module:
    """Random weights made to behave like trained ones for timing and agreement checks.

    BatchNorm statistics are measured on the photos (so activations have a
    trained network's scale instead of vanishing into denormals), and the head
    is scaled so the logits spread like a confident classifier's (std ≈ 3).
    """
    torch.manual_seed(0)
    net = build_model(variant)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    net.train()
    with torch.no_grad():
        net(calibration)
        net.eval()
        spread = net(calibration).std().item()
        net.classifier[-1].weight.mul_(3.0 / max(spread, 1e-12))
    return net


def reference_probs(model, tf, path) -> torch.Tensor:
    """The plain recipe, path to probabilities."""
    with torch.no_grad():
        return model(tf(Image.open(path).convert("RGB"))[None]).softmax(1)[0]


def dense(prediction) -> torch.Tensor:
    probs = torch.zeros(1000)
    probs[torch.tensor(prediction.indices)] = torch.tensor(prediction.scores)
    return probs


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_variant(variant: str, photos: list[Path], single_repeats: int) -> dict:
    v = get_variant(variant)
    tf = v.weights_enum.transforms()
    calibration = torch.stack([tf(Image.open(p).convert("RGB")) for p in photos[:8]])
    model = calibrated_model(variant, calibration)
    classifier = Classifier(model, v, imagenet_class_names(variant), v.eval_preprocessing, "calibrated random")

    t0 = time.perf_counter()
    predictor = Predictor.from_classifier(classifier, device="cpu")
    setup = time.perf_counter() - t0
    predictor.predict(photos[:2])  # warm session
    exact = Predictor.from_classifier(classifier, device="cpu", exact=True)

    # Batch throughput (the reference gets a warm-up image too).
    reference_probs(model, tf, photos[-1])
    start = time.perf_counter()
    ref = [reference_probs(model, tf, p) for p in photos]
    ref_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ours = predictor.predict(photos, top_k=1000)
    our_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ours_exact = exact.predict(photos, top_k=1000)
    exact_seconds = time.perf_counter() - start

    # Agreement with the reference.
    max_diff, exact_diff, top1, top5 = 0.0, 0.0, 0, 0
    for r, o, e in zip(ref, ours, ours_exact, strict=True):
        max_diff = max(max_diff, float((dense(o) - r).abs().max()))
        exact_diff = max(exact_diff, float((dense(e) - r).abs().max()))
        top1 += int(o.indices[0] == int(r.argmax()))
        top5 += int(set(o.indices[:5]) == set(r.topk(5).indices.tolist()))

    # One image, path to top-5.
    one = photos[0]
    ref_single = median_seconds(lambda: reference_probs(model, tf, one).topk(5), single_repeats)
    our_single = median_seconds(lambda: predictor.predict([one], top_k=5), single_repeats)
    exact_single = median_seconds(lambda: exact.predict([one], top_k=5), single_repeats)
    return {
        "variant": variant, "images": len(photos), "runtime": predictor.runner.name,
        "setup_s": setup,
        "ref_ips": len(photos) / ref_seconds, "our_ips": len(photos) / our_seconds,
        "exact_ips": len(photos) / exact_seconds, "exact_max_prob_diff": exact_diff,
        "ref_single_ms": ref_single * 1e3, "our_single_ms": our_single * 1e3, "exact_single_ms": exact_single * 1e3,
        "top1_agree": f"{top1}/{len(photos)}", "top5_agree": f"{top5}/{len(photos)}", "max_prob_diff": max_diff,
    }


def main() -> None:
    # Real (trained) weights have no denormal activations; random ones can, and
    # they slow eager torch ~100× on x86. Flushing them keeps the comparison fair.
    torch.set_flush_denormal(True)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="B0 only, fewer images")
    parser.add_argument("--variants", default="b0,b3,b7")
    args = parser.parse_args()
    variants = ["b0"] if args.quick else args.variants.split(",")
    counts = {"b0": 48, "b1": 32, "b2": 32, "b3": 24, "b4": 16, "b5": 12, "b6": 8, "b7": 8}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; CPU; photos 1024×768 JPEG")
    print(f"{'variant':8}{'images':>7}{'runtime':>8}{'ref img/s':>11}{'ours img/s':>11}{'batch ×':>9}"
          f"{'ref 1-img ms':>13}{'ours ms':>9}{'1-img ×':>9}{'top1':>7}{'top5':>7}{'max Δp':>10}"
          f"{'exact ×':>9}{'exact 1-img ×':>14}{'exact Δp':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        photos = make_photos(Path(tmp) / "photos", 12 if args.quick else 48)
        for variant in variants:
            n = 12 if args.quick else counts[variant]
            r = bench_variant(variant, photos[:n], single_repeats=5 if args.quick else 15)
            print(f"{r['variant']:8}{r['images']:>7}{r['runtime']:>8}{r['ref_ips']:>11.1f}{r['our_ips']:>11.1f}"
                  f"{r['our_ips'] / r['ref_ips']:>8.2f}×{r['ref_single_ms']:>13.1f}{r['our_single_ms']:>9.1f}"
                  f"{r['ref_single_ms'] / r['our_single_ms']:>8.2f}×{r['top1_agree']:>7}{r['top5_agree']:>7}"
                  f"{r['max_prob_diff']:>10.1e}{r['exact_ips'] / r['ref_ips']:>8.2f}×"
                  f"{r['ref_single_ms'] / r['exact_single_ms']:>13.2f}×{r['exact_max_prob_diff']:>10.1e}",
                  flush=True)


if __name__ == "__main__":
    main()
