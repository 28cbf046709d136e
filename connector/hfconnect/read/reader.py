"""The shard reader: one shard -> a bounded stream of Arrow RecordBatches in the plan's schema.

Per Parquet file: the footer (one range request, fetched a few files ahead), then row group by row group
only the needed column chunks. With `prefetch` (the default) the row groups' chunks are fetched ahead of the
decoder by read.ahead: several range requests in flight per task (coalesced spans, big ones as parallel parts),
across the shard's files in decode order, within the `read_ahead_bytes` budget; pyarrow applies the filter to
rows, so results are exact. Memory: the budget (at least the row group being decoded), whatever the file size.
WebDataset tars: read.webdataset. Image/audio folders: read.mediafolder builds a shard's rows, fetching the media
files a few at a time (only for the media columns read and the rows the filter keeps).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataFileError, HfConnectError, SchemaMismatchError
from ..hub.datafiles import DataFile
from ..hub.rangefile import coalesce
from ..hub.snapshot import Snapshot
from ..plan.footers import Footer, open_fragment
from ..plan.model import SPLIT_COLUMN, FilePart, ReadPlan, Shard
from ..plan.textfiles import read_text_table
from .ahead import ReadAhead
from .webdataset import read_tar_part

if TYPE_CHECKING:
    import pyarrow.parquet as pq

__all__ = ["read_shard"]


FOOTERS_AHEAD = 4  # Parquet files whose footers are fetched while an earlier file of the shard is read


def read_shard(plan: ReadPlan, shard: Shard) -> Generator[pa.RecordBatch, None, None]:
    """The shard's rows, file by file in order. The next files' footers (for small files: the whole file, one
    request) are fetched in the background, so a shard of many small files pays latency once, not per file, and
    the read-ahead runs on into the next files as their footers arrive.
    Files the planner already resolved are read from the signed URLs it got (no resolver request)."""
    client = plan.client
    client.remember(shard.targets)
    snapshot = plan.snapshot_for(shard.parts)  # a bucket's: each file pinned to the planned one
    if shard.media is not None:
        yield from _read_media(plan, shard, snapshot)
        return
    parts = shard.parts
    pool = ThreadPoolExecutor(max_workers=FOOTERS_AHEAD, thread_name_prefix="hfconnect-footer")
    footers: dict[int, Future[Footer]] = {}
    layouts: dict[int, _Layout] = {}  # files whose footer is in and whose row groups are queued
    ahead = ReadAhead(_budget(plan)) if plan.prefetch else None
    queued_to = 0  # parts before this one are queued (Parquet) or need no queueing
    tail = [0]  # the last footer's size: later files of the shard are alike, one request gets theirs

    def fetch_footers(start: int) -> None:
        for j in range(start, min(len(parts), start + FOOTERS_AHEAD + 1)):
            part = parts[j]
            if j not in footers and j not in layouts and j >= queued_to and part.format == "parquet":
                footers[j] = pool.submit(open_fragment, client, snapshot, part.path, part.size,
                                         dataset=plan.filter is not None, tail_bytes=tail[0])

    def feed(current: int) -> None:
        """Queue the row groups of file `current` (waiting for its footer), then of the files after it whose
        footers are in, while the read-ahead has nothing queued and room; then ask for what fits."""
        nonlocal queued_to
        while queued_to < len(parts):
            j = queued_to
            if j > current and (ahead is None or ahead.queued() or ahead.held >= ahead.budget):
                break
            if parts[j].format == "parquet":
                future = footers.get(j)
                if j > current and (future is None or not future.done() or future.exception() is not None):
                    break  # not in yet (or failed: the decoder meets the error when it gets there)
                footer = footers.pop(j).result()
                layouts[j] = layout = _Layout.of(plan, parts[j], footer)
                tail[0] = max(tail[0], layout.footer_bytes)
                if ahead is not None:
                    for rg in layout.row_groups:
                        ahead.add(footer.file, rg, layout.spans[rg])
            queued_to += 1
            if ahead is not None:
                ahead.fill()
        if ahead is not None:
            ahead.fill()

    try:
        for i, part in enumerate(parts):
            fetch_footers(i)
            if part.format == "parquet":
                feed(i)
                batches = _read_parquet(plan, part, layouts.pop(i), ahead, functools.partial(feed, i))
            elif part.format == "webdataset":
                batches = read_tar_part(plan, part, snapshot, _needed_columns(plan, plan.file_schema.names))
            else:
                batches = _read_text(plan, part, snapshot)
            for batch in batches:
                if batch.num_rows:
                    yield _conform(plan, part, batch)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for layout in layouts.values():  # queued but never read (the consumer stopped early)
            layout.footer.file.close()
        for future in footers.values():  # fetched but never read
            if future.done() and not future.cancelled() and future.exception() is None:
                future.result().file.close()
        if ahead is not None:
            ahead.close()


def _budget(plan: ReadPlan) -> int:
    """The task's read-ahead budget: the `read_ahead_bytes` option."""
    return plan.read_ahead_bytes


def _read_media(plan: ReadPlan, shard: Shard, snapshot: Snapshot) -> Iterator[pa.RecordBatch]:
    """An image/audio folder shard: its rows with the media bytes of the projected media columns."""
    from .mediafolder import read_media_shard

    assert shard.media is not None
    fetch = functools.partial(plan.client.read_file, snapshot)
    names = [c for c in plan.schema.names if c != SPLIT_COLUMN or not plan.add_split_column]
    part = FilePart("", 0, plan.media_builder, shard.media.split)  # the split column's value
    for batch in read_media_shard(shard.media, plan.file_schema, fetch, columns=names, filter=plan.filter,
                                  batch_rows=min(plan.batch_size, 256)):
        if batch.num_rows:
            yield _conform(plan, part, batch)


