"""``ordered_map``: a function over items on a thread pool, results in input order, bounded ahead.

Classification decodes (and on a CPU also infers) on worker threads, but a GUI
or a CSV wants results in the order the files were given, and hundreds of
dropped photos must not all be held in memory at once. ``ordered_map`` keeps
at most ``lookahead`` items in flight and yields results strictly in order.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def ordered_map(
    fn: Callable[[Item], Result],
    items: Iterable[Item],
    workers: int,
    lookahead: int,
    cancel: threading.Event | None = None,
    overlap: bool = True,
    name: str = "worker",
) -> Iterator[Result]:
    """Yield ``fn(item)`` for each item, in order, computed on ``workers`` threads.

    With ``overlap`` a new item is started each time one is yielded, so the
    pool keeps working while the consumer does. Without it the pool computes
    ``lookahead`` items, then stays idle until the consumer has taken all of
    them and comes back for more (when the consumer's own work needs every
    core). Stops early when ``cancel`` is set; queued work is dropped and
    running work finishes before the generator returns.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
    queue: deque[Future] = deque()
    pending = iter(items)
    lookahead = max(1, lookahead)

    def submit(count: int) -> None:
        for item in itertools.islice(pending, count):
            queue.append(pool.submit(fn, item))

    try:
        submit(lookahead)
        while queue:
            if cancel is not None and cancel.is_set():
                return
            result = queue.popleft().result()
            if overlap:
                submit(1)
            yield result
            if not overlap and not queue:
                submit(lookahead)
    finally:
        # Also runs when the consumer stops early: drop queued work, let running work end.
        pool.shutdown(wait=True, cancel_futures=True)
