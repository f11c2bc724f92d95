"""``python -m model bench [--variants b0,b3,b7] [--device ...] [--json]``: speed per variant on this machine."""

from __future__ import annotations

import argparse

from model.cli.arg_types import image_size, positive_int
from model.cli.common import ProgressBar, add_device_flag, add_json_flag, print_json
from model.core.variants import VARIANT_NAMES, get_variant


def _variant_list(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one variant, e.g. b0,b3")
    try:
        return [get_variant(n).name for n in names]
    except Exception as e:  # StudioError names the valid choices
        raise argparse.ArgumentTypeError(str(e)) from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench", help="measure latency and throughput per variant on this machine",
        description="Time each variant's forward pass (random weights) with the runtime classification uses.",
    )
    p.add_argument("--variants", type=_variant_list, default=["b0", "b3", "b7"],
                   help=f"comma-separated variants (default: b0,b3,b7; all: {','.join(VARIANT_NAMES)})")
    add_device_flag(p)
    p.add_argument("--batch-size", type=positive_int, default=None,
                   help="images per timed pass for the throughput figure (default: 16 on a GPU, 8 on a CPU)")
    p.add_argument("--repeats", type=positive_int, default=10, help="timed passes; the median is reported (default: 10)")
    p.add_argument("--image-size", type=image_size, default=None, help="input size (default: each variant's native one)")
    p.add_argument("--runtime", choices=["auto", "torch", "onnx"], default="auto",
                   help="auto: ONNX Runtime on a CPU, torch on a GPU (what classification uses)")
    add_json_flag(p, "one object per variant as a JSON list")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from model.inference.benchmark import Measurement, measure_variants
    from model.nets.device import describe_device, resolve_device
    from model.core.events import Progress

    device = resolve_device(args.device)
    batch = args.batch_size or (16 if device.type == "cuda" else 8)
    bar = ProgressBar(1, "Measuring", min_total=1)
    rows: list[Measurement] = []
    for event in measure_variants(args.variants, device, batch_size=batch, repeats=args.repeats,
                                  image_size=args.image_size, runtime=args.runtime):
        if isinstance(event, Progress):
            bar.total = max(1, event.total)
            bar.update(event.done, event.message)
        elif isinstance(event, Measurement):
            rows.append(event)
    bar.close()
    if args.json:
        print_json([{
            "variant": m.variant, "device": m.device, "runtime": m.runtime, "image_size": m.image_size,
            "latency_ms": m.latency_ms_median, "images_per_sec": m.images_per_sec, "batch_size": m.batch_size,
            "lanes": m.lanes, "repeats": m.repeats,
        } for m in rows])
        return 0
    print(f"{describe_device(device)}; latency: median of {args.repeats} single images; "
          f"throughput: {batch} images per pass, as classification runs them (lanes > 1: one image at a time per core)")
    print(f"{'variant':<8}{'runtime':<8}{'size':>6}{'latency ms':>12}{'images/s':>10}{'lanes':>7}")
    for m in rows:
        print(f"{m.variant:<8}{m.runtime:<8}{m.image_size:>6}{m.latency_ms_median:>12.1f}{m.images_per_sec:>10.1f}"
              f"{m.lanes:>7}")
    return 0
