"""``python -m model attention IMAGE [--variant b0 --weights imagenet|random|FILE | --model BUNDLE] --out DIR``.

Writes, for one image: one overlay PNG per SE block in depth order
(``00_stage1_block1.png`` …), ``gate_map.png``, ``gradcam.png`` and
``excitations.npz`` (one gate vector per block, values in [0, 1]); with
``--json`` it prints the prediction and a summary of every block. ``--map``
picks a method of ``model.explain.methods``: a per-block one for the block
overlays, any other is also written as ``<method>.png``. ``--score`` adds
every method's deletion/insertion AUC (random included), the SE ablation per
block and ``faithfulness.npz`` with the curves.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model.cli.arg_types import output_folder
from model.cli.common import add_device_flag, add_json_flag, print_json
from model.core.errors import StudioError
from model.explain.render import COLORMAP_NAMES, DEFAULT_COLORMAP
from model.core.variants import VARIANT_NAMES
from model.explain.ablation import ABLATION_MODES
from model.explain.methods import METHODS, method_names


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
    p.add_argument("--map", choices=method_names(), default="se",
                   help="the map to draw: " + "; ".join(f"{m.name}: {m.label}" for m in METHODS.values()))
    p.add_argument("--layer", type=int, metavar="N",
                   help="CAM stage: features.N (default: the deepest with a grid of at least 4×4)")
    p.add_argument("--score", action="store_true",
                   help="score every map by deletion/insertion AUC against a random map, and ablate each SE block")
    p.add_argument("--ablate", choices=ABLATION_MODES, default="mean",
                   help="with --score: replace a block's gates by their mean (default) or by 1 (no gating)")
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
    from model.explain.evidence import map_entry
    from model.explain.explainer import Explainer
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
    try:
        result = analyse_image(classifier, image, target_class=target, cam_layer=args.layer)
    except ValueError as e:
        if args.layer is None:
            raise
        raise StudioError(f"--layer {args.layer}: {e}.") from None
    explainer = Explainer(classifier.model, result)

    crop = result.images[0]
    block_kind = args.map if METHODS[args.map].per_block else "se"
    for depth, block in enumerate(result.blocks):
        save_png(overlay(crop, result.spatial_map(depth, kind=block_kind).image, cmap=args.cmap), out / f"{block.file_stem}.png")
    save_png(gate_map_figure(result.gate_map(), cmap=args.cmap), out / "gate_map.png")
    save_png(overlay(crop, result.gradcam_map().image, cmap=args.cmap), out / "gradcam.png")
    if not METHODS[args.map].per_block and args.map != "gradcam":
        save_png(overlay(crop, explainer.map(args.map, layer=args.layer).image, cmap=args.cmap), out / f"{args.map}.png")
    evidence, scores = _score(args, explainer, out) if args.score else (None, None)
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
            "gradcam": map_entry(result.gradcam_map()),
            "blocks": blocks,
            "out": str(out),
            **(evidence or {}),
        })
    else:
        print(f"{args.image}: {top[0].label} ({top[0].probability:.1%}); Grad-CAM explains {result.label(explained)!r}")
        for b in blocks:
            print(f"  {b['file']:<24} {b['name']:<40} mean gate {b['mean']:.3f}  max {b['max']:.3f}")
        print(f"Grad-CAM at {result.cam_layer.label}")
        if evidence is not None:
            _print_evidence(evidence)
        print(f"wrote {len(blocks)} block overlays, gate_map.png, gradcam.png and excitations.npz to {out}")
    return 0


def _score(args: argparse.Namespace, explainer, out: Path) -> tuple[dict, dict]:
    """Score every registered map and ablate the SE blocks; writes faithfulness.npz with the curves."""
    import numpy as np

    from model.cli.common import ProgressBar
    from model.core.atomic import atomic_write
    from model.explain.evidence import curves_table, evidence_json, score_methods

    bar = ProgressBar(len(METHODS), "scoring maps")
    try:
        scores = score_methods(explainer, progress=lambda done, total, what: bar.update(done, what))
    finally:
        bar.close()
    curves = curves_table(scores)
    atomic_write(out / "faithfulness.npz", lambda f: np.savez(f, **curves))
    return evidence_json(explainer, scores, args.ablate), scores


def _print_evidence(evidence: dict) -> None:
    print("faithfulness (deletion AUC: lower is better; insertion AUC: higher is better; "
          "each map against random maps on its own grid)")
    for name, s in evidence["faithfulness"].items():
        entry = evidence["maps"][name]
        where = entry.get("layer") or entry.get("block")
        grid = "×".join(map(str, entry["grid"]))
        mark = "" if name == "random" else f"  {entry['judgement']}"
        print(f"  {METHODS[name].label:<18} deletion {s['deletion_auc']:.3f}  insertion {s['insertion_auc']:.3f}"
              f"  ({where}, {grid}){mark}")
    print(f"SE ablation ({evidence['ablation_mode']}): confidence drop per block")
    for row in evidence["ablation"]:
        print(f"  {row['block']:<40} {row['confidence_drop']:+.3f}" + ("  top-1 changes" if row["top1_changed"] else ""))
