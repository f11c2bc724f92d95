"""``python -m model info``: the B0-B7 table and whether each variant's ImageNet weights are on disk."""

from __future__ import annotations

import argparse

from model.cli.common import add_json_flag, print_json
from model.core.variants import VARIANTS

COLUMNS = ("variant", "params", "gflops", "resolution", "top1", "weights_cached")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "info",
        help="list EfficientNet B0-B7 with size, cost, accuracy and cached weights",
        description="One row per variant: parameters, GFLOPs, native resolution, ImageNet top-1 and "
        "whether its ImageNet weights are in the cache.",
    )
    add_json_flag(parser, "the table")
    parser.set_defaults(run=run)
    return parser


def variant_rows() -> list[dict]:
    """One plain dict per variant with the ``COLUMNS`` keys."""
    from model.nets.weights import is_imagenet_cached

    return [
        {
            "variant": v.name,
            "params": v.params,
            "gflops": v.gflops,
            "resolution": v.resolution,
            "top1": v.top1,
            "weights_cached": is_imagenet_cached(v),
        }
        for v in VARIANTS.values()
    ]


def run(args: argparse.Namespace) -> int:
    rows = variant_rows()
    if args.json:
        print_json(rows)
        return 0
    header = f"{'variant':<8}{'params':>12}{'GFLOPs':>9}{'resolution':>12}{'top-1 %':>9}  weights"
    print(header)
    for r in rows:
        cached = "cached" if r["weights_cached"] else "not downloaded"
        print(f"{r['variant']:<8}{r['params']:>12,}{r['gflops']:>9.2f}{r['resolution']:>12}{r['top1']:>9.2f}  {cached}")
    return 0
