"""One training or evaluation step on the device, and surviving out-of-memory errors.

``Stepper`` owns the per-step mechanics the engine should not care about: moving
uint8 batches to the device and normalising them there, channels_last, mixed
precision (autocast, and a gradient scaler for float16), label smoothing, class
weights in the loss and mixup/cutmix (``model.training.augment.BatchMixer``).
``run_in_chunks`` feeds it a batch in chunks of the current batch size and, when
the device runs out of memory, halves the batch size and carries on from the
chunk that failed, so no step is lost and no sample is counted twice.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from model.nets.device import SpeedPolicy, cpu_cores
from model.core.errors import DeviceError
from model.core.events import BatchSizeReduced
from model.imaging.transforms import normalize_batch
from model.core.variants import Preprocessing

LABEL_SMOOTHING = 0.1


def is_out_of_memory(e: BaseException) -> bool:
    """CUDA's OutOfMemoryError, and the RuntimeErrors MPS and some CUDA paths raise instead."""
    if isinstance(e, torch.OutOfMemoryError):
        return True
    return isinstance(e, RuntimeError) and "out of memory" in str(e).lower()


@dataclass
class StepResult:
    """One chunk's contribution. Loss and correct count may stay tensors on the device, so a GPU
    is not stopped after every step to read them; the caller turns them into numbers when it reports."""

    loss_sum: "torch.Tensor | float"  # summed over the chunk's samples
    correct: "torch.Tensor | int"
    count: int


class Stepper:
    """Runs ``module`` on a device with the device's speed policy.

    ``inputs_are_images``: True for uint8 image batches (full mode, feature
    extraction), False for cached feature vectors (head mode).
    """

    def __init__(
        self,
        module: nn.Module,
        device: torch.device,
        policy: SpeedPolicy,
        prep: Preprocessing | None,
        optimizer: torch.optim.Optimizer | None = None,
        label_smoothing: float = LABEL_SMOOTHING,
        train_module: nn.Module | None = None,
        class_weights: torch.Tensor | None = None,
        mixer: Callable | None = None,
    ) -> None:
        self.module = module
        # What training steps run: ``module`` itself, or its DistributedDataParallel wrapper.
        # Evaluation always runs ``module``: it needs no gradient all-reduce.
        self.train_module = module if train_module is None else train_module
        self.device = device
        self.policy = policy
        self.prep = prep
        self.optimizer = optimizer
        self.label_smoothing = label_smoothing
        self.class_weights = None if class_weights is None else class_weights.to(device)
        self.mixer = mixer  # (x, y) -> (x, targets): mixup/cutmix on some batches
        self.amp_dtype = policy.amp_dtype if device.type == "cuda" else None
        # float16 needs loss scaling against underflow; bfloat16 has float32's range and does not.
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)

    def to_device(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        if x.dtype == torch.uint8:
            x = normalize_batch(x, self.prep)
            if self.policy.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, sum_scale: float | None = None) -> StepResult:
        """Forward, backward and optimiser step on one chunk (already at most the batch size).

        ``sum_scale``: when given, the loss is the chunk's *summed* loss times this factor instead
        of its mean. A distributed run passes world size / global batch size, so that DDP's average
        of the ranks' gradients is exactly the global batch's mean gradient, for uneven and even
        empty shards too.
        """
        x = self.to_device(x)
        y = y.to(self.device, non_blocking=True)
        target = y
        if self.mixer is not None:
            x, target = self.mixer(x, y)
        ce = dict(label_smoothing=self.label_smoothing, weight=self.class_weights)
        with self._autocast():
            logits = self.train_module(x)
            if sum_scale is None:
                loss = F.cross_entropy(logits.float(), target, **ce)
            else:
                loss = F.cross_entropy(logits.float(), target, reduction="sum", **ce) * sum_scale
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        n = int(y.shape[0])
        loss_sum = loss.detach() * n if sum_scale is None else loss.detach() / sum_scale
        return StepResult(loss_sum, (logits.detach().argmax(1) == y).sum(), n)

    @torch.no_grad()
    def logits(self, x: torch.Tensor, module: nn.Module | None = None) -> torch.Tensor:
        """Eval-mode outputs of ``module`` (default: the stepper's) as float32 on the CPU; it must
        already be in eval mode. Another module: the EMA of the weights, validated the same way."""
        with self._autocast():
            out = (module or self.module)(self.to_device(x))
        return out.float().cpu()

    def free_memory(self) -> None:
        if self.optimizer is not None:
            self.optimizer.zero_grad(set_to_none=True)
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        elif self.device.type == "mps":
            torch.mps.empty_cache()


@contextmanager
def cpu_threads_beside(device: torch.device, workers: int):
    """On the CPU, leave one core per loader worker while the block runs.

    An OpenMP thread that loses its core to another busy process stalls every
    parallel region it belongs to: on 2 cores, 2 compute threads beside a busy
    decode worker ran 15× slower than 1 compute thread (measured).
    """
    if device.type != "cpu" or workers <= 0:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(before, cpu_cores() - workers)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class BatchSize:
    """The current batch size, shared by every loop so one halving applies everywhere."""

    def __init__(self, value: int) -> None:
        self.value = int(value)


def run_in_chunks(
    fn: Callable[[torch.Tensor, torch.Tensor], object],
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: BatchSize,
    on_oom: Callable[[], None],
    min_size: int = 1,
) -> Iterator[object]:
    """Yield ``fn(chunk_x, chunk_y)`` results and ``BatchSizeReduced`` events.

    On out-of-memory the batch size is halved and the failed chunk is retried;
    below ``min_size`` it is a ``DeviceError`` that says what to change.
    """
    start, n = 0, int(y.shape[0])
    while start < n:
        size = batch_size.value
        try:
            result = fn(x[start : start + size], y[start : start + size])
        except Exception as e:
            if not is_out_of_memory(e):
                raise
            on_oom()
            if size // 2 < min_size:
                raise DeviceError(
                    f"Out of {'GPU ' if 'cuda' in str(e).lower() else ''}memory even with a batch of {size} images: "
                    "choose a smaller variant or --image-size, or train on the CPU."
                ) from None
            batch_size.value = size // 2
            yield BatchSizeReduced(size, size // 2, "out of memory")
            continue
        start += min(size, n - start)
        yield result
