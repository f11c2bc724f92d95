"""Cost of the SE attention pass relative to a plain forward pass, on the CPU.

    python bench/attention.py            # B0 at 224 px and B4 at 380 px, 5 repetitions
    python bench/attention.py --quick    # B0 only, 3 repetitions

For each variant it times, in one process and on the same input: a plain
``model(x)`` under ``no_grad``; ``analyse_tensor`` without and with Grad-CAM
(the goal is under 1.5× the plain pass without Grad-CAM); then, after the
pass, the spatial map of every block (what a depth slider pays per step) and
the gate map. Random weights: timing does not depend on the values.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from model.explain.attention import AttentionResult, analyse_tensor  # noqa: E402
from model.nets.network import build_model  # noqa: E402
from model.core.variants import get_variant  # noqa: E402


def best_seconds(fns: dict, reps: int) -> dict[str, float]:
    """Best time of each function over ``reps`` interleaved rounds.

    Interleaving gives every function the same share of disturbances from
    other processes, and the minimum is the least disturbed run.
    """
    for fn in fns.values():
        fn()  # warm-up: first-call allocations and kernel selection
    best = {name: float("inf") for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def bench_variant(name: str, reps: int) -> None:
    variant = get_variant(name)
    model = build_model(variant).eval()
    x = torch.randn(1, 3, variant.resolution, variant.resolution)

    def plain():
        with torch.no_grad():
            model(x)

    best = best_seconds(
        {
            "plain": plain,
            "no_cam": lambda: analyse_tensor(model, x, with_gradcam=False),
            "with_cam": lambda: analyse_tensor(model, x),
        },
        reps,
    )
    base, no_cam, with_cam = best["plain"], best["no_cam"], best["with_cam"]

    result: AttentionResult = analyse_tensor(model, x)
    start = time.perf_counter()
    for depth in range(result.num_blocks):
        result.spatial_map(depth)
    all_maps = time.perf_counter() - start
    start = time.perf_counter()
    result.spatial_map(result.num_blocks // 2, kind="change")
    one_change = time.perf_counter() - start
    start = time.perf_counter()
    result.gate_map()
    gates = time.perf_counter() - start

    print(f"{variant.title} at {variant.resolution} px, {torch.get_num_threads()} threads, best of {reps}:")
    print(f"  plain forward              {base * 1e3:8.1f} ms   1.00×")
    print(f"  attention pass, no Grad-CAM {no_cam * 1e3:7.1f} ms   {no_cam / base:.2f}×  (goal < 1.5×)")
    print(f"  attention pass + Grad-CAM  {with_cam * 1e3:8.1f} ms   {with_cam / base:.2f}×")
    print(f"  all {result.num_blocks} block maps after it {all_maps * 1e3:6.1f} ms   "
          f"({all_maps / result.num_blocks * 1e3:.2f} ms per block; one 'change' map {one_change * 1e3:.2f} ms)")
    print(f"  gate map                   {gates * 1e3:8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="B0 only, 3 repetitions")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    for name in ("b0",) if args.quick else ("b0", "b4"):
        bench_variant(name, 3 if args.quick else 5)


if __name__ == "__main__":
    main()
