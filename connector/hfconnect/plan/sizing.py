"""How many shards a read gets: enough to keep every core busy, never so small that a task's fixed cost
outweighs its read, none reading more than `shard_size`.

Why not a fixed minimum: Spark spends a fixed time per task of a Python data source before a row moves, so 8
tasks on 2 cores for a narrow query over a few MB cost more than they save, and more tasks cost more
(bench/MEASUREMENTS.md has the figures). The bytes that count are the bytes a task reads: the
projected columns' share of the file bytes, from the footers planning read anyway.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping

__all__ = ["FILE_COST_BYTES", "MIN_TASK_BYTES", "default_parallelism", "even_runs", "read_fraction",
           "shard_target"]

# Below this many bytes read, a task costs more in fixed overhead (worker, scheduling, footer, Arrow handover)
# than it reads in that time (bench/MEASUREMENTS.md: that time, and what a core reads in it).
MIN_TASK_BYTES = 16_000_000
# What opening one more file costs a task (a resolve, a footer, a round trip or two), in bytes of reading.
FILE_COST_BYTES = 1_000_000


def default_parallelism() -> int:
    """Cores the planning process can see: Spark hands its planning workers no session conf, so unless
    `hfconnect.spark.register(spark)` passed the cluster's defaultParallelism, this machine's cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def read_fraction(column_bytes: Iterable[Mapping[str, int]], columns: Iterable[str] | None) -> float:
    """The share of the file bytes a read of `columns` fetches, from footers' per-column compressed sizes
    (1.0 when all columns are read or no footer says)."""
    wanted = set(columns or ())
    total = chosen = 0
    for sizes in column_bytes:
        for name, nbytes in sizes.items():
            total += nbytes
            chosen += nbytes if name in wanted else 0
    if not wanted or not total:
        return 1.0
    return max(chosen / total, 1e-3)


def shard_target(total_bytes: int, *, shard_size: int, parallelism: int, min_shards: int | None = None,
                 fraction: float = 1.0, files: int = 0, min_task_bytes: int = MIN_TASK_BYTES) -> int:
    """Bytes (of files) per shard for `total_bytes` of files of which a task reads `fraction`.

    An explicit `min_shards` keeps its meaning (at least that many shards). Otherwise: one shard per core when
    there is enough work (fewer when each would read less than `min_task_bytes`, counting each of the `files` as
    FILE_COST_BYTES of reading: many tiny files are work too), more only to keep every
    shard's read under `shard_size` (a narrow read's shards span more file bytes), in whole waves of
    `parallelism` tasks.
    """
    if total_bytes <= 0:
        return max(1, shard_size)
    cap = math.ceil(total_bytes * fraction / shard_size)  # no task reads more than shard_size
    if min_shards is not None:
        count = max(cap, min_shards)
    else:
        worth = max(1, math.floor((total_bytes * fraction + files * FILE_COST_BYTES) / min_task_bytes))
        count = max(cap, min(max(1, parallelism), worth))
        if count > parallelism > 0:
            count = math.ceil(count / parallelism) * parallelism  # whole waves: no core idles at the end
    return max(1, math.ceil(total_bytes / count))


def even_runs(sizes: list[int], count: int) -> list[range]:
    """`sizes` (indices) in at most `count` consecutive runs, as even as whole items allow: the boundaries sit
    where the running total crosses multiples of total/count (an item belongs to the run its middle falls in),
    so no run is a sliver; an item larger than total/count is a run of its own."""
    total = sum(sizes)
    if not sizes:
        return []
    count = max(1, count)
    if count == 1 or not total:
        return [range(len(sizes))]
    step = total / count
    runs: list[range] = []
    start, seen, current = 0, 0, 0
    for i, size in enumerate(sizes):
        # the run an item belongs to: where its middle falls; never backwards
        k = max(current, min(count - 1, int((seen + size / 2) // step)))
        if k != current and i > start:
            runs.append(range(start, i))
            start = i
        current = k
        seen += size
    runs.append(range(start, len(sizes)))
    return runs
