"""Choosing the compute device and the speed policies that go with it.

``auto`` prefers CUDA, then Apple MPS, then the CPU. Asking for a device that is
not there is a ``DeviceError`` with one clear sentence, never a crash later on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from model.core.errors import DeviceError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def available_devices() -> list[str]:
    """Device kinds usable on this machine, best first."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    found.append("cpu")
    return found


def resolve_device(choice: str | torch.device = "auto") -> torch.device:
    """Turn "auto" / "cpu" / "cuda" / "cuda:1" / "mps" into a usable ``torch.device``."""
    if isinstance(choice, torch.device):
        choice = str(choice)
    choice = (choice or "auto").strip().lower()
    if choice == "auto":
        return torch.device(available_devices()[0])
    kind = choice.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise DeviceError(f"Unknown device {choice!r}: use one of {', '.join(DEVICE_CHOICES)}.")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError("CUDA was requested but no CUDA GPU is available here; use --device cpu or auto.")
        dev = torch.device(choice)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"There is no GPU {choice}: this machine has {torch.cuda.device_count()}.")
        return dev
    if kind == "mps" and not _mps_available():
        raise DeviceError("Apple MPS was requested but is not available here; use --device cpu or auto.")
    return torch.device(kind)


def cpu_cores() -> int:
    """Cores this process may use (respects affinity/cgroup limits where the OS tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def describe_device(device: torch.device) -> str:
    """A short text for the status bar, e.g. "NVIDIA H100 · 80 GB" or "CPU · 8 cores"."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name} · {props.total_memory / 2**30:.0f} GB"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU · {cpu_cores()} cores"


@dataclass(frozen=True)
class SpeedPolicy:
    """How to run fast on a device: memory format, mixed precision, data loading."""

    channels_last: bool
    amp_dtype: torch.dtype | None  # None: full precision
    pin_memory: bool
    loader_workers: int


def speed_policy(device: torch.device) -> SpeedPolicy:
    """channels_last everywhere (it is faster for depthwise convs on CPU and GPU);
    bf16/fp16 autocast and pinned memory on CUDA only."""
    if device.type == "cuda":
        bf16 = torch.cuda.is_bf16_supported()
        return SpeedPolicy(True, torch.bfloat16 if bf16 else torch.float16, True, min(8, cpu_cores()))
    if device.type == "mps":
        return SpeedPolicy(False, None, False, min(4, cpu_cores()))
    # On the CPU the decode workers compete with the intra-op threads, so keep them few.
    return SpeedPolicy(True, None, False, max(0, min(2, cpu_cores() - 1)))
