"""What this CPU computes natively, read from its capability flags (never guessed from its name).

Reduced precision only pays, and only keeps its promise of speed, where the
hardware has instructions for it: bf16 needs Intel AMX (``amx_bf16``) or
AVX-512 BF16 (``avx512_bf16``). Elsewhere a runtime would emulate bf16 in
fp32 arithmetic, slower and no more accurate, so it is never chosen there.

On Linux the flags come from ``/proc/cpuinfo`` (the kernel reports only what
both the CPU and the kernel support). Other systems report no bf16 flags here,
so they run in fp32: a safe answer, never a wrong one.
"""

from __future__ import annotations

import functools
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
# x86 flags meaning the CPU multiplies bf16 in hardware.
BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The capability flags of the first processor in a ``/proc/cpuinfo`` text (x86 "flags", ARM "Features")."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """This machine's CPU capability flags (empty where the system does not publish them)."""
    try:
        return parse_cpu_flags(CPUINFO.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return frozenset()


def native_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether the CPU computes bf16 in hardware (AMX or AVX-512 BF16)."""
    return bool(BF16_FLAGS & (cpu_flags() if flags is None else flags))


def cpu_model_name() -> str:
    """The CPU's model name, for naming this machine in remembered choices (not for deciding anything)."""
    try:
        for line in CPUINFO.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown CPU"
