"""How fast each EfficientNet variant runs on this machine.

``measure_variant`` times one variant's forward pass on a device: latency is the
median of single-image passes, throughput comes from passes of ``batch_size``
images. It times the runtime classification really uses there, the way it uses
it: on a CPU, OpenVINO or ONNX Runtime with many images spread over one lane per core
(``Predictor``'s lanes); on a GPU, torch with channels_last/autocast on batches
(see ``model.inference.runtime``).
Weights are random: speed does not depend on their values, and nothing has to
be downloaded. ``measure_variants`` does the same for several variants as a
generator of ``Progress`` and ``Measurement`` events, so a GUI worker or the CLI
can show progress and stop between two forward passes.
"""

from __future__ import annotations

import statistics
import threading
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from dataclasses import dataclass
from typing import Generator, Iterable, Iterator

import torch

from model.nets.device import cpu_cores, resolve_device
from model.core.events import Progress
from model.core.variants import get_variant

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
    runtime: str = "torch"  # "onnxruntime", "openvino" or "torch"
    precision: str = "f32"  # "f32", "bf16" or "autocast"
    lanes: int = 1  # threads each running single images for the throughput (1: whole batches)


def passes_per_variant(batch_size: int, repeats: int) -> int:
    """Forward passes one measurement makes (each one is a progress and cancel point)."""
    batch_passes = WARMUP_PASSES + repeats if batch_size > 1 else 0
    return 1 + WARMUP_PASSES + repeats + batch_passes  # 1: building the runner


def measure_variant(
    variant: str,
    device: str | torch.device = "auto",
    batch_size: int = 1,
    repeats: int = 10,
    image_size: int | None = None,
    runtime: str = "auto",
) -> Measurement:
    """Time ``variant`` on ``device`` at ``image_size`` (default: its native resolution)."""
    result = None
    for step in _measure_steps(variant, resolve_device(device), batch_size, repeats, image_size, runtime):
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
    runtime: str = "auto",
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
        for step in _measure_steps(name, dev, batch_size, repeats, image_size, runtime):
            if cancel is not None and cancel.is_set():
                return
            if step is None:
                done += 1
                yield Progress(done, total, f"Measuring {title} on {dev.type.upper()}")
            else:
                yield step


def _measure_steps(
    variant: str, device: torch.device, batch_size: int, repeats: int, image_size: int | None, runtime: str
) -> Iterator[Measurement | None]:
    """Yield None after each forward pass, then the Measurement."""
    from model.nets.network import build_model
    from model.inference.runtime import make_runner

    if batch_size < 1 or repeats < 1:
        from model.core.errors import StudioError

        raise StudioError("The batch size and the number of repeats must both be at least 1.")
    v = get_variant(variant)
    size = int(image_size or v.resolution)
    # Seeded so two measurements run exactly the same arithmetic.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = build_model(v)
        single = torch.randn(1, 3, size, size)
        batch = torch.randn(batch_size, 3, size, size) if batch_size > 1 else None

    # The runtime classification uses on this device (OpenVINO or ONNX Runtime on a CPU). Its graph of
    # these throwaway weights goes to a temporary folder, not the user's graph cache.
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp:
        runner = make_runner(net, v.name, device, size, runtime, cache=Path(tmp))
        # The lanes' session loads the graph too, so before the folder goes.
        lane = runner.lane() if device.type == "cpu" and cpu_cores() > 1 and batch is not None else None
    yield None  # building the runner (an ONNX export on a CPU) can take seconds: a cancel point

    latency, images_per_sec, lanes = yield from time_runner(runner, single, batch, repeats, lane)

    yield Measurement(
        variant=v.name,
        latency_ms_median=latency * 1000.0,
        images_per_sec=images_per_sec,
        device=str(device),
        batch_size=batch_size,
        image_size=size,
        repeats=repeats,
        runtime=runner.name,
        precision=runner.precision,
        lanes=lanes,
    )


def time_runner(
    runner, single: torch.Tensor, batch: torch.Tensor | None, repeats: int, lane=None,
) -> Generator[None, None, tuple[float, float, int]]:
    """Time ``runner`` as classification uses it: yields None after each pass, returns (latency s, images/s, lanes).

    Latency is the median of single-image passes. Throughput runs ``batch`` through
    ``lane`` on one thread per core when there is a lane, else as whole batches;
    without a batch it is one image's rate.
    """
    single_times = []
    for i in range(WARMUP_PASSES + repeats):
        seconds = _timed(runner, single)
        if i >= WARMUP_PASSES:
            single_times.append(seconds)
        yield None
    latency = statistics.median(single_times)
    if batch is None:
        return latency, 1.0 / latency, 1
    times = []
    if lane is None:
        for _ in range(WARMUP_PASSES + repeats):
            times.append(_timed(runner, batch))
            yield None
        return latency, len(batch) / statistics.median(times[WARMUP_PASSES:]), 1
    lanes = cpu_cores()
    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="bench-lane") as pool:
        for _ in range(WARMUP_PASSES + repeats):
            times.append(_timed_in_lanes(pool, lane, batch))
            yield None
    return latency, len(batch) / statistics.median(times[WARMUP_PASSES:]), lanes


def _timed_in_lanes(pool: ThreadPoolExecutor, lane, batch: torch.Tensor) -> float:
    """Seconds for the pool's lanes to run every image of ``batch`` one by one, as classification does."""
    start = time.perf_counter()
    list(pool.map(lambda image: lane(image.unsqueeze(0)), batch))
    return time.perf_counter() - start


def _timed(runner, x: torch.Tensor) -> float:
    # The runner returns logits on the host, so the clock stops after the device has finished.
    start = time.perf_counter()
    runner(x)
    return time.perf_counter() - start
