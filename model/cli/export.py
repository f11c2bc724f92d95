"""``python -m model export BUNDLE --format onnx|torchscript|openvino [--int8] --out FILE``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from model.cli.common import ProgressBar, add_json_flag, print_json
from model.core.errors import StudioError

RUNTIME_NAMES = {"onnx": "ONNX Runtime", "torchscript": "TorchScript", "openvino": "OpenVINO"}
SUFFIX = {"onnx": "onnx", "torchscript": "pt", "openvino": "xml"}


def _export_bytes(bundle: str) -> int:
    """An export holds the bundle's weights once: about the bundle's size (a missing bundle is reported later)."""
    try:
        return os.path.getsize(bundle) + 2**20
    except OSError:
        return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a fine-tuned bundle to ONNX, TorchScript or OpenVINO IR",
                       description="Export a bundle to a file that runs without this app, and verify it. "
                       "--int8 quantises an OpenVINO IR on the bundle's own training images and shows the "
                       "validation accuracy before and after.")
    p.add_argument("bundle", metavar="BUNDLE", help="a model bundle (model.pt) from `train`")
    p.add_argument("--format", required=True, choices=["onnx", "torchscript", "openvino"], help="file format")
    p.add_argument("--int8", action="store_true",
                   help="OpenVINO only: quantise to INT8 with NNCF, calibrated on ~300 training images")
    p.add_argument("--data", metavar="FOLDER", default=None,
                   help="with --int8: the training folder (default: the one the bundle was trained on)")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the exported model (.xml for OpenVINO)")
    add_json_flag(p, "the export report")
    p.set_defaults(run=run, usage_error=p.error)


def run(args: argparse.Namespace) -> int:
    from model.core.output_folder import check_output_folder

    if args.int8 and args.format != "openvino":
        args.usage_error("--int8 is for --format openvino")
    if args.data and not args.int8:
        args.usage_error("--data is for --int8 (the images to calibrate on)")
    out = Path(args.out)
    if out.is_dir():
        raise StudioError(f"--out {out} is a folder; give the file name to write, e.g. {out / ('model.' + SUFFIX[args.format])}.")
    check_output_folder(out.parent, _export_bytes(args.bundle))
    if args.int8:
        return run_int8(args)
    from model.export.formats import export_bundle

    report = export_bundle(args.bundle, args.format, args.out)
    if args.json:
        print_json({"path": str(report.path), "format": report.format,
                    "max_abs_diff": report.max_abs_diff, "metadata": report.metadata})
    else:
        print(f"wrote {report.path} ({report.format}); checked in {RUNTIME_NAMES[report.format]}: "
              f"max probability difference {report.max_abs_diff:.2e}")
    return 0


def run_int8(args: argparse.Namespace) -> int:
    from model.core.events import Progress
    from model.export.int8 import StagedInt8Export, export_int8

    bar = ProgressBar(1, "INT8 export", min_total=1)
    staged = None
    for event in export_int8(args.bundle, args.out, args.data):
        if isinstance(event, Progress):
            bar.total = max(1, event.total)
            bar.update(event.done, event.message)
        elif isinstance(event, StagedInt8Export):
            staged = event
    bar.close()
    if staged is None:
        raise StudioError("The INT8 export was stopped before it finished; nothing was written.")
    # The numbers are shown before the file is kept.
    print(f"INT8 {staged.describe()}", file=sys.stderr)
    path = staged.keep()
    if args.json:
        print_json({"path": str(path), "format": "openvino", "precision": "int8",
                    "accuracy_fp32": staged.accuracy_fp32, "accuracy_int8": staged.accuracy_int8,
                    "top1_agreement": staged.top1_agreement, "validation_images": staged.validation_images,
                    "calibration_images": staged.calibration_images, "accuracy_on": staged.accuracy_on,
                    "metadata": staged.metadata})
    else:
        print(f"wrote {path} (OpenVINO IR, INT8)")
    return 0
