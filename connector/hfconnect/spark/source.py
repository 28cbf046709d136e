"""`spark.read.format("huggingface")`: a Spark 4 Python Data Source over hfconnect's planner and reader.

Options (case-insensitive; unknown ones are rejected with the list of valid ones; docs/options.md says what
each does): config, split ("all" adds a `split` column), revision, token, endpoint, data_files, data_dir,
columns, filters (JSON DNF), shard_size, min_shards, batch_size, max_concurrency, prefetch,
read_ahead_bytes, pushdown_filters
(see `HuggingFaceDataSource.reader`), retry_budget, drop_labels, drop_metadata (image/audio folders).
`.schema("id long, text string")` reads only those columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

# Spark imports this module in each of its planning processes (lookup, create, plan) and tasks: only what
# Spark's worker has imported already is imported here (and error_text: the standard library and
# hfconnect.errors; partitions: pyspark's datasource again); pyarrow, the planner and the reader load in the
# methods that use them (tests/spark/test_fixed_cost.py checks it).
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from .error_text import spark_facing
from .partitions import ShardPartition, arrow_target

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyspark.sql.datasource import DataSourceStreamReader, DataSourceStreamWriter, DataSourceWriter
    from pyspark.sql.types import StructType

    from ..options import ReadOptions
    from ..plan import ReadPlan

__all__ = ["HuggingFaceDataSource"]


class HuggingFaceDataSource(DataSource):
    """Reads Hugging Face Hub datasets in parallel, pinned to one commit, with projection and filter pushdown."""

    # Cores the reads are cut for: set by hfconnect.spark.register(spark) (a subclass Spark pickles by value);
    # None: the cores of the process that plans (plan.sizing).
    parallelism: int | None = None

    @classmethod
    def name(cls) -> str:
        return "huggingface"

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self._read_options: ReadOptions | None = None
        self._plan: ReadPlan | None = None  # made for schema(); Spark pickles this object after it
        self._stream_options: dict[str, str] = {}

    @property
    def read_options(self) -> ReadOptions:
        """Parsed on first use: a write's options are parsed by the writer instead."""
        if self._read_options is None:
            from ..options import ReadOptions
            from ..stream.options import STREAM_READ_KEYS, split_stream_options

            self._stream_options, values = split_stream_options(self.options, STREAM_READ_KEYS)  # readStream's
            repo = values.pop("path", None)
            self._read_options = ReadOptions.from_strings(values, repo=repo)
        return self._read_options

    @spark_facing
    def schema(self) -> StructType:
        """Plans the read (Spark pickles this object after it, so the plan travels to the planning process that
        asks for partitions: no second listing there)."""
        from ..plan import plan_read

        self._plan = plan_read(self.read_options, parallelism=self.parallelism)
        from .types import plan_features, spark_schema_with_features  # a column's Hub feature in its metadata

        return spark_schema_with_features(spark_schema(self._plan.schema), plan_features(self._plan))

    @spark_facing
    def writer(self, schema: StructType, overwrite: bool) -> DataSourceWriter:
        from .writer import writer_for

        return writer_for(self.options, schema, overwrite)

    @spark_facing
    def reader(self, schema: StructType) -> DataSourceReader:
        """The filtering reader only when asked for: option pushdown_filters=true (which then needs Spark's conf
        spark.sql.python.filterPushdown.enabled=true: without it Spark refuses the reader, naming the conf).

        Why opt-in: Spark 4.3 caches the read planned with pushed filters on the DataFrame's relation
        (PythonDataSourceV2.readInfo) and reuses it for later queries of the same DataFrame that push no
        filter, which then silently miss rows. With the option on, build a fresh DataFrame per query. The
        `filters` option (JSON DNF) is part of the relation itself and is always safe.
        """
        _reject_stream_options(self)
        plan = self._plan
        base = plan if plan is not None and (plan.snapshot.is_bucket or plan.snapshot.revision ==
                                             self.read_options.revision) else None
        if not self.read_options.pushdown_filters:
            return HuggingFaceReader(self.read_options, schema, base, self.parallelism)
        return HuggingFaceFilteringReader(self.read_options, schema, base, self.parallelism)

    @spark_facing
    def streamReader(self, schema: StructType) -> DataSourceStreamReader:  # noqa: N802 - Spark's name
        """`spark.readStream.format("huggingface")`: see hfconnect.spark.stream_source."""
        from ..hub.buckets import bucket_path
        from ..stream.options import StreamReadOptions
        from .stream_source import HuggingFaceStreamReader

        if bucket_path(self.read_options.repo) is not None:
            from ..errors import OptionError

            raise OptionError(f"{self.read_options.repo}: spark.readStream follows a dataset repo's commits; a "
                              "bucket has none: read it with spark.read")
        return HuggingFaceStreamReader(self.read_options, StreamReadOptions.from_strings(self._stream_options),
                                       schema)

    @spark_facing
    def streamWriter(self, schema: StructType, overwrite: bool) -> DataSourceStreamWriter:  # noqa: N802
        """`df.writeStream.format("huggingface")`: see hfconnect.spark.stream_writer."""
        from .stream_writer import stream_writer_for

        return stream_writer_for(self.options, schema, overwrite)


