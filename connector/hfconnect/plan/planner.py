"""The one shard planner both engines use: dataset files -> byte-balanced shards at row-group granularity.

Footers are read only where they change the plan: to split files larger than `shard_size` by row group, to
prune row groups by statistics when there is a filter, and one per split for the schema. Small files
become file-level shards straight from the tree listing's sizes, packed together up to `shard_size`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import replace

import pyarrow as pa

from ..errors import HfConnectError, RevisionNotFoundError, SchemaMismatchError
from ..hub.buckets import bucket_path
from ..hub.client import HubClient
from ..hub.datafiles import (
    DataFile,
    DatasetLayout,
    convert_branch_layout,
    is_empty,
    parse_card_yaml,
    resolve_layout,
)
from ..hub.snapshot import Snapshot
from ..options import ReadOptions
from .buckets import bucket_layout, pin_shards
from .footers import FileFacts, inspect_many
from .model import FilePart, ReadPlan, Shard
from .reuse import output_schema as _output_schema
from .reuse import reuse_plan
from .sizing import default_parallelism, read_fraction, shard_target
from .textfiles import read_text_table

__all__ = ["plan_read"]

log = logging.getLogger("hfconnect.plan")
# whole_files plans: a reader handed whole files (Daft's native one) casts each file to the planned schema,
# so for up to this many files every footer is read and merged (one parallel round of range requests).
ALL_FOOTERS_UP_TO = 256


def plan_read(options: ReadOptions, *, filter: object = None, filter_columns: Iterable[str] = (),
              columns: Iterable[str] | None = None, base: ReadPlan | None = None,
              whole_files: bool = False, parallelism: int | None = None) -> ReadPlan:
    """Resolve the snapshot, the split's files and schema, and cut them into shards.

    `whole_files` never splits a file (for an engine that splits Parquet files itself, like Daft's native
    reader): footers are read for the schema (every file's, up to ALL_FOOTERS_UP_TO files) and for a filter.

    With `base` (a plan made earlier for the same options, e.g. while Spark asked for the schema), the
    snapshot, file list and schema are reused: no API call, only the footers a filter needs; with the same
    filter as the base, its shards are reused as they are (no request at all).

    The shard count follows `parallelism` (default: the cores this process sees), the data size and the share of
    it the columns read (plan.sizing); an explicit `min_shards` option still sets a minimum.
    """
    filter_columns = tuple(filter_columns)
    reused = reuse_plan(options, base, filter=filter, filter_columns=filter_columns, columns=columns)
    if reused is not None:
        return reused
    filter = options.filters if filter is None else filter
    client = options.client
    if base is None:
        layout, snapshot = _layout(options, client)
        config, chosen = layout.select(options.config, options.split)
        source = layout.source
    else:
        snapshot, config, source = base.snapshot_for(base.files()), base.config, base.layout_source
        chosen = _files_of(base)
    files = [(split, f) for split, fs in chosen.items() for f in fs]
    if not files:
        raise HfConnectError(f"config {config!r} of {options.repo} has no data files for split "
                             f"{options.split!r}; nothing to read")
    total = sum(f.size for _, f in files)
    cores = parallelism or default_parallelism()
    # The footers to read are chosen with the all-columns target; a narrow read's larger one follows below.
    target = shard_target(total, shard_size=options.shard_size, parallelism=cores, min_shards=options.min_shards,
                          files=len(files))
    parquet = [f for _, f in files if f.format == "parquet"]
    # Footers that change the plan: large files, every file under a filter, the first file of each split.
    firsts = {fs[0].path for fs in chosen.values() if fs and fs[0].format == "parquet"} if base is None else set()
    wanted = {f.path: f.size for f in parquet
              if filter is not None or (f.size > target and not whole_files) or f.path in firsts
              or (base is None and whole_files and len(parquet) <= ALL_FOOTERS_UP_TO)}
    facts = inspect_many(client, snapshot, wanted.items(), filter=filter, concurrency=options.max_concurrency)
    if base is None and _has_null_columns(facts) and len(facts) < len(parquet):
        # A column null in the files read may be typed in the others (`datasets` writes all-None columns
        # as null): read every footer rather than type it null, which would drop those files' values.
        rest = [(f.path, f.size) for f in parquet if f.path not in facts]
        facts |= inspect_many(client, snapshot, rest, filter=filter, concurrency=options.max_concurrency)
    file_schema = base.file_schema if base is not None else _merge_schemas(snapshot, facts, files, client)
    schema = _output_schema(file_schema, columns or options.columns, options.split == "all")
    wanted_columns = schema.names if (columns or options.columns) else None
    fraction = read_fraction([f.column_bytes for f in facts.values()], wanted_columns)
    if fraction < 1.0:
        target = shard_target(total, shard_size=options.shard_size, parallelism=cores,
                              min_shards=options.min_shards, fraction=fraction, files=len(files))
    shards = _with_targets(client, snapshot, pin_shards(_cut(files, facts, target, whole_files), snapshot))
    return ReadPlan(
        snapshot=replace(snapshot, pins={}), client=client,
        config=config, splits=tuple(chosen), file_schema=file_schema, schema=schema,
        shards=shards, filter=filter, filter_columns=filter_columns, batch_size=options.batch_rows,
        prefetch=options.prefetch, add_split_column=options.split == "all", layout_source=source,
        total_files=len(files), total_bytes=total, footers_read=len(facts), notes=_pruning(filter, facts),
    )


def _pruning(filter: object, facts: dict[str, FileFacts]) -> tuple[str, ...]:
    """What statistics did with the filter, for explain(): row groups and files it dropped before any read."""
    if filter is None or not facts:
        return ()
    total = sum(len(f.row_group_bytes) for f in facts.values())
    kept = sum(len(f.kept) for f in facts.values())
    files = sum(1 for f in facts.values() if f.row_group_bytes and not f.kept)
    return (f"statistics kept {kept} of {total} row group(s) of the {len(facts)} file(s) whose footers were read; "
            f"{files} file(s) skipped whole",)


def _files_of(plan: ReadPlan) -> dict[str, tuple[DataFile, ...]]:
    """The files behind a plan's shards, per split, each once."""
    by_split: dict[str, list[DataFile]] = {s: [] for s in plan.splits}
    for part in plan.files():
        by_split.setdefault(part.split, []).append(DataFile(part.path, part.size, part.format))
    return {split: tuple(sorted(files, key=lambda f: f.path)) for split, files in by_split.items()}


def _layout(options: ReadOptions, client: HubClient) -> tuple[DatasetLayout, Snapshot]:
    """The pinned commit and its configs/splits: card and file names, else the `refs/convert/parquet` branch. A
    Storage Bucket prefix (`buckets/ns/name/...`): its listing, each file pinned by its Xet hash (plan.buckets)."""
    if (bucket := bucket_path(options.repo)) is not None:
        return bucket_layout(options, client, bucket)
    head = client.head(options.repo, options.revision, with_card=not options.data_files and not options.data_dir)
    card = parse_card_yaml(head.card) if head.card else None
    layout = resolve_layout(list(head.files), card, data_files=options.data_files, data_dir=options.data_dir)
    if not is_empty(layout) or options.data_files or options.data_dir:
        return layout, head.snapshot
    try:
        converted = client.snapshot(options.repo, "refs/convert/parquet")
    except RevisionNotFoundError:
        raise HfConnectError(
            f"{options.repo}@{options.revision} has no Parquet, JSON Lines or CSV data files and no "
            "refs/convert/parquet branch: nothing hfconnect can read (spark.readStream can follow it before it has "
            "data when given the schema, e.g. .schema('id long, text string'))", repo=options.repo) from None
    return convert_branch_layout(list(client.list_files(converted))), converted


def _with_targets(client: HubClient, snapshot: Snapshot, shards: tuple[Shard, ...]) -> tuple[Shard, ...]:
    """Each shard with the signed URLs planning already got for its files (footers): tasks need not resolve
    those files again."""
    out = []
    for shard in shards:
        urls = sorted({client.file_url(snapshot, part.path) for part in shard.parts})
        out.append(replace(shard, targets=client.known_targets(urls)))
    return tuple(out)


def _has_null_columns(facts: dict[str, FileFacts]) -> bool:
    return any(pa.types.is_null(field.type) for fact in facts.values() for field in fact.schema)


def _merge_schemas(snapshot: Snapshot, facts: dict[str, FileFacts], files: list[tuple[str, DataFile]],
                   client: HubClient) -> pa.Schema:
    """Unify the footers' schemas (null vs typed, int widths); an incompatible file is named."""
    schemas: list[tuple[str, pa.Schema]] = [(p, f.schema) for p, f in facts.items()]
    if not schemas:  # JSON Lines / CSV: infer from the first file of each split
        firsts = {}
        for split, f in files:
            firsts.setdefault(split, f)
        for f in firsts.values():
            schemas.append((f.path, read_text_table(client.read_file(snapshot, f.path, f.size), f).schema))
    merged = schemas[0][1].remove_metadata()
    for path, schema in schemas[1:]:
        try:
            merged = pa.unify_schemas([merged, schema.remove_metadata()], promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise SchemaMismatchError(
                f"{snapshot.repo_id}/{path} has a schema incompatible with the split's other files: {exc}",
                path=path) from None
    return merged


def _cut(files: list[tuple[str, DataFile]], facts: dict[str, FileFacts], shard_size: int,
         whole_files: bool = False) -> tuple[Shard, ...]:
    """Split big files by row group, drop pruned ones, pack small ones: even shards of about shard_size bytes.

    Even, not greedy: a file of 1.3 shards is cut in two halves (not 1 + 0.3), and packing makes
    ceil(total/shard_size) shards with boundaries at multiples of total/count, so one wave's tasks end together.
    """
    units: list[tuple[FilePart, int]] = []
    for split, f in files:
        fact = facts.get(f.path)
        if fact is None:
            units.append((FilePart(f.path, f.size, f.format, split), f.size))
            continue
        if not fact.kept and fact.row_group_bytes:
            continue  # every row group excluded by statistics: never fetched
        if not fact.row_group_bytes or (len(fact.kept) == len(fact.row_group_bytes)
                                         and (f.size <= shard_size or whole_files)):
            units.append((FilePart(f.path, f.size, f.format, split), f.size))
            continue
        sizes = [fact.row_group_bytes[rg] for rg in fact.kept]
        for run in _even_runs(sizes, math.ceil(sum(sizes) / max(1, shard_size))):  # none above shard_size
            groups = tuple(fact.kept[i] for i in run)
            units.append((FilePart(f.path, f.size, f.format, split, groups), sum(sizes[i] for i in run)))
    total = sum(nbytes for _, nbytes in units)
    groups = _even_runs([nbytes for _, nbytes in units], math.ceil(total / max(1, shard_size)))
    return tuple(Shard(i, tuple(units[u][0] for u in run), sum(units[u][1] for u in run))
                 for i, run in enumerate(groups))


def _even_runs(sizes: list[int], count: int) -> list[range]:
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
