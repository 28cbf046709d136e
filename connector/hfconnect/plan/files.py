"""A plan for files the caller names, at one commit: what a streaming trigger reads (the files added since the
last offset), without listing the repo or reading its card again.

The same shard cutting, footer reading (large files split by row group, row groups pruned by a filter), signed
URLs handed to the tasks and output schema as `plan_read`; only the file list and the file schema come from the
caller, who knows them already (the stream's schema is fixed when the query starts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa

from ..hub.datafiles import DataFile
from ..hub.snapshot import Snapshot
from ..options import ReadOptions
from .footers import inspect_many
from .model import ReadPlan
from .planner import _cut, _output_schema, _with_targets
from .sizing import default_parallelism, shard_target

__all__ = ["plan_files"]


def plan_files(options: ReadOptions, snapshot: Snapshot, files: Mapping[str, tuple[DataFile, ...]], *, config: str,
               file_schema: pa.Schema, columns: Iterable[str] | None = None, source: str = "stream") -> ReadPlan:
    """Shards over exactly `files` (split -> files of that split) at `snapshot`, read as `file_schema`.

    Files whose columns differ are conformed by the reader (missing columns are null, others dropped, types
    widened); a file that cannot be read as `file_schema` fails its task with an error naming it.
    """
    client = options.client
    chosen = [(split, f) for split, fs in files.items() for f in fs]
    total = sum(f.size for _, f in chosen)
    target = shard_target(total, shard_size=options.shard_size, parallelism=default_parallelism(),
                          min_shards=options.min_shards, files=len(chosen))
    filter = options.filters
    wanted = {f.path: f.size for _, f in chosen if f.format == "parquet" and (filter is not None or f.size > target)}
    facts = inspect_many(client, snapshot, wanted.items(), filter=filter, concurrency=options.max_concurrency)
    shards = _with_targets(client, snapshot, _cut(chosen, facts, target)) if chosen else ()
    schema = _output_schema(file_schema, columns or options.columns, options.split == "all")
    return ReadPlan(
        snapshot=snapshot, client=client, config=config, splits=tuple(files), file_schema=file_schema, schema=schema,
        shards=shards, filter=filter, batch_size=options.batch_rows, prefetch=options.prefetch,
        read_ahead_bytes=options.read_ahead_bytes,
        add_split_column=options.split == "all", layout_source=source, total_files=len(chosen), total_bytes=total,
        footers_read=len(facts),
    )
