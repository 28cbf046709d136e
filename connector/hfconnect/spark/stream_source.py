"""`spark.readStream.format("huggingface").load("org/name")`: follow a dataset's branch commit by commit.

Offsets are commit shas (plus a position inside one commit's new files when a per-trigger limit cuts them);
each micro-batch reads the files ADDED to the config/split since the last offset, planned by the shared planner
and read by the shared reader, like a batch read (projection with `columns` or `.schema(...)`, the `filters`
option). Options on top of a batch read's: starting, maxFilesPerTrigger, maxBytesPerTrigger, on_deleted_files
(`hfconnect.stream.options.StreamReadOptions`). The Hub is polled on the driver only, at most once per trigger.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSourceStreamReader, InputPartition
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    ReadMaxBytes,
    ReadMaxFiles,
    SupportsTriggerAvailableNow,
)
from pyspark.sql.types import StructType

from ..options import ReadOptions
from ..read import read_shard
from ..stream.follow import DatasetFollower
from ..stream.offsets import StreamOffset
from ..stream.options import StreamReadOptions
from .error_text import spark_facing
from .partitions import ShardPartition, arrow_target
from .types import conform_batch

__all__ = ["HuggingFaceStreamReader"]


class HuggingFaceStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Made twice by Spark: in the long-lived driver process that asks for offsets and partitions, and in the
    planning process whose copy is pickled to the tasks to `read`. The constructor does no Hub I/O."""

    def __init__(self, options: ReadOptions, stream: StreamReadOptions, schema: StructType) -> None:
        self.schema = schema
        self.stream = stream
        self.follower = DatasetFollower(options, stream, arrow_target(schema))

    @spark_facing
    def initialOffset(self) -> dict[str, Any]:  # noqa: N802 - Spark's names
        return self.follower.initial_offset().to_json()

    @spark_facing
    def getDefaultReadLimit(self) -> ReadLimit:  # noqa: N802
        """Spark's admission control: the limit Spark passes back to latestOffset (AvailableNow included)."""
        if self.stream.max_files_per_trigger is not None:
            return ReadMaxFiles(self.stream.max_files_per_trigger)
        if self.stream.max_bytes_per_trigger is not None:
            return ReadMaxBytes(self.stream.max_bytes_per_trigger)
        return ReadAllAvailable()

    @spark_facing
    def latestOffset(self, start: dict[str, Any], limit: ReadLimit) -> dict[str, Any]:  # noqa: N802
        # One ReadLimit reaches us; a limited trigger applies both of our limits (Spark has no composite limit).
        limited = not isinstance(limit, ReadAllAvailable)
        return self.follower.latest_offset(StreamOffset.from_json(start), limited).to_json()

    @spark_facing
    def prepareForTriggerAvailableNow(self) -> None:  # noqa: N802
        self.follower.prepare_available_now()

    @spark_facing
    def partitions(self, start: dict[str, Any], end: dict[str, Any]) -> Sequence[InputPartition]:
        plan = self.follower.plan(StreamOffset.from_json(start), StreamOffset.from_json(end))
        if plan is None:
            return []
        header = replace(plan, shards=())
        return [ShardPartition(header, shard) for shard in plan.shards]

    @spark_facing
    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        if not isinstance(partition, ShardPartition):
            return
        target = arrow_target(self.schema)
        for batch in read_shard(partition.plan, partition.shard):
            yield conform_batch(batch, target)

    @spark_facing
    def commit(self, end: dict[str, Any]) -> None:
        """Nothing to release: offsets are commits of the Hub's, which keeps them."""
