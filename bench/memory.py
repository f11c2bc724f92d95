"""Peak memory (RSS) while classifying many photos with B0 on the CPU: it should stay flat.

    python bench/memory.py            # 50, 200 and 500 images
    python bench/memory.py --quick    # 20, 50 and 100 images

Each count runs in a fresh Python process, so the peaks are independent of
one another and of this parent (which imports neither torch nor Pillow, and
stays small: a spawned child's ``ru_maxrss`` starts from its parent's).
The child builds B0 with random weights (seeded, so its ONNX graph is exported
once, by a preparation process, into a temporary cache and then only loaded),
wraps it in a ``Predictor`` on the CPU, reads its current RSS from
/proc/self/statm (the baseline, after the model is loaded), resets the
kernel's high-water mark, and consumes ``predict_iter`` as the GUI does,
keeping every ``Prediction``. The peak is ``getrusage(RUSAGE_SELF).ru_maxrss``
at the end. Photos are ~50 distinct 1024×768 JPEGs (bench/photos.py) repeated
up to the count; the predictor decodes each path anew.

Flat means: the growth over the baseline for the largest count is about the
growth for the smallest one (ratio ≈ 1), i.e. memory does not scale with the
number of images.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DISTINCT_PHOTOS = 50
SEED = 0
MiB = 1024 * 1024


def current_rss_bytes() -> int:
    """Resident set size now, from /proc/self/statm (pages × page size)."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def reset_peak() -> bool:
    """Restart the high-water mark at the current RSS (Linux ≥ 4.0), so the peak that
    follows belongs to classification and not to building the network or the session."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def seeded_predictor():
    """B0 with seeded random weights in a CPU Predictor (the graph cache is the child's env)."""
    import torch

    from model.nets.classifier import Classifier, imagenet_class_names
    from model.nets.network import build_model
    from model.inference.predict import Predictor
    from model.core.variants import get_variant

    torch.manual_seed(SEED)
    v = get_variant("b0")
    classifier = Classifier(build_model("b0").eval(), v, imagenet_class_names("b0"), v.eval_preprocessing, "random")
    return Predictor.from_classifier(classifier, device="cpu")


def child_prepare(photos: Path) -> None:
    """Write the distinct photos and export the graph once, outside any measured process."""
    sys.path.insert(0, str(ROOT))
    from bench.photos import make_photos

    make_photos(photos, DISTINCT_PHOTOS)
    seeded_predictor()


def child_measure(photos: Path, count: int) -> None:
    sys.path.insert(0, str(ROOT))
    distinct = sorted(str(p) for p in photos.glob("*.jpg"))
    paths = [distinct[i % len(distinct)] for i in range(count)]
    predictor = seeded_predictor()
    setup_peak = peak_rss_bytes()
    baseline = current_rss_bytes()
    was_reset = reset_peak()
    results = []
    for prediction in predictor.predict_iter(paths, top_k=5):  # streaming, as the GUI's worker does
        results.append(prediction)
    end = current_rss_bytes()
    peak = peak_rss_bytes()
    assert len(results) == count and all(p.ok for p in results), "every photo should classify"
    print(json.dumps({
        "count": count, "runtime": predictor.runner.name, "lanes": predictor.lanes,
        "setup_peak": setup_peak, "baseline": baseline, "peak": peak, "end": end, "reset": was_reset,
    }))


def run_child(*args: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20, 50 and 100 images")
    parser.add_argument("--counts", help="comma-separated image counts (overrides --quick)")
    parser.add_argument("--child", choices=("prepare", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--photos", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "prepare":
        child_prepare(args.photos)
        return 0
    if args.child == "measure":
        child_measure(args.photos, args.count)
        return 0

    counts = [int(c) for c in args.counts.split(",")] if args.counts else ([20, 50, 100] if args.quick else [50, 200, 500])
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        photos = Path(tmp) / "photos"
        env = dict(os.environ)
        # Throwaway weights: their graph goes to a temporary cache, never the user's.
        env["EFFICIENTNET_STUDIO_CACHE"] = str(Path(tmp) / "cache")
        run_child("--child", "prepare", "--photos", str(photos), env=env)
        rows = [json.loads(run_child("--child", "measure", "--photos", str(photos), "--count", str(n), env=env))
                for n in counts]

    first = rows[0]
    print(f"B0, CPU, random weights; runtime {first['runtime']}, {first['lanes']} lane(s); "
          f"{DISTINCT_PHOTOS} distinct 1024×768 JPEGs repeated; one fresh process per count")
    print(f"{'images':>7}{'setup peak MiB':>16}{'baseline MiB':>14}{'peak MiB':>10}{'peak−baseline':>15}{'RSS at end':>12}")
    for r in rows:
        print(f"{r['count']:>7}{r['setup_peak'] / MiB:>16.0f}{r['baseline'] / MiB:>14.0f}{r['peak'] / MiB:>10.0f}"
              f"{(r['peak'] - r['baseline']) / MiB:>15.1f}{r['end'] / MiB:>12.0f}")
    growth_small = max(first["peak"] - first["baseline"], 1)
    growth_large = rows[-1]["peak"] - rows[-1]["baseline"]
    print(f"growth for {rows[-1]['count']} images ÷ growth for {first['count']} images: "
          f"{growth_large / growth_small:.2f}× ({rows[-1]['count'] // first['count']}× the images)")
    if not all(r["reset"] for r in rows):
        print("note: /proc/self/clear_refs was not writable, so the peaks include building the network and session")
    return 0


if __name__ == "__main__":
    sys.exit(main())
