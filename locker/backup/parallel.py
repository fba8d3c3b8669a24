"""Copying many objects at once: a store's latency, not its bandwidth, bounds a one-by-one
copy of small objects (one round trip each)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Items handed to the threads at a time, per thread: a list of millions of keys is never
# queued whole, and the threads rarely wait for the next batch.
_BATCH_PER_JOB = 32


def in_parallel(
    work: Callable[[Item], Result], items: Iterable[Item], jobs: int
) -> Iterator[Result]:
    """`work` on every item by `jobs` threads, results in the items' order; the first
    error stops the copy once the batch in flight is done, and is raised."""
    if jobs <= 1:
        yield from map(work, items)
        return
    source = iter(items)
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="locker-backup") as pool:
        while batch := list(islice(source, jobs * _BATCH_PER_JOB)):
            yield from pool.map(work, batch)
