"""INT8 export of a fine-tuned bundle: calibrated on its own training images, judged on its validation images.

``export_int8`` is a generator of ``Progress`` events ending in a
``StagedInt8Export``: the quantised IR is written next to the destination
under a temporary name, with the validation accuracy of the fp32 model and of
the INT8 file, and how often the two agree on the top class. Nothing is at the
destination until the caller has shown those numbers and calls ``keep()``;
``discard()`` removes the staged files. The training folder is the one the
bundle was trained on (its recorded ``data_dir``, split with the same seed and
validation share), or another folder with the same classes.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from model.core.errors import StudioError
from model.core.events import Progress
from model.export.openvino_ir import CALIBRATION_IMAGES, IrRunner, ir_paths, write_openvino

MAX_VALIDATION_IMAGES = 1000  # enough for an accuracy to a few tenths of a percent, in bounded time


class MissingTrainingImages(StudioError):
    """The bundle's training folder is not there (moved, another machine): the user must point to it."""


@dataclass
class StagedInt8Export:
    """An INT8 IR written beside its destination, with the numbers to judge it by, not yet kept."""

    destination: Path  # the .xml the user asked for
    staged: Path  # the .xml written so far, under a temporary folder next to the destination
    accuracy_fp32: float
    accuracy_int8: float
    top1_agreement: float  # share of validation images where INT8 and fp32 name the same class
    validation_images: int
    calibration_images: int
    accuracy_on: str  # "validation images" or, for a bundle trained without them, "training images"
    metadata: dict[str, str] = field(default_factory=dict)

    def keep(self) -> Path:
        """Move the files to the destination (the .bin first, so a found .xml always has its weights)."""
        xml, bin_ = ir_paths(self.destination)
        staged_xml, staged_bin = ir_paths(self.staged)
        os.replace(staged_bin, bin_)
        os.replace(staged_xml, xml)
        self.discard()
        return xml

    def discard(self) -> None:
        shutil.rmtree(self.staged.parent, ignore_errors=True)

    def describe(self) -> str:
        return (f"{self.accuracy_on}: accuracy {100 * self.accuracy_fp32:.1f} % before, "
                f"{100 * self.accuracy_int8:.1f} % after INT8 on {self.validation_images} images; "
                f"the same top class for {100 * self.top1_agreement:.1f} %; "
                f"calibrated on {self.calibration_images} training images")


def _folder_split(bundle, data_dir: str | os.PathLike | None) -> tuple[list, list, list[str]]:
    """(train, val, folder class names) from ``data_dir`` or the folder the bundle was trained on."""
    from model.training.data import scan_dataset, split_dataset

    config = bundle.config or {}
    folder = data_dir or config.get("data_dir")
    if not folder or not Path(folder).expanduser().is_dir():
        where = f" ({folder} is not there)" if folder else ""
        raise MissingTrainingImages(
            f"INT8 export calibrates on the training images, and the bundle's training folder cannot be found{where}: "
            "choose the folder of class sub-folders it was trained on."
        )
    scan = scan_dataset(folder, None if data_dir else config.get("val_dir"), verify=False, min_classes=1)
    unknown = [c for c in scan.class_names if c not in bundle.class_names]
    if unknown:
        raise StudioError(f"{folder} has a class '{unknown[0]}' the model does not know; choose its training folder.")
    split = split_dataset(scan, float(config.get("val_split", 0.2)), int(config.get("seed", 0)))
    return split.train, split.val, scan.class_names


def export_int8(
    bundle_path: str | os.PathLike, out: str | os.PathLike, data_dir: str | os.PathLike | None = None,
    calibration_size: int = CALIBRATION_IMAGES, cancel: threading.Event | None = None,
) -> Iterator[Progress | StagedInt8Export]:
    """Quantise a bundle to an INT8 OpenVINO IR; yields Progress, then the StagedInt8Export (not kept yet)."""
    from model.export.formats import export_metadata
    from model.imaging.decode import decode_file
    from model.nets.bundle import load_bundle

    bundle = load_bundle(bundle_path)
    train, val, folder_classes = _folder_split(bundle, data_dir)
    index = {name: i for i, name in enumerate(bundle.class_names)}
    prep = bundle.preprocessing
    accuracy_on = "validation images"
    calibration_files = random.Random(0).sample(train, min(calibration_size, len(train)))
    if not val:  # trained without validation: judge on training images the calibration did not see
        seen = set(calibration_files)
        val, accuracy_on = [s for s in train if s not in seen] or calibration_files, "training images"
    val = random.Random(1).sample(val, min(MAX_VALIDATION_IMAGES, len(val)))
    total = len(calibration_files) + 2 * len(val) + 2
    done = 0

    calibration: list[tuple[np.ndarray, int]] = []
    validation: list[tuple[np.ndarray, int]] = []
    for samples, into, what in ((calibration_files, calibration, "calibration"), (val, validation, "validation")):
        for path, label in samples:
            if cancel is not None and cancel.is_set():
                return
            d = decode_file(path, prep)
            done += 1
            if d.tensor is not None:  # an unreadable file is left out, as training leaves it out
                into.append((d.tensor.unsqueeze(0).numpy(), index[folder_classes[label]]))
            if done % 10 == 0:
                yield Progress(done, total, f"Reading {what} images")
    if cancel is not None and cancel.is_set():
        return
    if not calibration or not validation:
        raise StudioError("None of the training images could be read; INT8 export needs some to calibrate on.")
    yield Progress(done, total, f"Quantising to INT8 on {len(calibration)} images")
    model = bundle.build_model()
    meta = export_metadata(bundle.variant, bundle.class_names, prep) | {"precision": "int8"}
    destination = ir_paths(out)[0]
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.stem}.int8-", dir=destination.parent))
    try:
        staged = write_openvino(model, staging / destination.name, prep.crop_size, meta, [x for x, _ in calibration], calibration_size)
        done += 2
        yield Progress(done, total, "Measuring accuracy before and after")
        runner = IrRunner(staged)
        labels = np.array([y for _, y in validation])
        fp32, int8 = [], []
        with torch.inference_mode():
            for x, _ in validation:
                if cancel is not None and cancel.is_set():
                    shutil.rmtree(staging, ignore_errors=True)
                    return
                fp32.append(int(model(torch.from_numpy(x)).argmax(1)))
                got = runner(x)
                if got.shape != (1, len(bundle.class_names)) or not np.isfinite(got).all():
                    raise StudioError(f"The INT8 file gives outputs of shape {got.shape}; it was not kept.")
                int8.append(int(got.argmax(1)[0]))
                done += 1
                if len(int8) % 10 == 0:
                    yield Progress(done, total, "Measuring accuracy before and after")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fp32_, int8_ = np.array(fp32), np.array(int8)
    yield Progress(total, total, "Done")
    yield StagedInt8Export(
        destination=destination, staged=staged, accuracy_fp32=float((fp32_ == labels).mean()),
        accuracy_int8=float((int8_ == labels).mean()), top1_agreement=float((fp32_ == int8_).mean()),
        validation_images=len(validation), calibration_images=len(calibration), accuracy_on=accuracy_on, metadata=meta,
    )
