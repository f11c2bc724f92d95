"""Which samples each rank of a distributed run trains on.

The design is the simplest one that keeps a run independent of its world size:
the engine draws the same *global* order of samples on every rank (from the
seed and the epoch, as a single process does), cuts it into global batches of
``--batch-size`` and rank ``r`` of ``world`` takes the samples ``r::world`` of
each global batch. Nothing about the sharding is saved: a checkpoint holds only
global state, so a run stopped on 8 processes resumes on 1 (or 4) and sees the
same global batches in the same order.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import torch


def shard(indices: Sequence[int], rank: int, world: int) -> list[int]:
    """Rank ``rank``'s part of one global batch (the whole batch when ``world`` is 1)."""
    return list(indices[rank::world])


class ShardedBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Cuts ``sampler``'s order into global batches of ``batch_size``; yields this rank's shard of each.

    ``min_shard``: a last, short global batch is dropped when any rank's shard of it would
    hold fewer samples (full mode: batch norm cannot train on one image, and every rank
    must take part in every step's gradient all-reduce).
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, rank: int, world: int, min_shard: int = 0) -> None:
        self.sampler = sampler
        self.batch_size = batch_size
        self.rank = rank
        self.world = world
        self.min_shard = min_shard

    def _global_batches(self) -> Iterator[list[int]]:
        order = list(self.sampler)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            if len(batch) // self.world < self.min_shard:  # the smallest shard of this batch
                return
            yield batch

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._global_batches():
            yield shard(batch, self.rank, self.world)

    def __len__(self) -> int:
        return sum(1 for _ in self._global_batches())

    def global_total(self) -> int:
        """How many samples all ranks together train on in one pass."""
        return sum(len(b) for b in self._global_batches())
