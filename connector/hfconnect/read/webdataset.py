"""A shard's part of a WebDataset tar -> Arrow batches in the plan's schema, fetching only the members it needs.

Three ways in, by what the plan knows: a large tar's part carries its members' offsets (plan.webdataset indexed
it), so only the wanted members' bytes are fetched, adjacent ones in one ranged request, a few requests ahead; a
whole small tar is walked from its headers (large windows when every column is read, small ones skipping the
members of unread columns); a `.tar.gz` is one gzip stream, read through in order. Rows are built as `datasets`
builds them (plan.webdataset.decode_value), and a filter is applied to them: results are exact.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import DataFileError, HfConnectError
from ..hub.rangefile import io_pool
from ..plan.tarfiles import BLOCK, Member, TarWindow, group_samples, iter_members, split_key
from ..plan.webdataset import KEY_COLUMN, URL_COLUMN, decode_value, is_compressed, not_a_tar, tar_url
from .arrays import column_array

if TYPE_CHECKING:
    from ..hub.client import HubClient
    from ..hub.snapshot import Snapshot
    from ..plan.model import FilePart, ReadPlan

__all__ = ["read_tar_part"]

WALK_WINDOW = 8 << 20  # a whole tar read through: its bytes in windows this large
SKIP_WINDOW, SKIP_MAX_WINDOW = 4 << 10, 1 << 20  # a projected read of a tar without an index: header windows
RANGE_CAP = 8 << 20  # adjacent wanted members are fetched together up to this many bytes
RANGE_GAP = 2 * BLOCK  # ... when no more than a header and padding lie between them (never an unread member)
RANGES_AHEAD = 4
BATCH_BYTES = 64 << 20  # a batch is cut at batch_size rows or this many member bytes, whichever comes first


def read_tar_part(plan: ReadPlan, part: FilePart, snapshot: Snapshot, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """The samples of `part` as batches of `columns` (the plan's columns and the filter's), filtered."""
    where = f"{plan.snapshot.repo_id}/{part.path}"
    url = plan.client.file_url(snapshot, part.path)
    fields = {n for n in columns if n not in (KEY_COLUMN, URL_COLUMN)}
    store: dict[int, bytes] = {}
    if is_compressed(part.path):
        members = _gz_members(plan.client, url, part.size, fields, store, where)
    elif part.members is not None:
        members = _indexed_members(plan.client, url, part, fields, store)
    else:
        members = _walked_members(plan.client, url, part.size, fields, store, where,
                                  all_fields=fields >= _tar_fields(plan))
    yield from _batches(plan, part, snapshot, columns, members, store, where)


def _tar_fields(plan: ReadPlan) -> set[str]:
    return {n for n in plan.file_schema.names if n not in (KEY_COLUMN, URL_COLUMN)}


def _wanted(member_name: str, fields: set[str]) -> bool:
    parts = split_key(member_name)
    return parts is not None and parts[1] in fields


def _walked_members(client: HubClient, url: str, size: int, fields: set[str], store: dict[int, bytes], where: str,
                    *, all_fields: bool) -> Iterator[Member]:
    """A tar without an index, walked from its headers; the wanted members' bytes kept as they pass."""
    if all_fields:  # read through: each window's successor fetched while this one is parsed
        win = TarWindow(_ReadAhead(client, url, size), size, WALK_WINDOW, where)
    else:
        win = TarWindow(lambda a, b: client.read_range(url, a, b), size, SKIP_WINDOW, where,
                        max_window=SKIP_MAX_WINDOW)
    for member in iter_members(win):
        if _wanted(member.name, fields):
            store[member.offset] = bytes(win.get(member.offset, member.size))
        yield member


class _ReadAhead:
    """fetch(start, end) for a tar read front to back: after each fetch the next WALK_WINDOW bytes are fetched in
    the background, and a fetch that starts there takes them."""

    def __init__(self, client: HubClient, url: str, size: int) -> None:
        self._client, self._url, self._size = client, url, size
        self._next: tuple[int, int, Future[bytearray]] | None = None

    def __call__(self, start: int, end: int) -> bytes | bytearray:
        ahead, self._next = self._next, None
        if ahead is not None and ahead[0] == start:  # a member longer than the window: the rest fetched now
            data = ahead[2].result()
            data = data[: end - start] if ahead[1] >= end else data + self._client.read_range(self._url, ahead[1], end)
        else:
            if ahead is not None:
                ahead[2].cancel()
            data = self._client.read_range(self._url, start, end)
        stop = start + len(data)
        if stop < self._size:
            nxt = min(self._size, stop + WALK_WINDOW)
            self._next = (stop, nxt, io_pool().submit(self._client.read_range, self._url, stop, nxt))
        return data


