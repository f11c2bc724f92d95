"""How fast each EfficientNet variant runs on this machine.

``measure_variant`` times one variant's forward pass on a device: latency is the
median of single-image passes, throughput comes from batches of ``batch_size``.
Weights are random: speed does not depend on their values, and nothing has to
be downloaded. ``measure_variants`` does the same for several variants as a
generator of ``Progress`` and ``Measurement`` events, so a GUI worker or the CLI
can show progress and stop between two forward passes.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from typing import Iterable, Iterator

import torch

from model.device import resolve_device
from model.events import Progress
from model.variants import get_variant

WARMUP_PASSES = 2  # first passes pay for allocation and kernel selection; never timed


@dataclass(frozen=True)
class Measurement:
    """Speed of one variant on one device."""

    variant: str  # "b0" … "b7"
    latency_ms_median: float  # one image, median over the repeats
    images_per_sec: float  # at ``batch_size`` images per pass
    device: str  # e.g. "cpu", "cuda:0"
    batch_size: int = 1
    image_size: int = 224
    repeats: int = 0


def passes_per_variant(batch_size: int, repeats: int) -> int:
    """Forward passes one measurement makes (each one is a progress and cancel point)."""
    batch_passes = WARMUP_PASSES + repeats if batch_size > 1 else 0
    return WARMUP_PASSES + repeats + batch_passes


def measure_variant(
    variant: str,
    device: str | torch.device = "auto",
    batch_size: int = 1,
    repeats: int = 10,
    image_size: int | None = None,
) -> Measurement:
    """Time ``variant`` on ``device`` at ``image_size`` (default: its native resolution)."""
    result = None
    for step in _measure_steps(variant, resolve_device(device), batch_size, repeats, image_size):
        if step is not None:
            result = step
    return result


def measure_variants(
    variants: Iterable[str],
    device: str | torch.device = "auto",
    cancel: threading.Event | None = None,
    batch_size: int = 1,
    repeats: int = 10,
    image_size: int | None = None,
) -> Iterator[Progress | Measurement]:
    """Measure each variant in turn, yielding ``Progress`` after every forward pass and a
    ``Measurement`` per variant. Setting ``cancel`` ends the generator at the next pass."""
    names = [get_variant(v).name for v in variants]
    dev = resolve_device(device)
    total = len(names) * passes_per_variant(batch_size, repeats)
    done = 0
    for name in names:
        title = get_variant(name).title
        yield Progress(done, total, f"Measuring {title} on {dev.type.upper()}")
        for step in _measure_steps(name, dev, batch_size, repeats, image_size):
            if cancel is not None and cancel.is_set():
                return
            if step is None:
                done += 1
                yield Progress(done, total, f"Measuring {title} on {dev.type.upper()}")
            else:
                yield step


def _measure_steps(
    variant: str, device: torch.device, batch_size: int, repeats: int, image_size: int | None
) -> Iterator[Measurement | None]:
    """Yield None after each forward pass, then the Measurement."""
    from model.network import build_model
    from model.runtime import TorchRunner

    if batch_size < 1 or repeats < 1:
        from model.errors import StudioError

        raise StudioError("The batch size and the number of repeats must both be at least 1.")
    v = get_variant(variant)
    size = int(image_size or v.resolution)
    # Seeded so two measurements run exactly the same arithmetic.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        runner = TorchRunner(build_model(v), v.name, device)
        single = torch.randn(1, 3, size, size)
        batch = torch.randn(batch_size, 3, size, size) if batch_size > 1 else None

    single_times = []
    for i in range(WARMUP_PASSES + repeats):
        seconds = _timed(runner, single)
        if i >= WARMUP_PASSES:
            single_times.append(seconds)
        yield None
    latency = statistics.median(single_times)

    if batch is None:
        images_per_sec = 1.0 / latency
    else:
        batch_times = []
        for i in range(WARMUP_PASSES + repeats):
            seconds = _timed(runner, batch)
            if i >= WARMUP_PASSES:
                batch_times.append(seconds)
            yield None
        images_per_sec = batch_size / statistics.median(batch_times)

    yield Measurement(
        variant=v.name,
        latency_ms_median=latency * 1000.0,
        images_per_sec=images_per_sec,
        device=str(device),
        batch_size=batch_size,
        image_size=size,
        repeats=repeats,
    )


def _timed(runner, x: torch.Tensor) -> float:
    # The runner returns logits on the host, so the clock stops after the device has finished.
    start = time.perf_counter()
    runner(x)
    return time.perf_counter() - start
