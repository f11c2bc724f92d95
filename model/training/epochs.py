"""The epoch loops of the two training modes, as generators driven by ``model.training.trainer.Trainer``.

They read what they need from a ``RunContext`` (``model.training.context``), not from the trainer.

Both modes share ``ModeData``: the step loop with pause/stop checks before every
step, throttled step metrics, out-of-memory halving and the reporting of files
that fail to decode. ``FullModeData`` feeds images (decoded once and cached,
augmented every epoch); ``HeadModeData`` computes the frozen backbone's features
once and trains the classifier on them.

Under torchrun every rank runs these loops in lockstep: each takes its shard of
every global batch (``model.training.sharding``), a stop on any rank is agreed on before
every step, and the step's loss, correct and sample counts are summed over ranks,
so every number reported is the global one and the same on all ranks.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from functools import partial
from typing import Iterable, Iterator

import torch
import torch.nn.functional as F

from model.training.augment import train_transform
from model.nets.device import cpu_cores
from model.core.errors import DatasetError
from model.core.throttle import Throttle
from model.core.events import BatchSizeReduced, FeatureCaching, Notice, Paused, PreparingImages, Resumed, SkippedFile, StepMetrics
from model.training.features import PooledBackbone, cache_key, open_store
from model.training.loaders import (
    ImageSamples,
    SubsetSampler,
    decode_for_eval,
    decode_for_training,
    make_loader,
    memory_budget_bytes,
    prepare_cache,
)
from model.training.loop import BatchSize, Stepper, StepResult, run_in_chunks
from model.nets.network import feature_dim
from model.training.sharding import ShardedBatchSampler, shard
from model.training.context import RunContext

class LossNotFinite(Exception):
    """The training loss stopped being a number (NaN or infinite) at ``epoch``, ``step``."""

    def __init__(self, epoch: int, step: int, value: float) -> None:
        super().__init__(f"loss {value} at epoch {epoch}, step {step}")
        self.epoch, self.step, self.value = epoch, step, value


def check_losses(epoch: int, losses: list) -> None:
    """Raise ``LossNotFinite`` for the first non-finite (step, summed loss) in ``losses``, then forget them.

    Called where the losses are read anyway (step reports, the end, a stop), so a GPU is not
    stopped after every step; the step is still the exact one that went wrong."""
    for step, loss in losses:
        value = float(loss)
        if not math.isfinite(value):
            raise LossNotFinite(epoch, step, value)
    losses.clear()


STEP_EVENT_INTERVAL = 0.25  # seconds between StepMetrics: smooth curves without flooding the UI
PROGRESS_INTERVAL = 0.2


class ModeData:
    """What both modes share; subclasses provide ``prepare``, ``train_epoch`` and ``validate``."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.control = ctx.control
        self.loader = None
        self.sum_scale: float | None = None  # distributed: how the current step's summed loss is scaled

    def close(self) -> None:
        """Let go of loader worker processes (persistent ones would otherwise outlive the run)."""
        self.loader = None

    def pause_point(self, epoch: int, step: int) -> Iterator[object]:
        if self.control.paused:
            yield Paused(epoch, step)
            self.control.wait_while_paused()
            if not self.control.stopped:
                yield Resumed(epoch, step)

    def report_failures(self, failed: Iterable[tuple[int, str]], samples, active: list[int]) -> Iterator[object]:
        for i, reason in failed:
            if i in active:
                active.remove(i)
            yield SkippedFile(str(samples[i][0]), reason)

    def train_fn(self, x: torch.Tensor, y: torch.Tensor) -> StepResult:
        if self.sum_scale is None:  # one process: the plain mean loss
            out = self.ctx.stepper.train_step(x, y)
        else:
            out = self.ctx.stepper.train_step(x, y, self.sum_scale)
        if self.ctx.quality is not None:
            self.ctx.quality.after_step(self.ctx.net)  # the EMA of the weights, when there is one
        return out

    def train_steps(self, epoch: int, batches: Iterator, total: int, min_chunk: int = 1):
        """Run an epoch's batches of (inputs, labels, failed); returns (loss, acc) or None when stopped.

        ``total``: the samples of all global batches (all ranks together)."""
        t, dist = self.ctx, self.ctx.dist
        loss_sum, correct, count, seen, step = 0.0, 0, 0, 0, 0
        steps = max(1, -(-total // t.batch_size.value))
        if dist.enabled:
            # An out-of-memory halving on one rank would split its step in two while the others
            # take one: their gradient all-reduces would no longer pair up. Fail clearly instead.
            min_chunk = t.batch_size.value
        started, step_events = time.perf_counter(), Throttle(STEP_EVENT_INTERVAL)
        unchecked: list = []  # (step, loss) not yet checked for NaN
        for x, y, failed in batches:
            yield from failed
            yield from self.pause_point(epoch, step)
            if t.stop_requested():
                check_losses(epoch, unchecked)  # a stop saves the weights: never NaN ones
                return None
            t.schedule.set_progress(epoch - 1 + seen / max(1, total))
            if dist.enabled:
                self.sum_scale = dist.world_size / max(1, min(t.batch_size.value, total - step * t.batch_size.value))
            step_loss, step_correct, step_count = 0.0, 0, 0
            if dist.enabled and y.shape[0] == 0:
                # An empty shard (a last global batch smaller than the world) still takes part in
                # the step's gradient all-reduce, with a zero loss.
                outs = [self.train_fn(x, y)]
            else:
                outs = run_in_chunks(self.train_fn, x, y, t.batch_size, t.stepper.free_memory, min_chunk)
            for out in outs:
                if isinstance(out, BatchSizeReduced):
                    yield out
                    continue
                step_loss, step_correct, step_count = step_loss + out.loss_sum, step_correct + out.correct, step_count + out.count
            n = int(y.shape[0])
            if dist.enabled:  # the global step: the same numbers on every rank
                step_loss, step_correct, step_count, n = dist.sum([float(step_loss), float(step_correct), step_count, n])
                step_count, n = int(step_count), int(n)
            loss_sum, correct, count = loss_sum + step_loss, correct + step_correct, count + step_count
            seen += n
            step += 1
            unchecked.append((step, step_loss))
            if count and step_events.ready(seen, total):
                check_losses(epoch, unchecked)
                now = time.perf_counter()
                loss, acc = float(loss_sum) / count, float(correct) / count
                yield StepMetrics(epoch, step, max(steps, step), loss, acc, t.schedule.lr, seen / max(now - started, 1e-9))
        if count == 0:
            raise DatasetError("None of the training images could be decoded: check the dataset folder.")
        check_losses(epoch, unchecked)
        return float(loss_sum) / count, float(correct) / count

    def summarize_val(self, samples, indices: list[int], labels: list[torch.Tensor], logits: list[torch.Tensor]):
        if not indices:
            return None, None, None
        y, out = torch.cat(labels), torch.cat(logits)
        loss = float(F.cross_entropy(out, y))
        acc = float((out.argmax(1) == y).float().mean())
        return loss, acc, ([str(samples[i][0]) for i in indices], y, out)

    def agree_on_active(self, active: list[int]) -> None:
        """Distributed: drop (in place) the samples any rank found undecodable, so that every rank
        keeps the same list and draws the same global order next epoch."""
        dist = self.ctx.dist
        if dist.enabled:
            keep = set.intersection(*(set(a) for a in dist.all_gather_object(list(active))))
            active[:] = [i for i in active if i in keep]

    def gather_outputs(self, indices: list[int], labels: list[torch.Tensor], logits: list[torch.Tensor]):
        """Distributed: every rank's validation outputs on every rank, in sample order (as one process has them)."""
        dist = self.ctx.dist
        if not dist.enabled:
            return indices, labels, logits
        rows = [
            (i, y, out)
            for part_indices, part_labels, part_logits in dist.all_gather_object((indices, labels, logits))
            if part_indices
            for i, y, out in zip(part_indices, torch.cat(part_labels), torch.cat(part_logits))
        ]
        rows.sort(key=lambda r: r[0])
        if not rows:
            return [], [], []
        return [r[0] for r in rows], [torch.stack([r[1] for r in rows])], [torch.stack([r[2] for r in rows])]


class FullModeData(ModeData):
    """Images decoded once into memory (up to a budget), augmented on the fly every epoch."""

    def __init__(self, ctx: RunContext) -> None:
        super().__init__(ctx)
        t = ctx
        size = t.settings.image_size
        self.val = ImageSamples(t.val_samples, partial(decode_for_eval, prep=t.prep))
        self.train = ImageSamples(
            t.train_samples, partial(decode_for_training, image_size=size), train_transform(size, t.settings.augment, t.settings.flip)
        )
        self.train_active = list(range(len(self.train)))
        self.val_active = list(range(len(self.val)))
        balanced = t.quality.sampler(self.train_active, t.settings.seed) if t.quality is not None else None
        self.sampler = balanced or SubsetSampler(self.train_active, shuffle=True, seed=t.settings.seed, augment_seeds=True)
        self.batches: ShardedBatchSampler | None = None  # distributed only

    def prepare(self) -> Iterator[object]:
        budget, done, total = memory_budget_bytes(), 0, len(self.val) + len(self.train)
        progress = Throttle(PROGRESS_INTERVAL)
        for ds, active in ((self.val, self.val_active), (self.train, self.train_active)):
            used = sum(e.nbytes if hasattr(e, "nbytes") else e.numel() for e in ds.cache.values())
            for i, reason in prepare_cache(ds, budget - used, cpu_cores()):
                done += 1
                if reason is not None:
                    yield from self.report_failures([(i, reason)], ds.samples, active)
                if progress.ready(done, total):
                    yield PreparingImages(done, total)
                yield from self.pause_point(0, 0)
                if self.control.stopped:
                    return
            budget -= sum(e.nbytes if hasattr(e, "nbytes") else e.numel() for e in ds.cache.values()) - used
        cached = len(self.val.cache) + len(self.train.cache)
        if cached < total:
            yield Notice(f"{total - cached} images do not fit the memory cache and are decoded every epoch.")

    def train_epoch(self, epoch: int):
        t = self.ctx
        t.net.train()
        if t.settings.backbone_frozen(epoch):
            t.net.features.eval()  # a frozen backbone keeps its batch-norm statistics too
        dist = t.dist
        if dist.enabled and self.loader is None:
            # Two images or more per rank and step: batch norm cannot train on one.
            self.batches = ShardedBatchSampler(self.sampler, t.batch_size.value, dist.rank, dist.world_size, min_shard=2)
            self.loader = make_loader(self.train, None, 0, t.workers, t.policy.pin_memory, batch_sampler=self.batches)
        elif not dist.enabled and (self.loader is None or self.loader.batch_size != t.batch_size.value):
            # Drop a last batch of one: batch norm cannot train on a single image.
            one_left = len(self.train_active) % t.batch_size.value == 1
            self.loader = make_loader(self.train, self.sampler, t.batch_size.value, t.workers, t.policy.pin_memory, one_left)
        self.sampler.epoch = epoch
        total = self.batches.global_total() if dist.enabled else len(self.train_active)
        failures = partial(self.report_failures, samples=self.train.samples, active=self.train_active)
        batches = ((b.images, b.labels, failures(b.failed)) for b in self.loader)
        result = yield from self.train_steps(epoch, batches, total, min_chunk=2)
        if result is not None:
            self.agree_on_active(self.train_active)
        return result

    def train_fn(self, x: torch.Tensor, y: torch.Tensor) -> StepResult:
        if x.shape[0] < 2:  # batch norm cannot train on one image; it is the rare tail of a batch split
            if self.ctx.dist.enabled:
                # Files failed mid-epoch left this rank's shard short, but every rank must take part
                # in the step's gradient all-reduce: train it with frozen batch-norm statistics.
                with batch_norm_frozen(self.ctx.net):
                    return super().train_fn(x, y)
            return StepResult(0.0, 0, 0)
        return super().train_fn(x, y)

    def validate(self, module: torch.nn.Module | None = None, alone: bool = False):
        """Validate ``module`` (default: the network being trained; else its EMA), all ranks together
        (``alone``: this process on every sample, with no other rank)."""
        t, dist = self.ctx, self.ctx.dist
        together = dist.enabled and not alone
        t.net.eval()
        if together:
            dist.sync_buffers(t.net)
        workers = 0 if len(self.val.cache) == len(self.val) else t.workers  # cached crops need no workers
        mine = shard(self.val_active, dist.rank, dist.world_size) if together else list(self.val_active)
        loader = make_loader(self.val, SubsetSampler(mine, False), t.batch_size.value, workers, False)
        indices, labels, logits = [], [], []
        for b in loader:
            yield from self.report_failures(b.failed, self.val.samples, self.val_active)
            # Distributed, a stop waits for the next training step, where all ranks agree on it;
            # validating alone happens after the training, when a stop has nothing left to cut short.
            if self.control.stopped and not dist.enabled and not alone:
                return None
            for out in run_in_chunks(lambda x, y: t.stepper.logits(x, module), b.images, b.labels, t.batch_size, t.stepper.free_memory):
                if isinstance(out, torch.Tensor):
                    logits.append(out)
            indices += b.indices.tolist()
            labels.append(b.labels)
        if together:
            indices, labels, logits = self.gather_outputs(indices, labels, logits)
            self.agree_on_active(self.val_active)
        return self.summarize_val(self.val.samples, indices, labels, logits)


class HeadModeData(ModeData):
    """The frozen backbone's features of every image, computed once; the head trains on them."""

    def prepare(self) -> Iterator[object]:
        t = self.ctx
        self.samples = list(t.train_samples) + list(t.val_samples)
        self.n_train = len(t.train_samples)
        self.labels = torch.tensor([y for _, y in self.samples], dtype=torch.long)
        n, dim = len(self.samples), feature_dim(t.net)
        key = cache_key(t.settings.variant, t.settings.weights_source, t.settings.image_size, self.samples)
        # Only rank 0 writes files: the other ranks of a distributed run keep their features in memory.
        where = t.feature_cache if t.dist.is_main else "memory"
        self.store, complete = open_store(n, dim, t.cache_dir, key, where, memory_budget_bytes() // 2)
        if complete:
            yield Notice(f"Reusing the backbone features cached in {self.store.path}.")
        else:
            yield from self._extract()
            if self.control.stopped:
                return
            self.store.finish()
        self.train_active = [i for i in range(self.n_train) if self.store.valid[i]]
        self.val_active = [i for i in range(self.n_train, n) if self.store.valid[i]]

    def _extract(self) -> Iterator[object]:
        t = self.ctx
        extractor = Stepper(PooledBackbone(t.net).eval(), t.device, t.policy, t.prep)
        dataset = ImageSamples(self.samples, partial(decode_for_eval, prep=t.prep))
        size = BatchSize(2 * t.batch_size.value)  # no gradients: twice the training batch fits
        loader = make_loader(dataset, SubsetSampler(list(range(len(dataset))), False), size.value, t.workers, t.policy.pin_memory)
        done, progress = 0, Throttle(PROGRESS_INTERVAL)
        yield FeatureCaching(0, len(dataset))
        for b in loader:
            yield from self.report_failures(b.failed, self.samples, [])
            yield from self.pause_point(0, 0)
            if self.control.stopped:
                return
            rows = [o for o in run_in_chunks(lambda x, y: extractor.logits(x), b.images, b.labels, size, extractor.free_memory) if isinstance(o, torch.Tensor)]
            if rows:
                self.store.put(b.indices.tolist(), torch.cat(rows))
            done += len(b) + len(b.failed)
            if progress.ready(done, len(dataset)):
                yield FeatureCaching(done, len(dataset))

    def train_epoch(self, epoch: int):
        t = self.ctx
        t.net.classifier.train()
        g = torch.Generator().manual_seed(t.settings.seed * 100_003 + epoch)
        order = [self.train_active[k] for k in torch.randperm(len(self.train_active), generator=g).tolist()]

        def batches():
            start = 0
            while start < len(order):
                idx = order[start : start + t.batch_size.value]
                start += len(idx)
                idx = shard(idx, t.dist.rank, t.dist.world_size)
                yield self.store.rows(idx), self.labels[idx], ()

        return (yield from self.train_steps(epoch, batches(), len(order)))

    def validate(self, module: torch.nn.Module | None = None, alone: bool = False):
        # Distributed, every rank validates everything: on cached features it is cheap, and the
        # ranks get identical results without exchanging anything.
        t = self.ctx
        t.net.classifier.eval()
        head = None if module is None else module.classifier  # an EMA of the whole network: its head
        logits = []
        for start in range(0, len(self.val_active), 4096):
            idx = self.val_active[start : start + 4096]
            logits.append(t.stepper.logits(self.store.rows(idx), head))
        yield from ()
        labels = [self.labels[self.val_active]] if self.val_active else []
        return self.summarize_val(self.samples, self.val_active, labels, logits)


@contextmanager
def batch_norm_frozen(net: torch.nn.Module):
    """Batch-norm layers in eval mode (running statistics, no update) while the block runs."""
    layers = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.training]
    for m in layers:
        m.eval()
    try:
        yield
    finally:
        for m in layers:
            m.train()
