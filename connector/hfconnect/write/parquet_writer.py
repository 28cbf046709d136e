"""Optimized Parquet from a stream of Arrow batches: content-defined chunking, page index, sane row groups.

Why buffer: engines hand over small batches (Spark: 10k rows); written as they come, they would become tiny
row groups. Batches are buffered to `row_group_bytes` bytes (uncompressed, as Arrow counts them) and flushed
as one row group. Files spill to a local temp file (never whole in memory), roll at `max_file_size`, and
their sha256 is computed while they are written, so the upload needs no second read to hash them. A schema
with image/audio/video columns (`hfconnect.features`) gets row groups of 100 rows unless the caller set a row
count, as the Hub advises for media: a viewer or reader then fetches a few rows' media, not 128 MB of them.

Dedup after an edit (CDC on): pyarrow's CDC makes *page* boundaries depend on content, but an insertion also
shifts every later row-group boundary when row groups are cut by size, and with them every later column
chunk's first and last pages and dictionaries. So row groups are content-defined too: a row group holds at
least `row_group_bytes` bytes' worth of rows (a row count fixed from the first row group) and ends, within the
next quarter of that, at the row whose content hash is the largest. An insertion moves a boundary only when
it moves that row in or out of the window, and the next boundary is found again from the same rows, so
boundaries re-synchronise right after an insertion. Dictionary encoding is kept for low-cardinality flat
columns only: for columns of mostly distinct values the dictionary is the data in first-seen order, so one
inserted value renumbers every later index. CDC pages are 64-256 KiB (before encoding) so that an edit
re-writes little around it: fewer new bytes than pyarrow's 256 KiB-1 MiB after an insertion, for slightly
slower decoding (bench/MEASUREMENTS.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..features import MEDIA_ROW_GROUP_ROWS, conform_batch, media_columns

__all__ = ["FinishedFile", "RollingParquetWriter", "WriterSettings"]

CDC_DEFAULTS = {"min_chunk_size": 64 * 1024, "max_chunk_size": 256 * 1024, "norm_level": 0}
_RG_WINDOW = 4  # content-defined row groups end within minimum rows + minimum / 4
_DICT_MAX_DISTINCT = 1 / 50  # dictionary-encode a flat column if distinct values <= 2% of the rows sampled
_DICT_SAMPLE_ROWS = 16_384  # from the first row group
METADATA_KEY = b"hfconnect.writer"


@dataclass(frozen=True)
class WriterSettings:
    row_group_bytes: int = 128 * 1024 * 1024  # uncompressed
    max_file_size: int = 512 * 1000 * 1000  # bytes on disk, checked after each row group
    compression: str = "zstd"
    compression_level: int | None = None
    cdc: bool = True
    page_index: bool = True
    row_group_rows: int | None = None  # also cap rows per row group (None: bytes only)
    # with cdc: row_group_bytes is a minimum and a row group ends where the row content says (see module doc);
    # ignored when row_group_rows is set
    content_defined_row_groups: bool = True
    dictionary: bool | None = None  # None: low-cardinality flat columns only with cdc, all columns without


@dataclass(frozen=True)
class FinishedFile:
    """A closed local file with what the upload and the commit need to know about it."""

    local_path: str
    size: int
    sha256: str
    rows: int
    row_groups: int
    schema: pa.Schema


class _HashingSink(io.RawIOBase):
    """A write-only file that hashes and counts what passes through it."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._file.write(view)
        self.digest.update(view)
        self.size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        super().close()


