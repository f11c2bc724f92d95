"""``python -m model doctor DATA_DIR``: wrong labels, duplicates, leaks, outliers and imbalance in a data set.

It only reads: the data set is never changed (the feature cache lives in
``DATA_DIR/.studio/``, which every scanner skips). Fixing is done in the app.
"""

from __future__ import annotations

import argparse
import sys

from model.cli.arg_types import output_folder, positive_int
from model.cli.common import ProgressBar, add_device_flag, add_json_flag, print_json

SHOWN = 20  # findings of each kind listed in the text output


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="find wrong labels, duplicates, train/val leaks, outliers and imbalance in a data set",
        description="Diagnose DATA_DIR (one sub-folder per class, optionally train/ val/ test/) with a model's "
        "features. Nothing in DATA_DIR is changed.",
    )
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder with one sub-folder of images per class")
    p.add_argument("--model", metavar="BUNDLE", default=None, help="a model bundle (model.pt) trained on this data: the best features")
    p.add_argument("--variant", default=None, help="EfficientNet variant when there is no bundle (default: b0)")
    p.add_argument("--weights", default=None, help="imagenet (default), random or a weights FILE for --variant")
    p.add_argument("--folds", type=positive_int, default=5, help="folds of the out-of-fold linear head (default: 5)")
    p.add_argument("--out", metavar="REPORT_DIR", type=output_folder, default=None, help="write report.json and PNG contact sheets here")
    add_device_flag(p)
    add_json_flag(p, "the report")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from model.doctor.features import FeatureSource
    from model.doctor.run import diagnose

    if args.model is not None and (args.variant is not None or args.weights is not None):
        print("error: use either --model BUNDLE or --variant/--weights, not both.", file=sys.stderr)
        return 2
    source = FeatureSource(args.model, args.variant or "b0", args.weights or "imagenet")
    if source.is_random:
        from model.doctor.features import RANDOM_WARNING

        print(f"warning: {RANDOM_WARNING}", file=sys.stderr)
    bar: ProgressBar | None = None
    gen = diagnose(args.data_dir, source, folds=args.folds, device=args.device)
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            report = stop.value
            break
        if event.total > 1 and not args.json:
            if bar is None or bar.total != event.total:
                bar = ProgressBar(event.total, "features")
            bar.update(event.done)
    if bar is not None:
        bar.close()
    written = []
    if args.out:
        from model.doctor.sheets import write_sheets

        written = [report.save(args.out), *write_sheets(report, args.out)]
    if args.json:
        print_json(report.to_dict())
        return 0
    _print_text(report)
    for path in written:
        print(f"wrote {path}")
    return 0


def _print_text(report) -> None:
    print(f"{report.images} images in {len(report.classes)} classes, features from {report.model}.")
    from model.doctor.features import RANDOM_WARNING

    for w in report.warnings:
        if w != RANDOM_WARNING:  # said on stderr before the work started
            print(f"warning: {w}")
    print(f"\nLabel issues: {len(report.label_issues)}")
    for i in report.label_issues[:SHOWN]:
        print(f"  {i.score:.2f}  probably {i.suggested}, labelled {i.given}  {i.path}")
    leaks = sum(d.across_splits for d in report.duplicates)
    print(f"\nDuplicate groups: {len(report.duplicates)} ({leaks} across splits)")
    for d in report.duplicates[:SHOWN]:
        print(f"  {d.similarity:.3f}{'  LEAK' if d.across_splits else ''}  " + "  ".join(d.paths))
    print(f"\nOutliers: {len(report.outliers)}")
    for o in report.outliers[:SHOWN]:
        print(f"  {o.score:.2f}  {o.path}: {o.reason}")
    counts = ", ".join(f"{c} {n}" for c, n in report.imbalance.counts.items())
    print(f"\nImages per class: {counts} (largest/smallest {report.imbalance.ratio})")
    for path, error in report.unreadable:
        print(f"unreadable {path}: {error}")
