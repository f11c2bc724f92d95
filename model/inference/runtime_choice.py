"""The runtime and precision measured fastest for a variant on this machine, remembered on disk.

"Measure on this machine" (``model.inference.runtime_trials``) times every
runtime and precision the device computes natively and keeps the fastest whose
answers agree with fp32. That choice is stored per device and variant in
``runtime-choices.json`` in the cache folder, and ``make_runner(runtime="auto")``
uses it from then on. A device is named by its kind, model and core count, so a
cache folder shared between machines (or a CPU moved to another box) never
applies one machine's verdict to another.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from model.core.atomic import atomic_write

log = logging.getLogger(__name__)
CHOICES_FILE = "runtime-choices.json"


@dataclass(frozen=True)
class RuntimeChoice:
    """A runtime with the precision it computes in, e.g. ("openvino", "bf16")."""

    runtime: str  # "onnxruntime", "openvino" or "torch"
    precision: str  # "f32", "bf16", "autocast"

    @property
    def label(self) -> str:
        names = {"onnxruntime": "ONNX Runtime", "openvino": "OpenVINO", "torch": "PyTorch"}
        return f"{names.get(self.runtime, self.runtime)} {self.precision}"


def device_key(device: torch.device) -> str:
    """Names this machine's device for remembered choices, e.g. "cpu|AMD EPYC|2 cores"."""
    from model.core.cpu_features import cpu_model_name
    from model.nets.device import cpu_cores

    if device.type == "cuda":
        return f"cuda|{torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "mps"
    return f"cpu|{cpu_model_name()}|{cpu_cores()} cores"


def _choices_path(cache: Path | None = None) -> Path:
    from model.inference.graph_cache import cache_dir

    return (cache or cache_dir()) / CHOICES_FILE


def _read_all(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or a damaged file: measuring again rewrites it
    return data if isinstance(data, dict) else {}


def remembered_choice(device: torch.device, variant: str, cache: Path | None = None) -> RuntimeChoice | None:
    """The choice measured for ``variant`` on ``device``, if there is one."""
    entry = _read_all(_choices_path(cache)).get(device_key(device), {}).get(variant)
    try:
        return RuntimeChoice(str(entry["runtime"]), str(entry["precision"]))
    except (TypeError, KeyError):
        return None


def remember_choice(device: torch.device, variant: str, choice: RuntimeChoice, cache: Path | None = None) -> None:
    """Store ``choice`` for ``variant`` on ``device`` (other devices' and variants' choices are kept)."""
    path = _choices_path(cache)
    data = _read_all(path)
    data.setdefault(device_key(device), {})[variant] = asdict(choice)
    atomic_write(path, lambda f: f.write(json.dumps(data, indent=2, sort_keys=True)), binary=False)
    log.info("remembered %s for %s on %s", choice.label, variant, device_key(device))