def _needed_columns(plan: ReadPlan, names: list[str]) -> list[str]:
    wanted = [c for c in plan.schema.names if c in names]
    extra = set(plan.filter_columns)
    if plan.filter is not None and not extra:  # the expression's own text names its fields
        text = str(plan.filter)
        extra = {n for n in names if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", text)}
    return wanted + sorted(extra - set(wanted))


def _chunk_spans(metadata: pq.FileMetaData, row_group: int, leaf_indices: list[int]) -> list[tuple[int, int]]:
    rg = metadata.row_group(row_group)
    ranges = []
    for j in leaf_indices:
        col = rg.column(j)
        start = col.data_page_offset
        if col.has_dictionary_page and col.dictionary_page_offset and col.dictionary_page_offset < start:
            start = col.dictionary_page_offset
        ranges.append((start, start + col.total_compressed_size))
    return coalesce(ranges)


@dataclass
class _Layout:
    """A Parquet file of the shard, its footer in: the columns read, its row groups to read, and per row group
    the coalesced spans of the column chunks needed."""

    footer: Footer
    read_cols: list[str]
    row_groups: list[int]
    spans: dict[int, list[tuple[int, int]]]
    footer_bytes: int

    @classmethod
    def of(cls, plan: ReadPlan, part: FilePart, footer: Footer) -> _Layout:
        md = footer.metadata
        names = footer.schema.names
        read_cols = [c for c in plan.schema.names if c in names]
        needed = set(_needed_columns(plan, names))
        leaves = [j for j in range(md.num_columns) if md.schema.column(j).path.split(".")[0] in needed]
        row_groups = list(part.row_groups) if part.row_groups is not None else list(range(md.num_row_groups))
        spans = {rg: _chunk_spans(md, rg, leaves) for rg in row_groups}
        return cls(footer, read_cols, row_groups, spans, md.serialized_size + 8)


def _read_parquet(plan: ReadPlan, part: FilePart, layout: _Layout, ahead: ReadAhead | None,
                  refill: Callable[[], None]) -> Iterator[pa.RecordBatch]:
    footer = layout.footer
    try:
        for rg in layout.row_groups:
            try:
                if footer.fragment is not None:  # a filter: row groups pruned and rows filtered by pyarrow.dataset
                    yield from footer.fragment.subset(row_group_ids=[rg]).to_batches(
                        columns=layout.read_cols, filter=plan.filter, batch_size=plan.batch_size, use_threads=True)
                else:
                    yield from _row_group_batches(footer, rg, layout.read_cols, plan.batch_size)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
                if isinstance(exc, HfConnectError):  # the Hub failed (HubRequestError is an OSError), not the file
                    raise
                raise DataFileError(f"{plan.snapshot.repo_id}/{part.path}: row group {rg} cannot be read: {exc}",
                                    path=part.path) from None
            if ahead is not None:
                ahead.done(footer.file, rg)
                refill()
    finally:
        if ahead is not None:
            ahead.drop_file(footer.file)
        footer.file.close()


def _row_group_batches(footer: Footer, rg: int, columns: list[str], batch_size: int) -> Iterator[pa.RecordBatch]:
    """One row group through pyarrow.parquet, checked against the footer's row count: pyarrow.dataset refuses a
    row group whose columns decode to fewer rows than it declares (a corrupt file), pyarrow.parquet alone
    would hand the short columns over."""
    rows = 0
    for batch in footer.parquet.iter_batches(batch_size=batch_size, row_groups=[rg], columns=columns,  # type: ignore[union-attr]
                                             use_threads=True):
        rows += batch.num_rows
        yield batch
    declared = footer.metadata.row_group(rg).num_rows
    if rows != declared:
        raise pa.ArrowInvalid(f"{rows} rows decoded where the footer declares {declared}")


def _read_text(plan: ReadPlan, part: FilePart, snapshot: Snapshot) -> Iterator[pa.RecordBatch]:
    data = plan.client.read_file(snapshot, part.path, part.size)
    table = read_text_table(data, DataFile(part.path, part.size, part.format))
    if plan.filter is not None:
        try:
            table = table.filter(plan.filter)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise DataFileError(f"{part.path}: the filter cannot be applied to this file: {exc}",
                                path=part.path) from None
    table = table.select([c for c in plan.schema.names if c in table.column_names])
    yield from table.to_batches(max_chunksize=plan.batch_size)


def _conform(plan: ReadPlan, part: FilePart, batch: pa.RecordBatch) -> pa.RecordBatch:
    """Cast a file's batch to the plan's schema: widen types, fill absent columns with nulls, add `split`."""
    arrays = []
    for field in plan.schema:
        if field.name == SPLIT_COLUMN and plan.add_split_column:
            arrays.append(pa.array([part.split] * batch.num_rows, pa.string()))
            continue
        idx = batch.schema.get_field_index(field.name)
        if idx < 0:
            arrays.append(pa.nulls(batch.num_rows, field.type))
            continue
        column = batch.column(idx)
        if not column.type.equals(field.type):
            try:
                column = pc.cast(column, field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise SchemaMismatchError(
                    f"{plan.snapshot.repo_id}/{part.path}: column {field.name!r} is {column.type}, which cannot "
                    f"be read as the split's {field.type}: {exc}", path=part.path) from None
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=plan.schema)
