"""The shard-count rule: cores, data size and per-task overhead decide, not a fixed minimum."""

from __future__ import annotations

import math

import pytest

from hfconnect.plan.sizing import MIN_TASK_BYTES, read_fraction, shard_target

MB = 1_000_000
SHARD = 128 * MB


def shards(total: int, **kw: object) -> int:
    return math.ceil(total / shard_target(total, shard_size=SHARD, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(("total", "cores", "want"), [
    (120 * MB, 2, 2),  # the small dataset: one shard per core
    (120 * MB, 8, 7),  # each of 8 would read < MIN_TASK_BYTES: 7 shards of >= 16 MB
    (5 * MB, 8, 1),  # a tiny read is one task
    (1070 * MB, 2, 10),  # 9 shards keep each under shard_size; 10 make whole waves of 2
    (1070 * MB, 16, 16),  # a wider cluster: one shard per core
    (10_000 * MB, 4, 80),  # large data: shard_size decides, rounded to waves
])
def test_shards_follow_cores_size_and_overhead(total: int, cores: int, want: int) -> None:
    assert shards(total, parallelism=cores) == want


def test_a_narrow_read_gets_fewer_shards() -> None:
    """count+sum of one float column of six reads ~3% of the bytes: fewer tasks, each worth its overhead."""
    wide = shards(1070 * MB, parallelism=16)
    narrow = shards(1070 * MB, parallelism=16, fraction=0.03)
    assert narrow < wide and narrow == 2  # 32 MB read: two tasks of 16 MB
    assert shards(1070 * MB, parallelism=16, fraction=0.03) * MIN_TASK_BYTES <= 1070 * MB * 0.03 + MIN_TASK_BYTES


def test_shard_size_is_never_exceeded_and_min_shards_keeps_its_meaning() -> None:
    for total in (1, 10 * MB, 500 * MB, 3_000 * MB):
        for cores in (1, 2, 3, 64):
            assert shard_target(total, shard_size=SHARD, parallelism=cores) <= SHARD
    assert shards(120 * MB, parallelism=2, min_shards=8) == 8
    assert shards(2_000 * MB, parallelism=2, min_shards=8) == 16  # shard_size still caps


def test_read_fraction_from_footer_column_sizes() -> None:
    footers = [{"id": 10, "text": 80, "f": 10}, {"id": 10, "text": 80, "f": 10}]
    assert read_fraction(footers, ["f"]) == pytest.approx(0.1)
    assert read_fraction(footers, ["id", "f"]) == pytest.approx(0.2)
    assert read_fraction(footers, None) == 1.0
    assert read_fraction([], ["f"]) == 1.0  # no footer says: assume everything


def test_many_tiny_files_are_work_for_every_core() -> None:
    assert shards(3 * MB, parallelism=4) == 1
    assert shards(3 * MB, parallelism=4, files=1_500) == 4
