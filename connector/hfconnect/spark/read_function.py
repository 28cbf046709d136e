"""`hfconnect.spark.read(spark, repo, ...)`: the same pinned, pruned read as `format("huggingface")`, planned in
the driver's Python process and run through `mapInArrow`.

Why it exists: a Python data source's first action pays for three short-lived Python processes on the driver
(lookup, create, plan); this pays none of them. What it gives up: Spark cannot push `.where()` into mapInArrow,
so filters that should prune row groups go in `filters=` (as for the format's `filters` option); results are
exact either way. The plan (commit, files, shards) is made once, here, and travels to the tasks in the
function's closure: Spark prints the function's name in explain(), never its closure (no token there).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["read"]


def read(spark: Any, repo: str, **options: Any) -> Any:
    """A DataFrame of `repo` (keyword options as for `format("huggingface")`: split, config, revision, columns,
    filters, token, endpoint, shard_size, ...), one Spark partition per shard of hfconnect's plan."""
    from ..options import ReadOptions
    from ..plan import plan_read
    from .source import spark_schema
    from .workers import check_worker_python, cluster_parallelism

    check_worker_python(spark)  # the tasks import hfconnect: a worker Python without it fails clearly, here
    read_options = ReadOptions.build(repo=repo, engine="spark", **options)
    plan = plan_read(read_options, parallelism=cluster_parallelism(spark))
    schema = spark_schema(plan.schema)
    shards = plan.shards
    header = _header(plan)

    def read_shards(batches: Iterator[Any]) -> Iterator[Any]:
        # absolute imports: Spark ships this function by value to the tasks
        from pyspark.sql.pandas.types import to_arrow_schema

        from hfconnect.read import read_shard
        from hfconnect.spark.error_text import message_first
        from hfconnect.spark.types import conform_batch

        target = to_arrow_schema(schema, timezone="UTC")
        with message_first():  # an hfconnect error reaches the user as its message, not after our frames
            for batch in batches:
                for index in batch.column(0).to_pylist():
                    for out in read_shard(header, shards[index]):
                        yield conform_batch(out, target)

    count = max(1, len(shards))
    return spark.range(0, len(shards), 1, count).mapInArrow(read_shards, schema)


def _header(plan: Any) -> Any:
    from dataclasses import replace

    return replace(plan, shards=())
