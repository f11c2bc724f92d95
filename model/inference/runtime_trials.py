"""Measure on this machine: every runtime and precision the device computes natively, timed and checked.

For each variant, ``measure_runtimes`` builds each candidate (OpenVINO in each
native precision, ONNX Runtime, torch; on a GPU torch with autocast and in
fp32), times it the way classification runs it (``benchmark.time_runner``)
and compares its answers with fp32 torch on the same inputs
(``agreement.agreement``). The fastest candidate that agrees is remembered for
this device and variant (``runtime_choice``), so ``make_runner(runtime="auto")``
uses it from then on; a candidate that fails to build, or flips answers, is
reported and never chosen.

The check needs a network that answers like a trained one: ImageNet weights
when they are on disk. Without them it runs on random weights, and then only
fp32 candidates are tried on a CPU: bf16 agreed with fp32 on a random B0 here
but not on a trained network, so agreement on random weights cannot admit it.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn

from model.core.errors import StudioError
from model.core.events import Progress
from model.core.variants import get_variant
from model.inference.agreement import Agreement, agreement
from model.inference.benchmark import Measurement, passes_per_variant, time_runner
from model.inference.runtime import build_runner
from model.inference.runtime_choice import RuntimeChoice, remember_choice
from model.nets.device import cpu_cores, resolve_device


@dataclass(frozen=True)
class RuntimeTrial:
    """One candidate runtime for a variant: its speed and agreement, or why it could not run."""

    variant: str
    choice: RuntimeChoice
    measurement: Measurement | None
    agreement: Agreement | None
    error: str | None = None

    @property
    def usable(self) -> bool:
        return self.measurement is not None and self.agreement is not None and self.agreement.passed


@dataclass(frozen=True)
class RuntimeVerdict:
    """The candidate chosen for a variant on a device (the fastest that agrees), remembered from now on."""

    variant: str
    chosen: RuntimeChoice
    measurement: Measurement
    trials: tuple[RuntimeTrial, ...]
    checked_on: str  # the weights the answers were compared on, e.g. "ImageNet weights"


def candidate_choices(device: torch.device) -> list[RuntimeChoice]:
    """Every runtime installed here in every precision it computes natively on ``device``."""
    from model.inference.openvino_runtime import openvino_available
    from model.inference.precision import native_precisions
    from model.inference.runtime import onnxruntime_available

    runtimes = ["torch"]
    if device.type == "cpu":
        runtimes = (["openvino"] if openvino_available() else []) + (
            ["onnxruntime"] if onnxruntime_available() else []) + runtimes
    return [RuntimeChoice(r, p) for r in runtimes for p in native_precisions(r, device)]


# What ``default_network`` says of a network without trained weights. Agreement on such a network
# proves little: on this project's AMD EPYC, OpenVINO bf16 agreed with fp32 on random B0 weights but
# flipped 3 of 96 top-1 answers of a trained network (bench/classify.py). So reduced precision is
# only tried where the answers it must keep are a trained network's.
RANDOM_WEIGHTS = "random weights"
UNCHECKED_REDUCED = ("not tried: reduced precision is chosen only when its answers are checked on trained "
                     "weights; download or import the ImageNet weights and measure again")


def default_network(variant: str) -> tuple[nn.Module, str]:
    """ImageNet weights when they are on disk (never downloaded here), else seeded random weights."""
    from model.nets.network import build_model
    from model.nets.weights import is_imagenet_cached

    if is_imagenet_cached(variant):
        from model.nets.classifier import load_classifier

        return load_classifier(variant, "imagenet").model, "ImageNet weights"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_model(variant).eval(), RANDOM_WEIGHTS


def seconds_per_image(m: Measurement) -> float:
    """The ranking score: the geometric mean of one image's latency and a batch's time per image."""
    return float(np.sqrt(m.latency_ms_median / 1000.0 / m.images_per_sec))


def measure_runtimes(
    variants: Iterable[str],
    device: str | torch.device,
    inputs: torch.Tensor | Callable[[str, int], torch.Tensor],
    cancel: threading.Event | None = None,
    batch_size: int = 1,
    repeats: int = 5,
    image_size: int | None = None,
    network: Callable[[str], tuple[nn.Module, str]] = default_network,
    remember: bool = True,
) -> Iterator[Progress | RuntimeTrial | RuntimeVerdict]:
    """Time and check every candidate for each variant; yield Progress, a RuntimeTrial per candidate and
    a RuntimeVerdict per variant. ``inputs`` are normalised images [N, 3, S, S] for the agreement check,
    or a function giving them for a variant and an image size S. Setting ``cancel`` stops at the next forward pass."""
    # Random weights leave denormal activations that slow eager torch on x86 about 100-fold (ONNX
    # Runtime and OpenVINO flush them): flushed while measuring, so torch is timed fairly.
    torch.set_flush_denormal(True)
    try:
        yield from _measure(variants, device, inputs, cancel, batch_size, repeats, image_size, network, remember)
    finally:
        torch.set_flush_denormal(False)  # torch's default


def _measure(variants, device, inputs, cancel, batch_size, repeats, image_size, network, remember):
    dev = resolve_device(device)
    names = [get_variant(v).name for v in variants]
    candidates = candidate_choices(dev)
    per_candidate = passes_per_variant(batch_size, repeats) + 1  # + the agreement pass
    total = len(names) * (1 + len(candidates) * per_candidate)
    done = 0
    for name in names:
        v = get_variant(name)
        size = int(image_size or v.resolution)
        message = f"Measuring {v.title} runtimes on {dev.type.upper()}"
        yield Progress(done, total, message)
        net, checked_on = network(name)
        # (On a GPU, autocast stays a candidate: it is what classification there uses anyway.)
        unchecked = ([c for c in candidates if c.precision != "f32"]
                     if checked_on == RANDOM_WEIGHTS and dev.type == "cpu" else [])
        images = inputs(name, size) if callable(inputs) else inputs
        # fp32 torch on this device, on the same batch every candidate gets: the answers to keep.
        # (Its own trial then agrees exactly, so some candidate always qualifies.)
        reference = answers(build_runner(RuntimeChoice("torch", "f32"), net, name, dev, size), images)
        done += 1
        trials = []
        # One throwaway folder per variant: the candidates share its ONNX graph (exported once), and
        # nothing of these weights reaches the user's cache.
        with tempfile.TemporaryDirectory(prefix="studio-trial-") as tmp:
            for choice in candidates:
                if choice in unchecked:
                    trial = RuntimeTrial(name, choice, None, None, UNCHECKED_REDUCED)
                    done += per_candidate
                    trials.append(trial)
                    yield trial
                    continue
                trial = None
                for step in _trial(choice, net, name, dev, size, images, reference, batch_size, repeats, Path(tmp)):
                    if cancel is not None and cancel.is_set():
                        return
                    if step is None:
                        done += 1
                        yield Progress(min(done, total), total, f"{message}: {choice.label}")
                    else:
                        trial = step
                trials.append(trial)
                yield trial
        done = (names.index(name) + 1) * (1 + len(candidates) * per_candidate)
        usable = [t for t in trials if t.usable]
        if not usable:  # nothing agreed (fp32 torch always should): keep what auto does
            continue
        best = min(usable, key=lambda t: seconds_per_image(t.measurement))
        if remember:
            remember_choice(dev, name, best.choice)
        yield RuntimeVerdict(name, best.choice, best.measurement, tuple(trials), checked_on)


def answers(runner, images: torch.Tensor) -> np.ndarray:
    """Logits of ``images``, in one batch (a runtime gives the same answers one image at a time:
    ``tests/model/test_runtime_selection.py`` checks single images, batches and lanes)."""
    return runner(images)


def _trial(
    choice: RuntimeChoice, net: nn.Module, variant: str, device: torch.device, size: int, images: torch.Tensor,
    reference: np.ndarray, batch_size: int, repeats: int, cache: Path,
) -> Iterator[RuntimeTrial | None]:
    """None after each pass (a progress and cancel point), then the RuntimeTrial."""
    try:
        runner = build_runner(choice, net, variant, device, size, cache=cache)
        lane = runner.lane() if device.type == "cpu" and cpu_cores() > 1 and batch_size > 1 else None
    except Exception as e:  # a runtime that will not build is reported, never chosen
        yield RuntimeTrial(variant, choice, None, None, f"{choice.label} could not run this model: {e}")
        return
    yield None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        single = torch.randn(1, 3, size, size)
        batch = torch.randn(batch_size, 3, size, size) if batch_size > 1 else None
    latency, images_per_sec, lanes = yield from time_runner(runner, single, batch, repeats, lane)
    got = answers(runner, images)
    yield None
    measurement = Measurement(
        variant=variant, latency_ms_median=latency * 1000.0, images_per_sec=images_per_sec, device=str(device),
        batch_size=batch_size, image_size=size, repeats=repeats, runtime=choice.runtime,
        precision=choice.precision, lanes=lanes,
    )
    yield RuntimeTrial(variant, choice, measurement, agreement(reference, got))


def inputs_from_photos(paths: list[Path], variant: str, size: int, count: int = 16) -> torch.Tensor:
    """``count`` normalised views of a few photos at ``size`` px, preprocessed as ``variant`` is (crops at
    several places and scales, mirrored too), so one sample photo gives enough images for an agreement check."""
    import dataclasses

    from PIL import ImageOps

    from model.imaging.images import load_image
    from model.imaging.transforms import eval_tensor

    prep = get_variant(variant).eval_preprocessing
    prep = dataclasses.replace(prep, crop_size=size, resize_size=round(size * prep.resize_size / prep.crop_size))
    if not paths:
        raise StudioError("The agreement check needs at least one photo, and none was found.")
    views = []
    photos = [load_image(p) for p in paths]
    boxes = [(0, 0, 1, 1), (0, 0, .6, .6), (.4, 0, 1, .6), (0, .4, .6, 1), (.4, .4, 1, 1),
             (.2, .2, .8, .8), (.1, 0, .7, .9), (.3, .1, 1, .8)]
    while len(views) < count:
        for photo in photos:
            for mirror in (False, True):
                for box in boxes:
                    w, h = photo.size
                    crop = photo.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
                    views.append(eval_tensor(ImageOps.mirror(crop) if mirror else crop, prep))
    return torch.stack(views[:count])
