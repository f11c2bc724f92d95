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
    """The precision ``runtime`` uses on ``device`` unless told otherwise: the fastest native one."""
    return native_precisions(runtime, device)[0]


def check_precision(runtime: str, device: torch.device, precision: str) -> str:
    """``precision`` if ``runtime`` computes it natively on ``device``; a clear error otherwise."""
    allowed = native_precisions(runtime, device)
    if precision not in allowed:
        raise StudioError(
            f"{runtime} cannot compute in {precision} natively on this {device.type.upper()} "
            f"(it can: {', '.join(allowed)}); choose one of those."
        )
    return precision
