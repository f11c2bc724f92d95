"""``python -m model evaluate BUNDLE DATA_DIR``: accuracy, confusion matrix, per-class metrics, worst mistakes."""

from __future__ import annotations

import argparse

from model.cli.arg_types import non_negative_int, positive_int
from model.cli.common import ProgressBar, add_device_flag, add_json_flag, print_json


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="measure a trained model bundle on a folder of labelled images",
        description="Evaluate BUNDLE (a model.pt from training) on DATA_DIR (one sub-folder per class; "
        "its test/ part when it has train/ and test/, else its val/ part when it has train/ and val/).",
    )
    p.add_argument("bundle", metavar="BUNDLE", help="model bundle (.pt) written by training")
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder with one sub-folder of images per class")
    p.add_argument("--batch-size", type=positive_int, default=None, help="images per batch (default: 32)")
    p.add_argument("--mistakes", type=non_negative_int, default=10, help="how many of the worst mistakes to list (default: 10)")
    p.add_argument(
        "--tta",
        action="store_true",
        help="also report test-time augmentation (mirror when the model trained with flips, plus a slight zoom); "
        "slower, reported separately",
    )
    add_device_flag(p)
    add_json_flag(p, "the evaluation")
    p.set_defaults(run=run)


def format_confusion(classes: list[str], matrix: list[list[int]]) -> str:
    """A text table: rows are true classes, columns predicted ones."""
    corner = "true \\ predicted"
    width = max(6, max(len(c) for c in classes) + 1, max(len(str(v)) for row in matrix for v in row) + 1)
    # The row labels have their own column, as wide as the corner's words: the counts line up under their names.
    label = max(len(corner), max(len(c) for c in classes)) + 1
    head = corner.ljust(label) + "".join(c[: width - 1].rjust(width) for c in classes)
    rows = [c.ljust(label) + "".join(str(v).rjust(width) for v in row) for c, row in zip(classes, matrix)]
    return "\n".join([head, *rows])


def run(args: argparse.Namespace) -> int:
    from model.training.data import held_out_test_dir
    from model.training.evaluate import evaluate

    bar: ProgressBar | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = ProgressBar(0 if args.json else total, "evaluating")
        bar.update(done)

    ev = evaluate(args.bundle, args.data_dir, device=args.device, progress=progress, batch_size=args.batch_size, tta=args.tta)
    if bar is not None:
        bar.close()
    if args.json:
        print_json(ev.to_dict())
        return 0
    test_dir = held_out_test_dir(args.data_dir)
    which = f" of the test set {test_dir}" if test_dir is not None else ""
    print(
        f"Accuracy {100 * ev.accuracy:.2f}% on {ev.num_images} images{which} (macro F1 {ev.macro_f1:.3f}, "
        f"mean loss {ev.loss:.3f}, ECE {ev.ece:.3f} at temperature {ev.temperature:.2f})"
    )
    if ev.tta is not None:
        t = ev.tta
        print(
            f"With test-time augmentation ({t['views']} views): accuracy {100 * t['accuracy']:.2f}%, "
            f"macro F1 {t['macro_f1']:.3f}, mean loss {t['loss']:.3f}, ECE {t['ece']:.3f}"
        )
    print()
    print(format_confusion(ev.class_names, ev.confusion_matrix))
    print()
    name_w = max(5, max(len(c) for c in ev.class_names))
    print(f"{'class'.ljust(name_w)}  precision  recall     f1  support")
    for name, m in ev.per_class.items():
        print(f"{name.ljust(name_w)}  {m['precision']:9.3f}  {m['recall']:6.3f}  {m['f1']:5.3f}  {m['support']:7d}")
    if ev.mistakes:
        shown = ev.mistakes[: max(0, args.mistakes)]
        print(f"\nWorst {len(shown)} of {len(ev.mistakes)} mistakes:")
        for m in shown:
            print(f"  {m.loss:6.2f}  {m.true_label} → {m.predicted_label} ({100 * m.confidence:.0f}%)  {m.path}")
    for path, reason in ev.skipped:
        print(f"skipped {path}: {reason}")
    return 0
