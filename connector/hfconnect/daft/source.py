"""Daft DataSource over the shared planner: a plan pinned to one commit, read by Daft's native Parquet reader
(default) or by hfconnect's reader (one task per shard).

Why our own source rather than Daft's native `hf://` Parquet reads: those ignore HF_ENDPOINT, the dataset
card's configs and splits, and the pinned commit. This source plans with the same core as the Spark source.
Native tasks get each file at the URL `/resolve/<sha>/` sends it to (on the Hub a signed CDN URL, given without
the token; Daft shows it in `explain()`, it expires within the hour and opens that one file only), so Daft reads
exactly the planned commit at its own speed with one resolver request per file; hfconnect tasks carry their plan
(Hub client and signed URLs included) and shard. Either way nothing travels via environment variables, so tasks
run the same on Ray workers.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import huggingface_hub.hf_api  # noqa: F401  # read_huggingface plans with it: import it with the adapter
import pyarrow as pa
from daft.daft import PyTimeUnit
from daft.expressions import ExpressionsProjection
from daft.io import HTTPConfig, IOConfig
from daft.io.partitioning import PartitionField
from daft.io.source import DataSource, DataSourceTask, ParquetSourceConfig, StorageConfig
from daft.recordbatch import RecordBatch
from daft.schema import Schema

from ..hub.client import HubClient
from ..hub.http import Target
from ..options import ReadOptions
from ..plan import FilePart, ReadPlan, Shard, plan_read
from ..plan.model import SPLIT_COLUMN
from ..read import read_shard
from ..read.conform import conform_batch
from .filters import ArrowFilter, to_arrow_filter
from .types import daft_compatible_schema, native_reader_refuses

if TYPE_CHECKING:
    from daft.io.pushdowns import Pushdowns

__all__ = ["HuggingFaceSource", "HuggingFaceTask"]


# --- the source and its tasks ------------------------------------------------------------------------------

class HuggingFaceTask(DataSourceTask):
    """One shard. Carries the plan (pinned sha, Hub client, signed URLs the planner got) and the shard, so a Ray
    worker needs nothing else; reads stop once `limit` rows were produced."""

    def __init__(self, plan: ReadPlan, shard: Shard, limit: int | None = None) -> None:
        self.plan, self.shard, self.limit = plan, shard, limit

    def __repr__(self) -> str:
        s = self.plan.snapshot
        return f"HuggingFaceTask({s.repo_id}@{s.sha[:12] if s.sha else 'bucket'}, shard {self.shard.index})"

    @property
    def schema(self) -> Schema:
        return Schema.from_pyarrow_schema(daft_compatible_schema(self.plan.schema))

    async def read(self) -> AsyncIterator[RecordBatch]:
        batches = read_shard(self.plan, self.shard)
        target = daft_compatible_schema(self.plan.schema)
        remaining = self.limit
        try:
            while remaining is None or remaining > 0:
                # The reader blocks on HTTP: run it off the event loop Daft drives this generator from.
                batch = await asyncio.to_thread(next, batches, None)
                if batch is None:
                    break
                if remaining is not None:
                    batch = batch.slice(0, remaining)
                    remaining -= batch.num_rows
                batch = conform_batch(batch, target)  # types Daft cannot hold as the ones it can (daft/types)
                yield RecordBatch.from_arrow_record_batches([batch], target)
        finally:
            batches.close()


class HuggingFaceSource(DataSource):
    """A Hub dataset split (or every split) as a Daft source: the schema comes from one plan made lazily on
    the driver; tasks come from a plan at that same commit with Daft's pushdowns applied."""

    def __init__(self, options: ReadOptions) -> None:
        self.options = options
        self._plan: ReadPlan | None = None

    def __repr__(self) -> str:
        return f"HuggingFaceSource({self.options!r})"  # ReadOptions hides the token

    @property
    def name(self) -> str:
        o = self.options
        return f"HuggingFaceSource({o.repo}, config={o.config or 'default'}, split={o.split}, revision={o.revision})"

    @property
    def plan(self) -> ReadPlan:
        """The plan without pushdowns (made once): the schema and the commit every task reads."""
        if self._plan is None:
            # Daft's native reader splits Parquet files by row group itself: no footer reads to do it here.
            self._plan = plan_read(self.options, whole_files=self.options.daft_reader == "native")
        return self._plan

    @property
    def schema(self) -> Schema:
        """The plan's schema with the types Daft cannot hold (dictionaries, ...) as ones it can (daft/types)."""
        return Schema.from_pyarrow_schema(daft_compatible_schema(self.plan.schema))

    def get_partition_fields(self) -> list[PartitionField]:
        """split="all": the `split` column is a partition value, so Daft prunes whole files by it."""
        if not self.plan.add_split_column:
            return []
        return [PartitionField.create(self.schema[SPLIT_COLUMN])]

    def plan_for(self, pushdowns: Pushdowns) -> tuple[ReadPlan, ArrowFilter]:
        """The plan with Daft's projection and convertible filter, at the base plan's commit."""
        base = self.plan
        pushed = to_arrow_filter(pushdowns.filters, base.file_schema)
        columns = None
        if pushdowns.columns is not None:
            # Daft re-applies its filter after the scan, so it needs the filter's columns too.
            wanted = set(pushdowns.columns) | pushdowns.filter_required_column_names()
            columns = tuple(n for n in base.schema.names if n in wanted) or base.schema.names[:1]
        schema = pa.schema([base.schema.field(n) for n in columns]) if columns else base.schema
        if pushed.expression is None:
            return dataclasses.replace(base, schema=schema), pushed
        expression = pushed.expression if base.filter is None else base.filter & pushed.expression
        filter_columns = pushed.columns if base.filter is None else ()  # () -> the reader derives them
        # Same commit, same files, no listing: only the footers the filter needs to prune row groups.
        plan = plan_read(self.options, filter=expression, filter_columns=filter_columns, columns=columns, base=base)
        return plan, pushed

    async def get_tasks(self, pushdowns: Pushdowns) -> AsyncIterator[DataSourceTask]:
        # The `filters` option is the plan's, which Daft's native tasks never see: its rows come from hfconnect's
        # reader, which applies it (Daft's own .where() reaches either reader as a pushdown).
        if self.options.daft_reader == "native" and self.plan.filter is None and _native_readable(self.plan):
            files = [part for part in self.plan.files() if part.split in _splits_kept(self.plan, pushdowns)]
            # Daft makes every task before it runs any and cannot renew a URL: signed URLs that would expire
            # during the read (None) send the files to hfconnect's reader, which renews them.
            # A bucket's files are resolved pinned: one replaced since planning fails here, naming it.
            targets = await asyncio.to_thread(self.plan.client.lasting_targets, self.plan.snapshot_for(files),
                                              [(part.path, part.size) for part in files], self.options.max_concurrency)
            if targets is not None:
                # Daft applies the pushdowns itself (projection, row-group pruning by statistics, filter, limit).
                for part, target in zip(files, targets, strict=True):
                    yield _native_task(self.plan, part, target, self.schema, pushdowns, self.options.batch_size)
                return
        plan, pushed = await asyncio.to_thread(self.plan_for, pushdowns)
        splits = _splits_kept(plan, pushdowns)
        # Early stop is only right when the reader's rows are exactly the rows Daft's filter keeps.
        limit = pushdowns.limit if pushed.exact else None
        for shard in plan.shards:
            parts = tuple(part for part in shard.parts if part.split in splits)
            if parts:
                yield HuggingFaceTask(plan, dataclasses.replace(shard, parts=parts), limit)


