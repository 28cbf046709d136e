"""The one shard planner both engines use: dataset files -> byte-balanced shards at row-group granularity.

Footers are read only where they change the plan: to split files larger than `shard_size` by row group, to
prune row groups by statistics when there is a filter, and one per split for the schema. Small files
become file-level shards straight from the tree listing's sizes, packed together up to `shard_size`.
WebDataset tars are cut by plan.webdataset; image/audio folders (no data file: the rows are the media files or
their metadata rows) are recognised first, as `datasets` picks its builder from every file, and cut into runs
of rows by plan.mediafolder.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

from ..errors import (
    ConfigNotFoundError,
    HfConnectError,
    RevisionNotFoundError,
    SchemaMismatchError,
    SplitNotFoundError,
)
from ..hub.buckets import bucket_path
from ..hub.client import HubClient
from ..hub.datafiles import (
    _SPLIT_NAME,
    DataFile,
    DatasetLayout,
    _split_patterns,
    convert_branch_layout,
    is_empty,
    parse_card_yaml,
    resolve_layout,
)
from ..hub.snapshot import RepoFileInfo, Snapshot
from ..options import ReadOptions
from .buckets import bucket_layout, pin_shards
from .footers import FileFacts, inspect_many
from .mediafolder import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    MediaFolderPlan,
    cut_media_shards,
    detect_media_folder,
    plan_media_folder,
)
from .model import FilePart, ReadPlan, Shard
from .reuse import media_schema, reuse_plan
from .reuse import output_schema as _output_schema
from .sizing import default_parallelism, even_runs, read_fraction, shard_target
from .textfiles import read_text_table
from .webdataset import features_metadata, is_webdataset, plan_tars

__all__ = ["plan_read"]

log = logging.getLogger("hfconnect.plan")
# whole_files plans: a reader handed whole files (Daft's native one) casts each file to the planned schema,
# so for up to this many files every footer is read and merged (one parallel round of range requests).
ALL_FOOTERS_UP_TO = 256
CUT_TARS_UP_TO = 2  # tars per core up to which large tars are indexed and cut (plan.webdataset)
MEDIA_EXTENSIONS = frozenset(IMAGE_EXTENSIONS + AUDIO_EXTENSIONS)
MEDIA_NARROW_FRACTION = 0.01  # the share of an image/audio folder's bytes a read without its media columns reads


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
    if base is not None and base.media_builder:  # rows built from paths and labels: the base's shards
        return replace(base, schema=media_schema(base.file_schema, columns or options.columns, options.split == "all"),
                       filter=filter, filter_columns=filter_columns, client=client)
    if base is not None and is_webdataset(base.files()):  # no statistics to prune by: the base's shards
        return replace(base, schema=_tar_schema(base.file_schema, columns or options.columns, options.split),
                       filter=filter, filter_columns=filter_columns, client=client)
    if base is None:
        layout, snapshot = _layout(options, client)
        if isinstance(layout, _MediaLayout):
            return _plan_media(options, snapshot, layout, filter, filter_columns, columns, parallelism)
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
    if is_webdataset(f for _, f in files):
        return _plan_tars(options, snapshot, config, chosen, source, files, target, filter, filter_columns, columns,
                          parallelism)
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
        prefetch=options.prefetch, read_ahead_bytes=options.read_ahead_bytes,
        add_split_column=options.split == "all", layout_source=source,
        total_files=len(files), total_bytes=total, footers_read=len(facts), notes=_pruning(filter, facts),
    )


def _plan_tars(options: ReadOptions, snapshot: Snapshot, config: str, chosen: dict[str, tuple[DataFile, ...]],
               source: str, files: list[tuple[str, DataFile]], target: int, filter: object,
               filter_columns: tuple[str, ...], columns: Iterable[str] | None, parallelism: int | None) -> ReadPlan:
    """A WebDataset split: the schema from each split's first tar, large tars cut at sample boundaries from their
    headers (plan.webdataset); the filter is applied by the reader to the rows it builds.

    Indexing a tar costs about one small request per sample, so tars are cut only where whole ones would leave
    cores idle: at most CUT_TARS_UP_TO tars per core (or fewer tars than `min_shards`). A repo of many shards reads
    one task per tar (a task streams its tar: memory stays bounded whatever its size)."""
    client = options.client
    cores = parallelism or default_parallelism()
    cut = len(files) <= CUT_TARS_UP_TO * cores or len(files) < (options.min_shards or 0)
    tars = plan_tars(client, snapshot, files, target, concurrency=options.max_concurrency, cut=cut)
    shards = _with_targets(client, snapshot, pin_shards(_pack(tars.units, target), snapshot))
    return ReadPlan(
        snapshot=replace(snapshot, pins={}), client=client, config=config, splits=tuple(chosen),
        file_schema=tars.schema, schema=_tar_schema(tars.schema, columns or options.columns, options.split),
        shards=shards, filter=filter, filter_columns=filter_columns, batch_size=options.batch_rows,
        prefetch=options.prefetch, read_ahead_bytes=options.read_ahead_bytes,
        add_split_column=options.split == "all", layout_source=source,
        total_files=len(files), total_bytes=sum(f.size for _, f in files), footers_read=0, notes=(tars.note(),),
    )


def _tar_schema(file_schema: pa.Schema, columns: Iterable[str] | None, split: str) -> pa.Schema:
    """The output schema with the `huggingface` features metadata of its columns (images, audio...)."""
    schema = _output_schema(file_schema, columns, split == "all")
    return schema.with_metadata(features_metadata(schema))


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


def _layout(options: ReadOptions, client: HubClient) -> tuple[DatasetLayout | _MediaLayout, Snapshot]:
    """The pinned commit and its configs/splits: an image/audio folder, else card and file names, else the
    `refs/convert/parquet` branch. A Storage Bucket prefix (`buckets/ns/name/...`): its listing, each file pinned
    by its Xet hash (plan.buckets)."""
    if (bucket := bucket_path(options.repo)) is not None:
        return bucket_layout(options, client, bucket)
    head = client.head(options.repo, options.revision, with_card=not options.data_files and not options.data_dir)
    card = parse_card_yaml(head.card) if head.card else None
    media = _media_layout(options, client, head.snapshot, list(head.files), card)
    if media is not None:
        return media, head.snapshot
    layout = resolve_layout(list(head.files), card, data_files=options.data_files, data_dir=options.data_dir)
    if not is_empty(layout) or options.data_files or options.data_dir:
        return layout, head.snapshot
    try:
        converted = client.snapshot(options.repo, "refs/convert/parquet")
    except RevisionNotFoundError:
        raise HfConnectError(
            f"{options.repo}@{options.revision} has no Parquet, JSON Lines, CSV or WebDataset (.tar) data files, no "
            "image or audio files and no refs/convert/parquet branch: nothing hfconnect can read (spark.readStream "
            "can follow it before it has data when given the schema, e.g. .schema('id long, text string'))",
            repo=options.repo) from None
    return convert_branch_layout(list(client.list_files(converted))), converted


@dataclass(frozen=True)
class _MediaLayout:
    """An image/audio folder: the config read, where its files came from, and its rows (plan.mediafolder)."""

    config: str
    source: str
    media: MediaFolderPlan


def _media_layout(options: ReadOptions, client: HubClient, snapshot: Snapshot, files: list[RepoFileInfo],
                  card: dict[str, Any] | None) -> _MediaLayout | None:
    """The image/audio folder `datasets` would read for these options (the `data_files`/`data_dir` options, else
    the card's config entry, else the Hub's conventions), or None. Detecting costs no request; only a media
    folder's metadata files are read."""
    if not any(_media_suffix(f.path) for f in files):  # most repos: not a look at configs or splits
        return None
    drop_labels, drop_metadata = options.drop_labels, options.drop_metadata
    data_dir, config, source = options.data_dir, "default", "conventions"
    data_files: dict[str, list[str]] | None = None
    if options.data_files:
        data_files = {}
        for pattern in options.data_files:
            split, sep, glob = pattern.partition("=")
            split, glob = (split, glob) if sep and _SPLIT_NAME.match(split) else ("train", pattern)
            data_files.setdefault(split, []).append(glob)
        source = "data_files"
    elif data_dir:
        source = "data_dir"
    elif (entries := _card_entries(card)):
        names = [name for name, _ in entries]
        default = next((n for n, e in entries if e.get("default")), "default" if "default" in names else names[0])
        config = options.config or default
        entry = next((e for n, e in entries if n == config), None)
        if entry is None:
            return None  # resolve_layout names the configs there are
        data_dir = str(entry.get("data_dir") or "") or None
        data_files = _split_patterns(entry["data_files"]) if entry.get("data_files") is not None else None
        drop_labels = entry.get("drop_labels") if drop_labels is None else drop_labels
        drop_metadata = entry.get("drop_metadata") if drop_metadata is None else drop_metadata
        source = "card"
    if detect_media_folder(files, data_dir=data_dir, data_files=data_files) is None:
        return None
    if source != "card" and options.config not in (None, "default"):
        raise ConfigNotFoundError(f"config {options.config!r} not found; this dataset's configs are: default",
                                  config=options.config, available=["default"])
    media = plan_media_folder(files, functools.partial(client.read_file, snapshot), data_dir=data_dir,
                              data_files=data_files, drop_labels=_flag(drop_labels), drop_metadata=_flag(drop_metadata))
    return None if media is None else _MediaLayout(config, source, media)


