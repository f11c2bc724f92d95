"""``python -m model attention-classes DATA_DIR --model BUNDLE --out DIR [--json]``.

Compares the SE gates of the classes of a folder (one sub-folder per class):
writes ``class_comparison.npz`` (class means per block, within-class spread,
divergence per block) and ``class_comparison.png`` (divergence over depth
above the class-mean heat map).
"""

from __future__ import annotations

import argparse

from model.cli.arg_types import output_folder, positive_int
from model.cli.common import ProgressBar, add_device_flag, add_json_flag, print_json
from model.explain.render import COLORMAP_NAMES, DEFAULT_COLORMAP


# class_comparison.npz and .png, with room to spare.
OUTPUT_BYTES = 16 * 2**20


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "attention-classes",
        help="compare the SE gates of the classes of a folder, block by block",
        description="Mean SE excitation per class and block, and where in depth the gates become class-specific.",
    )
    p.add_argument("data_dir", metavar="DATA_DIR", help="a folder with one sub-folder of images per class")
    p.add_argument("--model", required=True, metavar="BUNDLE", help="a fine-tuned model bundle (model.pt from `train`)")
    p.add_argument("--out", required=True, type=output_folder, metavar="DIR", help="folder for class_comparison.npz and .png")
    p.add_argument("--batch-size", type=positive_int, default=16, help="images per forward pass (default: 16)")
    p.add_argument("--cmap", choices=COLORMAP_NAMES, default=DEFAULT_COLORMAP, help="colormap of the heat map")
    add_device_flag(p)
    add_json_flag(p, "per-class counts and per-block divergence")
    p.set_defaults(run=run)


def _load(args: argparse.Namespace):
    """The bundle's ``Classifier`` (``model.nets.classifier.load_classifier``)."""
    from model.nets.classifier import load_classifier

    return load_classifier(bundle=args.model)


def run(args: argparse.Namespace) -> int:
    from model.explain.attention import ClassComparison, class_comparison
    from model.nets.device import resolve_device
    from model.core.events import Progress
    from model.explain.figures import class_comparison_figure
    from model.explain.render import save_png
    from model.core.output_folder import check_output_folder

    out = check_output_folder(args.out, OUTPUT_BYTES)  # before minutes of recording gates, not after
    device = resolve_device(args.device)
    classifier = _load(args)
    classifier.model.to(device)
    result: ClassComparison | None = None
    bar: ProgressBar | None = None
    try:
        for event in class_comparison(classifier, args.data_dir, batch_size=max(1, args.batch_size)):
            if isinstance(event, Progress):
                bar = bar or ProgressBar(event.total, "recording gates")
                bar.update(event.done)
            else:
                result = event
    finally:
        if bar is not None:
            bar.close()
    if result is None:  # only a cancelled comparison ends without one, and we never cancel
        raise RuntimeError("the class comparison ended without a result")

    npz = result.save_npz(out / "class_comparison.npz")
    png = save_png(class_comparison_figure(result, cmap=args.cmap), out / "class_comparison.png")
    best = result.most_class_specific
    if args.json:
        print_json({
            "model": getattr(classifier, "source", ""),
            "classes": [{"name": n, "count": c} for n, c in zip(result.class_names, result.counts)],
            "skipped": [{"path": p, "reason": r} for p, r in result.skipped],
            "blocks": [{**b.to_dict(), "divergence": float(d)} for b, d in zip(result.blocks, result.divergence)],
            "most_class_specific": best.name,
            "files": [str(npz), str(png)],
        })
    else:
        counts = ", ".join(f"{n} ({c})" for n, c in zip(result.class_names, result.counts))
        print(f"classes: {counts}" + (f"; skipped {len(result.skipped)} unreadable files" if result.skipped else ""))
        for b, d in zip(result.blocks, result.divergence):
            print(f"  {b.name:<40} divergence {d:.3f}")
        print(f"most class-specific gates: {best.name}")
        print(f"wrote {npz} and {png}")
    return 0