def _splits_kept(plan: ReadPlan, pushdowns: Pushdowns) -> set[str]:
    """The splits Daft's partition filter keeps (Daft leaves applying it to the source)."""
    if pushdowns.partition_filters is None:
        return set(plan.splits)
    table = RecordBatch.from_pydict({SPLIT_COLUMN: list(plan.splits)})
    return set(table.filter(ExpressionsProjection([pushdowns.partition_filters])).to_pydict()[SPLIT_COLUMN])


def _native_readable(plan: ReadPlan) -> bool:
    """Daft's native reader takes Parquet files without the column types it refuses (daft/types); JSON Lines, CSV
    and those files stay with hfconnect's reader."""
    return all(part.format == "parquet" for shard in plan.shards for part in shard.parts) and \
        not native_reader_refuses(plan.file_schema)


def _storage_config(client: HubClient, target: Target) -> StorageConfig:
    """Daft's HTTP client for one file: the token only for the endpoint's own host (never a signed URL's), and
    the retry policy's tries and first backoff."""
    return StorageConfig(True, IOConfig(http=HTTPConfig(**client.http_settings(target))))


def _native_task(plan: ReadPlan, part: FilePart, target: Target, schema: Schema, pushdowns: Pushdowns,
                 chunk_rows: int | None) -> DataSourceTask:
    """One file read by Daft's native Parquet reader at the pinned sha, the split name as a partition value.
    `chunk_rows` None (batch_size not given) lets Daft decode whole row groups, as daft.read_parquet does:
    65,536-row chunks made an all-columns read slower (bench/MEASUREMENTS.md)."""
    config = ParquetSourceConfig(coerce_int96_timestamp_unit=PyTimeUnit.microseconds(), chunk_size=chunk_rows)
    split = RecordBatch.from_pydict({SPLIT_COLUMN: [part.split]}) if plan.add_split_column else None
    return DataSourceTask.parquet(target.url, schema, parquet_config=config, pushdowns=pushdowns,
                                  size_bytes=part.size, partition_values=split,
                                  storage_config=_storage_config(plan.client, target))
