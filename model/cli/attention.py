"""``python -m model attention IMAGE [--variant b0 --weights imagenet|random|FILE | --model BUNDLE] --out DIR``.

Writes, for one image: one overlay PNG per SE block in depth order
(``00_stage1_block1.png`` …), ``gate_map.png``, ``gradcam.png`` and
``excitations.npz`` (one gate vector per block, values in [0, 1]); with
``--json`` it prints the prediction and a summary of every block.
"""

from __future__ import annotations

import argparse

from model.cli.arg_types import output_folder
from model.cli.common import add_device_flag, add_json_flag, print_json
from model.core.errors import StudioError
from model.explain.render import COLORMAP_NAMES, DEFAULT_COLORMAP
from model.core.variants import VARIANT_NAMES


# The PNGs and excitations.npz of one image, with room to spare (B7: ~60 overlays).
OUTPUT_BYTES = 64 * 2**20


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "attention",
        help="show what every squeeze-and-excitation block emphasises in one image",
        description="Write per-block SE overlays, the gate map, Grad-CAM and the raw gates of one image.",
    )
    p.add_argument("image", metavar="IMAGE", help="the image to analyse")
    p.add_argument("--variant", type=str.lower, choices=VARIANT_NAMES, help="EfficientNet variant (default: b0)")
    p.add_argument("--weights", metavar="imagenet|random|FILE", help="weights for --variant (default: imagenet)")
    p.add_argument("--model", metavar="BUNDLE", help="a fine-tuned model bundle instead of --variant/--weights")
    p.add_argument("--out", required=True, type=output_folder, metavar="DIR", help="folder for the PNGs and excitations.npz")
    p.add_argument("--target", metavar="CLASS", help="class for Grad-CAM, by name or index (default: the prediction)")
    p.add_argument("--map", choices=["se", "change"], default="se",
                   help="overlay M = ReLU(Σ s·U) ('se') or the change SE made, with s − mean s ('change')")
    p.add_argument("--cmap", choices=COLORMAP_NAMES, default=DEFAULT_COLORMAP, help="colormap of the overlays")
    add_device_flag(p)
    add_json_flag(p, "the prediction and per-block summary")
    p.set_defaults(run=run, usage_error=p.error)


def _load(args: argparse.Namespace):
    """The ``Classifier`` the flags ask for (``model.nets.classifier.load_classifier``)."""
    from model.nets.classifier import load_classifier
    from model.cli.common import DownloadReporter

    if args.model:
        return load_classifier(bundle=args.model)
    variant = args.variant or "b0"
    reporter = DownloadReporter(variant)
    try:
        return load_classifier(variant, args.weights or "imagenet", progress=reporter)
    finally:
        reporter.close()


def _target_index(target: str | None, class_names: list[str]) -> int | None:
    if target is None:
        return None
    if target in class_names:
        return class_names.index(target)
    if target.isdigit() and int(target) < len(class_names):
        return int(target)
    raise StudioError(f"--target {target!r} is neither a class name nor an index below {len(class_names)}.")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from model.explain.attention import analyse_image
    from model.nets.device import resolve_device
    from model.explain.figures import gate_map_figure
    from model.imaging.images import load_image
    from model.explain.render import overlay, save_png
    from model.core.atomic import atomic_write
    from model.core.output_folder import check_output_folder

    if args.model and (args.variant or args.weights):
        args.usage_error("--model uses the bundle's own variant and weights; leave out --variant and --weights")
    image = load_image(args.image)  # a bad file fails here, before the model is loaded
    out = check_output_folder(args.out, OUTPUT_BYTES)  # and an unusable --out before the analysis
    device = resolve_device(args.device)
    classifier = _load(args)
    classifier.model.to(device)
    target = _target_index(args.target, classifier.class_names)
    result = analyse_image(classifier, image, target_class=target)

    crop = result.images[0]
    for depth, block in enumerate(result.blocks):
        save_png(overlay(crop, result.spatial_map(depth, kind=args.map).image, cmap=args.cmap), out / f"{block.file_stem}.png")
    save_png(gate_map_figure(result.gate_map(), cmap=args.cmap), out / "gate_map.png")
    save_png(overlay(crop, result.gradcam_map().image, cmap=args.cmap), out / "gradcam.png")
    gates = {b.file_stem: result.excitation(d) for d, b in enumerate(result.blocks)}
    atomic_write(out / "excitations.npz", lambda f: np.savez(f, **gates))

    top = result.top_classes(0, k=5)
    explained = result.target_classes[0]
    blocks = [
        {**b.to_dict(), "mean": float(s.mean()), "max": float(s.max()), "file": f"{b.file_stem}.png"}
        for b, s in ((b, result.excitation(d)) for d, b in enumerate(result.blocks))
    ]
    if args.json:
        print_json({
            "image": str(args.image),
            "model": getattr(classifier, "source", ""),
            "prediction": {
                "index": top[0].index,
                "label": top[0].label,
                "probability": top[0].probability,
                "top": [{"index": c.index, "label": c.label, "probability": c.probability} for c in top],
            },
            "gradcam_class": {"index": explained, "label": result.label(explained)},
            "blocks": blocks,
            "out": str(out),
        })
    else:
        print(f"{args.image}: {top[0].label} ({top[0].probability:.1%}); Grad-CAM explains {result.label(explained)!r}")
        for b in blocks:
            print(f"  {b['file']:<24} {b['name']:<40} mean gate {b['mean']:.3f}  max {b['max']:.3f}")
        print(f"wrote {len(blocks)} block overlays, gate_map.png, gradcam.png and excitations.npz to {out}")
    return 0