class RollingParquetWriter:
    """write(batch) ... close() -> the finished files, rolled at max_file_size."""

    def __init__(self, schema: pa.Schema, settings: WriterSettings, tmp_dir: str | None = None) -> None:
        if settings.row_group_rows is None and media_columns(schema):  # the Hub's advice for media rows
            settings = replace(settings, row_group_rows=MEDIA_ROW_GROUP_ROWS)
        self.settings = settings
        self.schema = schema.with_metadata({**(schema.metadata or {}), METADATA_KEY: self._describe()})
        self._tmp_dir = tmp_dir or tempfile.gettempdir()
        self._buffer: list[pa.RecordBatch] = []
        self._buffered_bytes = 0
        self._buffered_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._stream: pa.NativeFile | None = None
        self._sink: _HashingSink | None = None
        self._path = ""
        self._rows = 0
        self._row_groups = 0
        self._min_rows = 0  # content-defined row groups: fixed at the first row group
        self._dict_columns: list[str] | bool | None = None
        self.finished: list[FinishedFile] = []

    def _describe(self) -> bytes:
        s = self.settings
        return json.dumps({"cdc": CDC_DEFAULTS if s.cdc else None, "page_index": s.page_index,
                           "compression": s.compression, "row_group_bytes": s.row_group_bytes,
                           "row_group_rows": s.row_group_rows}).encode()

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if not batch.schema.equals(self.schema, check_metadata=False):
            batch = conform_batch(batch, self.schema)  # media columns from binary too
        self._buffer.append(batch)
        self._buffered_bytes += batch.nbytes
        self._buffered_rows += batch.num_rows
        while self._full():
            before = self._buffered_rows
            self._flush_row_group()
            if self._buffered_rows == before:  # content-defined: no boundary yet, wait for more rows
                break

    def _content_defined(self) -> bool:
        s = self.settings
        return s.cdc and s.content_defined_row_groups and not s.row_group_rows

    def _full(self) -> bool:
        s = self.settings
        if self._min_rows and self._content_defined():
            return self._buffered_rows >= self._min_rows
        rows_cap = s.row_group_rows
        return self._buffered_bytes >= s.row_group_bytes or bool(rows_cap and self._buffered_rows >= rows_cap)

    def _flush_row_group(self, final: bool = False) -> None:
        table = pa.Table.from_batches(self._buffer, schema=self.schema)
        rows = table.num_rows
        if self._content_defined():
            cut = self._content_defined_cut(table, final)
            if cut:
                self._emit(table, cut)
            return
        if self.settings.row_group_rows:
            rows = min(rows, self.settings.row_group_rows)
        if self._buffered_bytes > self.settings.row_group_bytes and table.num_rows:
            per_row = max(1, self._buffered_bytes // table.num_rows)
            rows = min(rows, max(1, self.settings.row_group_bytes // per_row))
        self._emit(table, rows)

    def _content_defined_cut(self, table: pa.Table, final: bool) -> int:
        """Rows of the next row group, 0 when more rows are needed to find its end."""
        n = table.num_rows
        if not self._min_rows:  # rows for row_group_bytes bytes, rounded up to 4 significant bits, so that a
            per_row = max(1, self._buffered_bytes // max(1, n))  # slightly different start gives the same count
            est = max(16, -(-self.settings.row_group_bytes // per_row))
            k = est.bit_length() - 4
            self._min_rows = -(-est >> k) << k
        lo, hi = self._min_rows, self._min_rows + max(1, self._min_rows // _RG_WINDOW)
        if n < hi:
            return n if final else 0
        hashes = row_hashes(table.slice(lo, hi - lo))
        if hashes is None:  # no column to hash: size-based
            return lo
        return lo + pc.index(hashes, pc.max(hashes)).as_py() + 1

    def _choose_dictionary(self, head: pa.Table) -> list[str] | bool:
        s = self.settings
        if s.dictionary is not None or not s.cdc:
            return True if s.dictionary is None else s.dictionary
        sample = head.slice(0, _DICT_SAMPLE_ROWS)  # distinct counts of a whole row group cost: bench/MEASUREMENTS.md
        rows = max(1, sample.num_rows)
        return [f.name for f, col in zip(sample.schema, sample.columns, strict=True)
                if not pa.types.is_nested(f.type) and pc.count_distinct(col).as_py() <= rows * _DICT_MAX_DISTINCT]

    def _emit(self, table: pa.Table, rows: int) -> None:
        head, rest = table.slice(0, rows), table.slice(rows)
        if self._dict_columns is None:
            self._dict_columns = self._choose_dictionary(head)
        writer = self._open()
        writer.write_table(head, row_group_size=head.num_rows)
        self._rows += head.num_rows
        self._row_groups += 1
        self._buffer = rest.to_batches()
        self._buffered_bytes = rest.nbytes
        self._buffered_rows = rest.num_rows
        if self._stream is not None and self._stream.tell() >= self.settings.max_file_size:
            self._finish_file()

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None:
            fd, self._path = tempfile.mkstemp(suffix=".parquet", dir=self._tmp_dir, prefix="hfconnect-")
            os.close(fd)
            self._sink = _HashingSink(self._path)
            # Buffered in Arrow: small CDC pages would otherwise each cost a call into Python.
            self._stream = pa.output_stream(self._sink, buffer_size=1 << 20)
            s = self.settings
            self._writer = pq.ParquetWriter(
                self._stream, self.schema, compression=s.compression, compression_level=s.compression_level,
                write_page_index=s.page_index, use_content_defined_chunking=dict(CDC_DEFAULTS) if s.cdc else False,
                store_schema=True, use_dictionary=True if self._dict_columns is None else self._dict_columns,
            )
        return self._writer

    def _finish_file(self) -> None:
        assert self._writer is not None and self._sink is not None and self._stream is not None
        self._writer.close()
        self._stream.close()
        self._sink.close()
        self.finished.append(FinishedFile(self._path, self._sink.size, self._sink.digest.hexdigest(), self._rows,
                                          self._row_groups, self.schema))
        self._writer, self._stream, self._sink, self._rows, self._row_groups = None, None, None, 0, 0

    def close(self, *, at_least_one: bool = False) -> list[FinishedFile]:
        """Flush and close; `at_least_one` writes a schema-only file when no row came (an empty split)."""
        while self._buffered_rows:
            self._flush_row_group(final=True)
        if self._writer is None and at_least_one and not self.finished:
            self._open()
        if self._writer is not None:
            self._finish_file()
        return self.finished

    def abort(self) -> None:
        """Drop everything written so far: temp files are removed."""
        if self._writer is not None:
            self._writer.close()
        if self._stream is not None:
            self._stream.close()
        if self._sink is not None:
            self._sink.close()
        for path in [self._path] + [f.local_path for f in self.finished]:
            if path:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        self.finished = []


def row_hashes(table: pa.Table, max_columns: int | None = None) -> pa.ChunkedArray | pa.Array | None:
    """Per row, an int64 hash of its fixed-width values and string lengths (of the first `max_columns` such
    columns); None when there is no such column."""
    h = None
    used = 0
    for col in table.columns:
        if max_columns is not None and used >= max_columns:
            break
        t = col.type
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) \
                or pa.types.is_large_binary(t):
            part = pc.cast(pc.binary_length(col), pa.int64())
        elif (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_temporal(t)) \
                and t.bit_width in (8, 16, 32, 64):
            part = pc.cast(col.combine_chunks().view(getattr(pa, f"int{t.bit_width}")()), pa.int64())
        elif pa.types.is_boolean(t):
            part = pc.cast(col, pa.int64())
        else:
            continue
        part = pc.fill_null(part, 0)
        used += 1
        h = part if h is None else pc.bit_wise_xor(pc.multiply(h, 0x100000001B3), part)  # wrapping int64 math
    if h is None:
        return None
    h = pc.multiply(h, -7046029254386353131)  # splitmix64-style finaliser
    return pc.multiply(pc.bit_wise_xor(h, pc.shift_right(h, 29)), -4658895280553007687)


def write_batches(batches: Iterator[pa.RecordBatch], schema: pa.Schema, settings: WriterSettings,
                  tmp_dir: str | None = None) -> list[FinishedFile]:
    writer = RollingParquetWriter(schema, settings, tmp_dir)
    try:
        for batch in batches:
            writer.write(batch)
        return writer.close()
    except BaseException:
        writer.abort()
        raise
