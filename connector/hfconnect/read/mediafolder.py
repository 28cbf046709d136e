"""One image/audio folder shard (plan/mediafolder.MediaShard) read into Arrow batches of the planned schema.

Why lazily and bounded: the plan holds only repo paths; a task fetches the media bytes it needs, and only when a
media column is projected (a read of labels or metadata fetches nothing). Several files are in flight at once
(a small thread pool, since each fetch is one HTTP request) while the bytes held (fetched and not yet handed
out in a batch) stay under a budget, so a shard of large files never sits in memory whole.
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataFileError, HfConnectError
from ..plan.mediafolder import MEDIA_TYPE, Fetch, MediaColumn, MediaShard
from .arrays import column_array

__all__ = ["media_value", "project_schema", "read_media_shard"]

MAX_BYTES_HELD = 64 << 20  # fetched media bytes a task holds at most (one larger file is still read)
THREADS = 8
BATCH_ROWS = 256
_ROW = "__hfconnect_row__"


def media_value(path: str | None, data: bytes | None) -> dict[str, object] | None:
    """The `struct<bytes, path>` value `datasets` writes for an embedded file: its bytes and base name."""
    if path is None:
        return None
    return {"bytes": data, "path": posixpath.basename(path)}


def project_schema(schema: pa.Schema, columns: Sequence[str] | None) -> pa.Schema:
    """The schema of a read of `columns` (all when None), keeping the `huggingface` metadata."""
    if columns is None:
        return schema
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise HfConnectError(f"no column {missing[0]!r} in this image/audio folder; its columns are: "
                             f"{', '.join(schema.names)}")
    return pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)


def read_media_shard(shard: MediaShard, schema: pa.Schema, fetch: Fetch, *, columns: Sequence[str] | None = None,
                     filter: pc.Expression | None = None, max_bytes_held: int = MAX_BYTES_HELD,
                     threads: int = THREADS, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The shard's rows as batches of `schema` projected on `columns`, in row order. `fetch(path, size)` returns
    a file's bytes (e.g. `functools.partial(client.read_file, snapshot)`); called only for projected media, and
    only for the rows `filter` keeps (evaluated first, on the label and metadata columns)."""
    out = project_schema(schema, columns)
    media = [c for c in shard.media_columns if c.name in out.names]
    rows = _filtered(shard, filter)
    if rows.num_rows == 0:
        return
    if not media:
        for batch in rows.select(out.names).to_batches(max_chunksize=batch_rows):
            yield pa.RecordBatch.from_arrays(batch.columns, schema=out)
        return
    yield from _with_media(rows.select(out.names), shard.sizes, out, media, fetch, max_bytes_held,
                           max(1, threads), max(1, batch_rows))


def _filtered(shard: MediaShard, filter: pc.Expression | None) -> pa.Table:
    """The shard's rows that `filter` keeps; it may use every column but the media ones (their bytes are not
    fetched yet)."""
    if filter is None:
        return shard.rows
    plain = shard.rows.drop_columns([c.name for c in shard.media_columns])
    plain = plain.append_column(_ROW, pa.array(range(shard.rows.num_rows), pa.int64()))
    try:
        kept = plain.filter(filter).column(_ROW)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        media = ", ".join(c.name for c in shard.media_columns)
        raise HfConnectError(f"this filter cannot be applied to an image/audio folder ({exc}); filter on the label "
                             f"and metadata columns, not on the media column(s) {media}") from None
    return shard.rows.take(kept)


def _with_media(rows: pa.Table, sizes: Mapping[str, int], out: pa.Schema, media: list[MediaColumn], fetch: Fetch,
                budget: int, threads: int, batch_rows: int) -> Iterator[pa.RecordBatch]:
    names = {c.name: rows.column(c.name).to_pylist() for c in media}
    wanted = [p for i in range(rows.num_rows) for c in media for p in _paths(names[c.name][i], c.many)]
    flush_at = max(1, budget // 2)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hfconnect-media") as pool:
        pending: deque[tuple[str, int, Future[bytes] | None]] = deque()
        held = 0
        nxt = 0
        fetched: dict[str, bytes | None] = {}
        batch_start, batch_bytes = 0, 0

        def submit() -> None:
            nonlocal nxt, held
            while nxt < len(wanted):
                path = wanted[nxt]
                size = sizes.get(path)
                if pending and held + (size or 0) > budget:
                    return
                future = pool.submit(_fetch_one, fetch, path, size) if size is not None else None
                pending.append((path, size or 0, future))
                held += size or 0
                nxt += 1

        try:
            for row in range(rows.num_rows):
                for c in media:
                    for _ in _paths(names[c.name][row], c.many):
                        submit()
                        path, size, future = pending.popleft()
                        fetched[path] = future.result() if future is not None else None
                        batch_bytes += size
                if row + 1 - batch_start >= batch_rows or batch_bytes >= flush_at or row + 1 == rows.num_rows:
                    yield _batch(rows, out, media, names, batch_start, row + 1, fetched)
                    fetched.clear()
                    held -= batch_bytes
                    batch_start, batch_bytes = row + 1, 0
                    submit()
        finally:
            for _, _, future in pending:
                if future is not None:
                    future.cancel()


# A media column's value in a row: one path, or (a column of many files) a list of them; None when absent.
Paths = str | list[str | None] | None


def _paths(value: Paths, many: bool) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [p for p in value if p is not None]
    return [value]


def _fetch_one(fetch: Fetch, path: str, size: int) -> bytes:
    try:
        data = fetch(path, size)
    except HfConnectError:
        raise
    except Exception as exc:  # a caller's fetch: name the file
        raise DataFileError(f"{path}: could not be fetched: {exc}", path=path) from exc
    return bytes(data)


def _batch(rows: pa.Table, out: pa.Schema, media: list[MediaColumn], names: dict[str, list[Paths]], start: int,
           end: int, fetched: dict[str, bytes | None]) -> pa.RecordBatch:
    part = rows.slice(start, end - start)
    arrays = []
    kinds = {c.name: c for c in media}
    for f in out:
        if f.name not in kinds:
            arrays.append(part.column(f.name).combine_chunks())
            continue
        values = names[f.name][start:end]
        if kinds[f.name].many:
            items = [None if v is None else [media_value(p, None if p is None else fetched.get(p))
                                             for p in (v if isinstance(v, list) else [v])] for v in values]
            arrays.append(pa.array(items, pa.list_(MEDIA_TYPE)))
        else:
            arrays.append(column_array([media_value(v, fetched.get(v)) if isinstance(v, str) else None
                                        for v in values], MEDIA_TYPE))
    return pa.RecordBatch.from_arrays(arrays, schema=out)