def _reject_stream_options(source: HuggingFaceDataSource) -> None:
    """A readStream option on a batch read would be silently ignored: an error instead."""
    source.read_options  # noqa: B018 - parsing sets _stream_options
    if source._stream_options:
        from ..errors import OptionError

        raise OptionError(f"option(s) {', '.join(sorted(source._stream_options))} apply to spark.readStream only; "
                          "remove them from this batch read")


class HuggingFaceReader(DataSourceReader):
    def __init__(self, options: ReadOptions, schema: StructType, base: ReadPlan | None = None,
                 parallelism: int | None = None) -> None:
        self.options = options
        self.parallelism = parallelism
        self.schema = schema
        self.base = base  # the schema's plan: same commit, no second listing
        self.expressions: list[pc.Expression] = []
        self.filter_columns: list[str] = []

    @spark_facing
    def partitions(self) -> Sequence[InputPartition]:
        """The schema's plan narrowed to this query when the filter is unchanged (no planner, no Hub request in
        this process), else a plan for the pushed filter."""
        from dataclasses import replace

        from ..plan.reuse import reuse_plan

        filter_expr = None
        for expr in self.expressions:
            filter_expr = expr if filter_expr is None else filter_expr & expr
        columns = self.schema.fieldNames()
        plan = reuse_plan(self.options, self.base, filter=filter_expr, filter_columns=self.filter_columns,
                          columns=columns)
        if plan is None:
            from ..plan import plan_read

            plan = plan_read(self.options, filter=filter_expr, filter_columns=self.filter_columns, columns=columns,
                             base=self.base, parallelism=self.parallelism)
        header = replace(plan, shards=())
        return [ShardPartition(header, shard) for shard in plan.shards]

    @spark_facing
    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        if not isinstance(partition, ShardPartition):  # Spark's placeholder when there are no shards
            return
        from ..read import read_shard
        from .types import conform_batch

        target = arrow_target(self.schema)
        for batch in read_shard(partition.plan, partition.shard):
            yield conform_batch(batch, target)


class HuggingFaceFilteringReader(HuggingFaceReader):
    """The reader Spark asks to take filters (spark.sql.python.filterPushdown.enabled=true)."""

    @spark_facing
    def pushFilters(self, filters: list[Any]) -> Iterator[Any]:  # noqa: N802 - Spark's name
        from ..plan.model import SPLIT_COLUMN
        from .filters import filter_column, to_expression

        arrow_schema = arrow_target(self.schema)
        media = {f.name for f in self.schema.fields if _media_field(f.metadata)}
        for spark_filter in filters:
            if self.options.split == "all" and filter_column(spark_filter) == SPLIT_COLUMN:
                yield spark_filter  # `split` is added by hfconnect, not stored in the files: Spark evaluates it
                continue
            if filter_column(spark_filter).split(".")[0] in media:
                yield spark_filter  # media bytes are fetched after the rows are filtered: Spark evaluates it
                continue
            expr = to_expression(spark_filter, arrow_schema)
            if expr is None:
                yield spark_filter  # Spark evaluates it
                continue
            self.expressions.append(expr)
            self.filter_columns.append(filter_column(spark_filter))


def _media_field(metadata: dict[str, Any] | None) -> bool:
    """Does a field's metadata (from a read) say Image, Audio or Video?"""
    import json

    from ..features import FEATURE_KEY, MEDIA_TYPES

    try:
        feature = json.loads((metadata or {}).get(FEATURE_KEY) or "null")
    except ValueError:
        return False
    return isinstance(feature, dict) and feature.get("_type") in MEDIA_TYPES


def spark_schema(schema: pa.Schema) -> StructType:
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    from .types import spark_compatible_schema

    compatible = spark_compatible_schema(schema)
    return from_arrow_schema(pa.schema([f.with_nullable(True) for f in compatible]))
