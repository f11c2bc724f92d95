"""``python -m model export BUNDLE --format onnx|torchscript --out FILE``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from model.cli.common import add_json_flag, print_json
from model.core.errors import StudioError

SUFFIX = {"onnx": "onnx", "torchscript": "pt"}


def _export_bytes(bundle: str) -> int:
    """An export holds the bundle's weights once: about the bundle's size (a missing bundle is reported later)."""
    try:
        return os.path.getsize(bundle) + 2**20
    except OSError:
        return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a fine-tuned bundle to ONNX or TorchScript",
                       description="Export a bundle to a file that runs without this app, and verify it.")
    p.add_argument("bundle", metavar="BUNDLE", help="a model bundle (model.pt) from `train`")
    p.add_argument("--format", required=True, choices=["onnx", "torchscript"], help="file format")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the exported model")
    add_json_flag(p, "the export report")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from model.core.output_folder import check_output_folder
    from model.export.formats import export_bundle

    out = Path(args.out)
    if out.is_dir():
        raise StudioError(f"--out {out} is a folder; give the file name to write, e.g. {out / ('model.' + SUFFIX[args.format])}.")
    check_output_folder(out.parent, _export_bytes(args.bundle))
    report = export_bundle(args.bundle, args.format, args.out)
    if args.json:
        print_json({"path": str(report.path), "format": report.format,
                    "max_abs_diff": report.max_abs_diff, "metadata": report.metadata})
    else:
        runtime = "ONNX Runtime" if report.format == "onnx" else "TorchScript"
        print(f"wrote {report.path} ({report.format}); checked in {runtime}: "
              f"max probability difference {report.max_abs_diff:.2e}")
    return 0