def _media_suffix(path: str) -> bool:
    """An image or audio extension among the last two of a file name (as plan.mediafolder counts media)."""
    suffixes = path.rsplit("/", 1)[-1].lower().split(".")[1:][-2:]
    return any(f".{s}" in MEDIA_EXTENSIONS for s in suffixes)


def _card_entries(card: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    configs = (card or {}).get("configs")
    if not isinstance(configs, list):
        return []
    return [(str(e.get("config_name", "default")), e) for e in configs if isinstance(e, dict)]


def _flag(value: object) -> bool | None:
    """A card's `drop_labels: true` (YAML gives a bool; a string is taken as Spark's options are)."""
    if value is None or isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def _plan_media(options: ReadOptions, snapshot: Snapshot, layout: _MediaLayout, filter: object,
                filter_columns: tuple[str, ...], columns: Iterable[str] | None,
                parallelism: int | None) -> ReadPlan:
    """An image/audio folder: each split's rows cut into runs of about a shard's media bytes; a read without
    the media columns fetches no media, so its shards span far more rows (MEDIA_NARROW_FRACTION)."""
    media = layout.media
    if options.split == "all":
        names = list(media.splits)
    elif options.split in media.splits:
        names = [options.split]
    else:
        raise SplitNotFoundError(
            f"split {options.split!r} not found in config {layout.config!r}; its splits are: "
            f"{', '.join(media.splits)} (or split='all' for every split)", split=options.split,
            available=list(media.splits))
    schema = media_schema(media.schema, columns or options.columns, options.split == "all")
    reads_media = any(c.name in schema.names for c in media.media_columns)
    splits = [media.splits[n] for n in names]
    total = sum(sum(s.sizes.values()) for s in splits)
    count = sum(len(s.sizes) for s in splits)
    target = shard_target(total, shard_size=options.shard_size, parallelism=parallelism or default_parallelism(),
                          min_shards=options.min_shards, files=count,
                          fraction=1.0 if reads_media else MEDIA_NARROW_FRACTION)
    shards: list[Shard] = []
    for split in splits:
        for ms in cut_media_shards(split, media.media_columns, target, start_index=len(shards)):
            if not ms.rows.num_rows:
                continue
            files = sorted(ms.sizes.items()) or [(f.path, f.size) for f in split.metadata_files]
            parts = tuple(FilePart(p, n, media.builder, split.name) for p, n in files)
            shards.append(Shard(len(shards), parts, ms.est_bytes, media=replace(ms, index=len(shards))))
    missing = sum(len(s.missing) for s in splits)
    note = (f"{media.builder}: {count} media file(s), {sum(len(s.metadata_files) for s in splits)} metadata "
            f"file(s), {sum(s.num_rows for s in splits):,} row(s); media bytes fetched by the tasks"
            + (f"; labels {', '.join(media.label_names)}" if media.label_names else "")
            + (f"; {missing} file(s) named by metadata rows are not in the commit (their bytes read as null)"
               if missing else ""))
    return ReadPlan(
        snapshot=replace(snapshot, pins={}), client=options.client, config=layout.config, splits=tuple(names),
        file_schema=media.schema, schema=schema, shards=pin_shards(tuple(shards), snapshot), filter=filter,
        filter_columns=filter_columns, batch_size=options.batch_rows, prefetch=options.prefetch,
        read_ahead_bytes=options.read_ahead_bytes,
        add_split_column=options.split == "all", layout_source=layout.source, total_files=count,
        total_bytes=total, footers_read=0, notes=(note,), media_builder=media.builder,
    )


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
        firsts: dict[str, DataFile] = {}
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
        for run in even_runs(sizes, math.ceil(sum(sizes) / max(1, shard_size))):  # none above shard_size
            groups = tuple(fact.kept[i] for i in run)
            units.append((FilePart(f.path, f.size, f.format, split, groups), sum(sizes[i] for i in run)))
    return _pack(units, shard_size)


def _pack(units: list[tuple[FilePart, int]], shard_size: int) -> tuple[Shard, ...]:
    """Parts (with their bytes) packed in order into about ceil(total/shard_size) even shards."""
    total = sum(nbytes for _, nbytes in units)
    groups = even_runs([nbytes for _, nbytes in units], math.ceil(total / max(1, shard_size)))
    return tuple(Shard(i, tuple(units[u][0] for u in run), sum(units[u][1] for u in run))
                 for i, run in enumerate(groups))
