"""plan_files: a plan over files the caller names (a streaming trigger's new files) with the planner's own
shard cutting and output schema, and no Hub request when no footer is needed (small files, no filter)."""

from __future__ import annotations

import pyarrow as pa

from hfconnect.hub.datafiles import DataFile
from hfconnect.hub.snapshot import Snapshot
from hfconnect.options import ReadOptions
from hfconnect.plan.files import plan_files

SNAPSHOT = Snapshot("o/n", "a" * 40, "main", "http://hub.invalid")
SCHEMA = pa.schema([("id", pa.int64()), ("text", pa.string())])


def _options(**extra) -> ReadOptions:
    return ReadOptions.build(repo="o/n", endpoint="http://hub.invalid", token="hf_x", **extra)


def test_small_files_become_file_shards_spread_over_min_shards_without_any_request() -> None:
    files = tuple(DataFile(f"data/f{i}.parquet", 1000, "parquet") for i in range(10))
    plan = plan_files(_options(min_shards=4), SNAPSHOT, {"train": files}, config="default", file_schema=SCHEMA)
    parts = [p.path for s in plan.shards for p in s.parts]
    assert parts == [f.path for f in files]  # every file once, in order
    assert 4 <= len(plan.shards) <= 5
    assert plan.footers_read == 0 and plan.total_files == 10 and plan.total_bytes == 10_000
    assert plan.snapshot == SNAPSHOT and plan.layout_source == "stream"
    assert "hf_x" not in plan.explain() and "hf_x" not in repr(plan)


def test_the_output_schema_is_the_given_one_projected_and_split_all_adds_the_split() -> None:
    f = (DataFile("data/a.parquet", 10, "parquet"),)
    # min_shards=1: no file is larger than a shard, so no footer is needed (files larger than a shard are split)
    assert plan_files(_options(columns="text", min_shards=1), SNAPSHOT, {"train": f}, config="c", file_schema=SCHEMA
                      ).schema.names == ["text"]
    splits = {"train": f, "test": (DataFile("data/b.parquet", 10, "parquet"),)}
    both = plan_files(_options(split="all", min_shards=1), SNAPSHOT, splits, config="c", file_schema=SCHEMA)
    assert both.schema.names == ["id", "text", "split"] and both.splits == ("train", "test")
    assert {(p.path, p.split) for s in both.shards for p in s.parts} == {("data/a.parquet", "train"),
                                                                         ("data/b.parquet", "test")}


def test_no_files_no_shards() -> None:
    plan = plan_files(_options(), SNAPSHOT, {}, config="default", file_schema=SCHEMA)
    assert plan.shards == () and plan.total_files == 0
