"""Which numeric precisions a runtime may use on a device: only those the hardware computes natively.

On a CPU, OpenVINO can run in bf16 where the CPU has AMX or AVX-512 BF16
(``model.core.cpu_features``); ONNX Runtime's CPU provider and eager torch run
in fp32 there. On CUDA, torch runs under fp16/bf16 autocast as it always has
(``model.nets.device.speed_policy``). Reduced precision is never emulated: asking
for it where the hardware lacks it is a ``StudioError``, not a slow fallback.
"""

from __future__ import annotations

import torch

from model.core import cpu_features
from model.core.errors import StudioError

PRECISIONS = ("f32", "bf16", "autocast", "int8")


def native_precisions(runtime: str, device: torch.device) -> tuple[str, ...]:
    """The precisions ``runtime`` computes natively on ``device``, the preferred (fastest) first."""
    if device.type == "cuda" and runtime == "torch":
        return ("autocast", "f32")
    if device.type == "cpu" and runtime == "openvino" and cpu_features.native_bf16():
        return ("bf16", "f32")
    return ("f32",)


def default_precision(runtime: str, device: torch.device) -> str:
    """The precision ``runtime`` uses on ``device`` unless a measurement chose another: fp32 on a CPU.

    bf16 is offered to "Measure on this machine", which keeps it only for a network whose answers it
    keeps; it is never a default, because it does not keep them in general (EfficientNet-Lite0 with
    its ImageNet weights: 93/96 top-1 and 81/96 top-5 against fp32 on an AVX-512 BF16 CPU, README).
    On CUDA torch keeps its fp16/bf16 autocast."""
    return "autocast" if device.type == "cuda" and runtime == "torch" else "f32"


def check_precision(runtime: str, device: torch.device, precision: str) -> str:
    """``precision`` if ``runtime`` computes it natively on ``device``; a clear error otherwise."""
    allowed = native_precisions(runtime, device)
    if precision not in allowed:
        raise StudioError(
            f"{runtime} cannot compute in {precision} natively on this {device.type.upper()} "
            f"(it can: {', '.join(allowed)}); choose one of those."
        )
    return precision