def _indexed_members(client: HubClient, url: str, part: FilePart, fields: set[str],
                     store: dict[int, bytes]) -> Iterator[Member]:
    """The members the planner indexed; only the wanted ones fetched, adjacent ones together, a few ranges ahead."""
    members = [Member(name, offset, size, offset - BLOCK) for name, offset, size in part.members or ()]
    ranges = _ranges([m for m in members if _wanted(m.name, fields)])
    pending: deque[tuple[list[Member], int, Future[bytearray]]] = deque()
    next_range = 0

    def top_up() -> None:
        nonlocal next_range
        while next_range < len(ranges) and len(pending) < RANGES_AHEAD:
            group = ranges[next_range]
            start, end = group[0].offset, group[-1].offset + group[-1].size
            pending.append((group, start, io_pool().submit(client.read_range, url, start, end)))
            next_range += 1

    try:
        top_up()
        for member in members:
            if pending and member is pending[0][0][0]:
                group, start, future = pending.popleft()
                data = future.result()
                for m in group:
                    store[m.offset] = bytes(data[m.offset - start: m.offset - start + m.size])
                top_up()
            yield member
    finally:
        for _, _, future in pending:
            future.cancel()


def _ranges(members: list[Member]) -> list[list[Member]]:
    """Wanted members in groups fetched by one request each: adjacent (a header and padding apart), capped."""
    groups: list[list[Member]] = []
    for m in members:
        if groups:
            last = groups[-1]
            start, end = last[0].offset, last[-1].offset + last[-1].size
            if m.offset - end <= RANGE_GAP and m.offset + m.size - start <= RANGE_CAP:
                last.append(m)
                continue
        groups.append([m])
    return groups


class _Sequential(io.RawIOBase):
    """A file read front to back in ranged requests of WALK_WINDOW bytes, the next one fetched ahead."""

    def __init__(self, client: HubClient, url: str, size: int) -> None:
        super().__init__()
        self._client, self._url, self._size = client, url, size
        self._pos = 0  # next byte to fetch
        self._buf = memoryview(b"")
        self._next: Future[bytearray] | None = self._submit()

    def _submit(self) -> Future[bytearray] | None:
        if self._pos >= self._size:
            return None
        start, end = self._pos, min(self._size, self._pos + WALK_WINDOW)
        self._pos = end
        return io_pool().submit(self._client.read_range, self._url, start, end)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._buf:
            if self._next is None:
                return 0
            self._buf = memoryview(self._next.result())
            self._next = self._submit()
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        if self._next is not None:
            self._next.cancel()
        super().close()


def _gz_members(client: HubClient, url: str, size: int, fields: set[str], store: dict[int, bytes],
                where: str) -> Iterator[Member]:
    """A `.tar.gz` read through as one stream (it cannot be cut); members numbered in order."""
    raw = _Sequential(client, url, size)
    try:
        with tarfile.open(fileobj=io.BufferedReader(raw, WALK_WINDOW), mode="r|*") as tar:
            for i, info in enumerate(tar):
                if not info.isreg():
                    continue
                if _wanted(info.name, fields):
                    f = tar.extractfile(info)
                    store[i] = f.read() if f is not None else b""
                yield Member(info.name, i, info.size, i)
                tar.members = []  # type: ignore[attr-defined]  # a stream: keep no member list (tarfile keeps every
                # member's TarInfo in this attribute, which its stubs do not declare)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise not_a_tar(where, exc) from None
    finally:
        raw.close()


def _batches(plan: ReadPlan, part: FilePart, snapshot: Snapshot, columns: list[str], members: Iterator[Member],
             store: dict[int, bytes], where: str) -> Iterator[pa.RecordBatch]:
    """Samples -> rows -> batches of `columns`, filtered by the plan's filter."""
    url = tar_url(snapshot, part.path)
    schema = pa.schema([plan.file_schema.field(n) for n in columns])
    fields = [n for n in columns if n not in (KEY_COLUMN, URL_COLUMN)]
    rows: list[dict[str, Any]] = []
    held = 0
    for sample in group_samples(members, where):
        by_field = dict(sample.members)
        row: dict[str, Any] = {KEY_COLUMN: sample.key, URL_COLUMN: url}
        for name in fields:
            member = by_field.get(name)
            data = store.pop(member.offset, None) if member is not None else None
            row[name] = None if data is None else decode_value(name, data, sample.key, where)
            held += len(data or b"")
        for _, member in sample.members:  # fetched but not a column of this read
            store.pop(member.offset, None)
        rows.append(row)
        if len(rows) >= plan.batch_size or held >= BATCH_BYTES:
            yield from _to_batches(plan, rows, schema, where)
            rows, held = [], 0
    if rows:
        yield from _to_batches(plan, rows, schema, where)


def _to_batches(plan: ReadPlan, rows: list[dict[str, Any]], schema: pa.Schema, where: str
                ) -> Iterator[pa.RecordBatch]:
    arrays = []
    for field in schema:
        try:
            arrays.append(column_array([r[field.name] for r in rows], field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise DataFileError(f"{where}: column {field.name!r} (a {field.type} from the split's first samples) "
                                f"cannot hold a value of this tar: {exc}", path=where) from None
    table = pa.Table.from_arrays(arrays, schema=schema)
    if plan.filter is not None:
        try:
            table = table.filter(plan.filter)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            if isinstance(exc, HfConnectError):
                raise
            raise DataFileError(f"{where}: the filter cannot be applied to this tar's rows: {exc}",
                                path=where) from None
    names = [n for n in plan.schema.names if n in table.column_names]
    yield from table.select(names).to_batches(max_chunksize=plan.batch_size)
