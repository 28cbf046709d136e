"""What Spark's batch reader (`source.py`) and stream reader (`stream_source.py`) share: the partition a shard
travels in, and the Arrow schema its rows are conformed to.

In a module of its own so that neither reader imports the other. Like `source.py`, it imports at module level
only what Spark's worker has imported already (tests/spark/test_fixed_cost.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql.datasource import InputPartition

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql.types import StructType

    from ..plan import ReadPlan, Shard

__all__ = ["ShardPartition", "arrow_target"]


class ShardPartition(InputPartition):
    """One shard and the plan it belongs to (without the other shards: partitions stay small)."""

    def __init__(self, plan: ReadPlan, shard: Shard) -> None:
        super().__init__(shard.index)
        self.plan = plan
        self.shard = shard


def arrow_target(schema: StructType) -> pa.Schema:
    """The Arrow schema of Spark's `schema`, which the rows handed to Spark are conformed to."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema, timezone="UTC")
