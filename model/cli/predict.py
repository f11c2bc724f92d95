"""``python -m model predict PATH…``: top-k ImageNet (or fine-tuned) labels for image files and folders."""

from __future__ import annotations

import argparse
import sys
import time

from model.cli.arg_types import positive_int
from model.cli.common import DownloadReporter, ProgressBar, add_device_flag, add_json_flag, print_json
from model.core.errors import StudioError
from model.core.variants import VARIANT_NAMES

# Below this many files a progress bar is more flicker than help.
PROGRESS_MIN_FILES = 8


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "predict",
        help="classify image files and folders",
        description="Classify images with EfficientNet: ImageNet labels by default, or a fine-tuned model "
        "bundle's labels with --model. Folders are searched recursively.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files and/or folders")
    parser.add_argument("--variant", type=str.lower, choices=VARIANT_NAMES, default=None, help="EfficientNet variant (default: b0)")
    parser.add_argument(
        "--weights",
        default=None,
        metavar="imagenet|random|FILE",
        help="ImageNet weights (default; downloaded once into torch's cache), random weights, or a .pth/.pt weights file",
    )
    parser.add_argument("--model", metavar="BUNDLE", default=None, help="a fine-tuned model bundle (.pt) made by training")
    parser.add_argument("--top-k", type=positive_int, default=5, help="how many labels per image (default: 5)")
    parser.add_argument(
        "--fast-decode",
        action="store_true",
        help="decode JPEGs at a reduced scale: about 1.2x faster on photos, but the slightly different "
        "pixels can reorder the lower-ranked labels",
    )
    add_device_flag(parser)
    add_json_flag(parser, "results (one object per file per line)")
    parser.set_defaults(run=run, usage_error=parser.error)
    return parser


def _load_predictor(args: argparse.Namespace):
    from model.inference.predict import Predictor

    if args.model:
        return Predictor.from_bundle(args.model, device=args.device, fast_decode=args.fast_decode)
    variant = args.variant or "b0"
    reporter = DownloadReporter(variant)
    try:
        return Predictor(
            variant, args.weights or "imagenet", device=args.device, progress=reporter, fast_decode=args.fast_decode
        )
    finally:
        reporter.close()


def _print_table(pred, out=None) -> None:
    out = out or sys.stdout  # looked up per call: sys.stdout may be replaced after import
    print(pred.path, file=out)
    if pred.error is not None:
        print(f"    error: {pred.error}", file=out)
        return
    for rank, (label, score) in enumerate(zip(pred.labels, pred.scores), start=1):
        print(f"    {rank:>2}  {score * 100:6.2f}%  {label}", file=out)


def _as_json(pred) -> dict:
    return {
        "path": pred.path,
        "predictions": [
            {"label": label, "index": index, "score": score}
            for label, index, score in zip(pred.labels, pred.indices, pred.scores)
        ],
        "error": pred.error,
    }


def run(args: argparse.Namespace) -> int:
    from model.core.faults import describe_os_error
    from model.imaging.images import iter_image_files

    if args.model and (args.weights or args.variant):
        args.usage_error("--model uses the bundle's own variant and weights; leave out --variant and --weights")
    unread: list[str] = []

    def unreadable(folder, error: OSError) -> None:
        # A folder we may not open is said, not skipped silently: its photos are missing from the results.
        unread.append(f"{folder}: {describe_os_error(error)}, not read")
        print(unread[-1], file=sys.stderr, flush=True)

    files = list(iter_image_files(args.paths, on_unreadable=unreadable))
    if not files:
        raise StudioError(f"No image files found in {', '.join(args.paths)}.")
    predictor = _load_predictor(args)

    start = time.perf_counter()
    bar = ProgressBar(len(files), "Classifying", min_total=PROGRESS_MIN_FILES)
    errors = 0
    for done, pred in enumerate(predictor.predict_iter(files, top_k=args.top_k), start=1):
        errors += pred.error is not None
        bar.clear()
        if args.json:
            print_json(_as_json(pred))
        else:
            _print_table(pred)
        bar.update(done)
    bar.close()
    if not args.json:
        c = predictor.classifier
        print(
            f"{len(files)} file(s), {errors} unreadable"
            + (f", {len(unread)} folder(s) not read" if unread else "")
            + f", in {time.perf_counter() - start:.1f} s "
            f"({c.variant.title}, {c.source}, {predictor.device}).",
            file=sys.stderr,
        )
    return 0
