"""Classifying image files: ``Predictor`` and its ``Prediction`` results.

``Predictor`` wraps a ``Classifier`` placed on a device and the fastest runtime
for it (``model.inference.runtime``: OpenVINO or ONNX Runtime on a CPU, torch with channels_last and
autocast on a GPU). It returns one ``Prediction`` per input path, in input
order; a file that cannot be read gives a ``Prediction`` with ``error`` set and
the other files are still classified. How the work is spread depends on it:

- one image: decoded on the caller's thread (a helper thread shares the
  resize), then run on every core;
- many images on a CPU: one lane per core, each decoding and classifying
  whole images with a single-threaded session (``_predict_in_lanes``);
- many images elsewhere (or a ``batch_size`` asked for): decoded on a thread
  pool (``model.imaging.decode``) and inferred in batches.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from model.nets.classifier import Classifier, load_classifier
from model.imaging.decode import Decoder, DecodedImage, ThreadedDecoder, decode_file
from model.nets.device import cpu_cores, resolve_device, speed_policy
from model.core.errors import StudioError
from model.core.ordered_pool import ordered_map
from model.inference.runtime import Runner, make_runner
from model.nets.weights import ProgressCallback


@dataclass(frozen=True)
class Prediction:
    """The top-k classes of one file (scores are calibrated softmax probabilities, descending), or its error."""

    path: str
    labels: list[str]
    scores: list[float]
    indices: list[int]
    error: str | None
    seconds: float  # decode + preprocessing + inference (in a batch: this file's share of it)

    @property
    def ok(self) -> bool:
        return self.error is None


def stack_single_threaded(tensors: list[torch.Tensor]) -> torch.Tensor:
    """``torch.stack`` of CPU tensors, copied by numpy (one image: no copy at all).

    torch.stack of a batch runs on torch's OpenMP team, whose threads then
    busy-wait on the cores the inference runtime is about to use.
    """
    if len(tensors) == 1:
        return tensors[0].unsqueeze(0)
    return torch.from_numpy(np.stack([t.numpy() for t in tensors]))


class Predictor:
    """Classify image files with an EfficientNet: ImageNet, random or a user's weights, or a bundle."""

    def __init__(
        self,
        variant: str = "b0",
        weights: str | os.PathLike = "imagenet",
        device: str | torch.device = "auto",
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        runtime: str = "auto",
        fast_decode: bool = False,
    ) -> None:
        dev = resolve_device(device)  # an unavailable device fails before any loading
        self._attach(load_classifier(variant, weights, progress=progress, cancel=cancel), dev, runtime, fast_decode)

    @classmethod
    def from_bundle(
        cls, path: str | os.PathLike, device: str | torch.device = "auto", runtime: str = "auto", fast_decode: bool = False
    ) -> "Predictor":
        """A predictor for a fine-tuned model bundle (its own classes and preprocessing)."""
        dev = resolve_device(device)
        return cls.from_classifier(load_classifier(bundle=path), dev, runtime, fast_decode)

    @classmethod
    def from_classifier(
        cls, classifier: Classifier, device: str | torch.device = "auto", runtime: str = "auto", fast_decode: bool = False
    ) -> "Predictor":
        """A predictor around an already loaded classifier (left unchanged, on the CPU).

        ``runtime`` is "auto" (the runtime and precision measured fastest here among those that keep
        the answers, else ONNX Runtime on a CPU and torch elsewhere), "onnxruntime", "openvino" or "torch".
        By default JPEGs decode at full size and the pixels are within two grey
        levels of torchvision's recipe (``model.imaging.transforms.fast_eval_tensor``).
        ``fast_decode`` decodes JPEGs at a reduced DCT scale instead: faster for
        photos, but the lower-ranked classes can change order (README, Performance).
        """
        self = cls.__new__(cls)
        self._attach(classifier, resolve_device(device), runtime, fast_decode)
        return self

    def _attach(self, classifier: Classifier, device: torch.device, runtime: str, fast_decode: bool) -> None:
        self.classifier = classifier
        self.device = device
        self.policy = speed_policy(device)
        self.runner: Runner = make_runner(
            classifier.model, classifier.variant.name, device, classifier.preprocessing.crop_size, runtime
        )
        # On a CPU the runtime uses every core, so decoding takes turns with it on all
        # cores (see ThreadedDecoder); elsewhere a few threads decode ahead of the device.
        on_cpu = device.type == "cpu"
        self.decoder: Decoder = ThreadedDecoder(
            classifier.preprocessing,
            workers=cpu_cores() if on_cpu else max(1, self.policy.loader_workers),
            draft=fast_decode,
            overlap=not on_cpu,
        )
        self._lookahead = 1 if on_cpu else 2  # batches decoded before inference asks for them
        self.fast_decode = fast_decode
        # Many images on a CPU go through lanes, one per core (see _predict_in_lanes).
        self.lanes = cpu_cores() if on_cpu else 1

    @property
    def runtime_label(self) -> str:
        """The runtime and precision classification runs on, e.g. "OpenVINO bf16" (for status bars)."""
        from model.inference.runtime_choice import RuntimeChoice

        return RuntimeChoice(self.runner.name, self.runner.precision).label

    @property
    def class_names(self) -> list[str]:
        return self.classifier.class_names

    def warm_up(self) -> float:
        """Run one blank image through the runtime; returns the seconds it took.

        The first run of a session allocates its memory arena and picks its
        kernels (or, on a GPU, initialises the CUDA context): paying that when
        the model is loaded, in the background, keeps it off the first drop.
        """
        crop = self.classifier.preprocessing.crop_size
        blank = torch.zeros(1, 3, crop, crop)
        start = time.perf_counter()
        self.runner(blank)
        lane = self.runner.lane() if self.lanes > 1 else None
        if lane is not None:
            lane(blank)
        return time.perf_counter() - start

    def default_batch_size(self) -> int:
        """Images per forward pass: more on GPUs, fewer for the large-resolution variants."""
        base = {"cuda": 64, "mps": 16}.get(self.device.type, 8)
        crop = self.classifier.preprocessing.crop_size
        return max(1, int(base * (224 / crop) ** 2))

    def predict(self, paths: Iterable[str | os.PathLike], top_k: int = 5) -> list[Prediction]:
        """One ``Prediction`` per path, in the same order."""
        return list(self.predict_iter(paths, top_k=top_k))

    def predict_iter(
        self,
        paths: Iterable[str | os.PathLike],
        top_k: int = 5,
        batch_size: int | None = None,
        cancel: threading.Event | None = None,
        fast_decode: bool | None = None,
    ) -> Iterator[Prediction]:
        """Yield ``Prediction``s in input order as they are ready; stop when ``cancel`` is set.

        By default several images on a CPU go through lanes (one per core) and
        elsewhere through batches of ``default_batch_size``; a ``batch_size``
        asks for batches of that size. ``fast_decode`` overrides the predictor's
        own choice for this call (the app's setting can change between drops).
        """
        if top_k < 1:
            raise StudioError(f"top_k must be at least 1, not {top_k}.")
        k = min(top_k, len(self.class_names))
        draft = self.fast_decode if fast_decode is None else fast_decode
        paths = list(paths)
        lane = self.runner.lane() if batch_size is None and self.lanes > 1 and len(paths) > 1 else None
        if lane is not None:
            yield from self._predict_in_lanes(paths, k, lane, cancel, draft)
            return
        size = max(1, batch_size or self.default_batch_size())
        waiting: list[DecodedImage] = []  # in input order; flushed when `size` of them are images
        images = 0
        for item in self.decoder.decode(paths, cancel=cancel, lookahead=self._lookahead * size, draft=draft):
            waiting.append(item)
            if item.tensor is not None:
                images += 1
            if images == size or (images == 0 and waiting):
                # A batch is full, or only errors are waiting (nothing before them to wait for).
                yield from self._finish(waiting, k)
                waiting, images = [], 0
            if cancel is not None and cancel.is_set():
                return
        if waiting:
            yield from self._finish(waiting, k)

    def _predict_in_lanes(
        self, paths: list[str | os.PathLike], k: int, lane: Callable[[torch.Tensor], np.ndarray],
        cancel: threading.Event | None, draft: bool,
    ) -> Iterator[Prediction]:
        """Each image decoded and classified start to finish on one lane thread; results in input order.

        On a CPU this beats batching on all cores: a single-threaded session never
        waits at a barrier for a core that is busy elsewhere, and decoding never
        stalls a running batch (B0 on 2 cores: 3.0–3.1× the plain recipe, against 2.4×).
        Memory stays flat: at most two images per lane are in flight.
        """
        prep, names = self.classifier.preprocessing, self.class_names

        def classify(path: str | os.PathLike) -> Prediction:
            d = decode_file(path, prep, draft)
            if d.tensor is None:
                return Prediction(d.path, [], [], [], d.error, d.seconds)
            start = time.perf_counter()
            [scores], [idx] = _ranked(self._calibrated(lane(d.tensor.unsqueeze(0))), k)
            return Prediction(d.path, [names[i] for i in idx], scores, idx, None, d.seconds + time.perf_counter() - start)

        yield from ordered_map(classify, paths, self.lanes, 2 * self.lanes, cancel, name="classify")

    def _finish(self, items: list[DecodedImage], k: int) -> Iterator[Prediction]:
        tensors = [d.tensor for d in items if d.tensor is not None]
        scores: list[list[float]] = []
        indices: list[list[int]] = []
        share = 0.0
        if tensors:
            start = time.perf_counter()
            batch = stack_single_threaded(tensors)
            scores, indices = self._top_k(batch, k)
            share = (time.perf_counter() - start) / len(tensors)
        names = self.class_names
        ranked = iter(zip(scores, indices))
        for d in items:
            if d.tensor is None:
                yield Prediction(d.path, [], [], [], d.error, d.seconds)
            else:
                s, idx = next(ranked)
                yield Prediction(d.path, [names[i] for i in idx], s, idx, None, d.seconds + share)

    def _top_k(self, batch: torch.Tensor, k: int) -> tuple[list[list[float]], list[list[int]]]:
        return _ranked(self._calibrated(self.runner(batch)), k)

    def _calibrated(self, logits: np.ndarray) -> np.ndarray:
        """Logits divided by the model's temperature, so their softmax is its calibrated confidence."""
        temperature = float(getattr(self.classifier, "temperature", 1.0))
        return logits / temperature if temperature != 1.0 else logits


def _ranked(logits: np.ndarray, k: int) -> tuple[list[list[float]], list[list[int]]]:
    """Softmax probabilities of the ``k`` best classes per image, descending, and their indices."""
    top = torch.from_numpy(logits).softmax(dim=1).topk(k, dim=1)
    return top.values.tolist(), top.indices.tolist()
