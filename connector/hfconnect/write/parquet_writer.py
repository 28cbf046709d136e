"""Optimized Parquet from a stream of Arrow batches: content-defined chunking, page index, sane row groups.

Why buffer: engines hand over small batches (Spark: 10k rows); written as they come, they would become tiny
row groups. Batches are buffered to `row_group_size` bytes (uncompressed, as Arrow counts them) and flushed
as one row group. Files spill to a local temp file (never whole in memory), roll at `max_file_size`, and
their sha256 is computed while they are written, so the upload needs no second read to hash them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["FinishedFile", "RollingParquetWriter", "WriterSettings"]

CDC_DEFAULTS = {"min_chunk_size": 256 * 1024, "max_chunk_size": 1024 * 1024, "norm_level": 0}
METADATA_KEY = b"hfconnect.writer"


@dataclass(frozen=True)
class WriterSettings:
    row_group_size: int = 128 * 1024 * 1024  # bytes, uncompressed
    max_file_size: int = 512 * 1000 * 1000  # bytes on disk, checked after each row group
    compression: str = "zstd"
    compression_level: int | None = None
    cdc: bool = True
    page_index: bool = True
    row_group_rows: int | None = None  # also cap rows per row group (None: bytes only)


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
        self.settings = settings
        self.schema = schema.with_metadata({**(schema.metadata or {}), METADATA_KEY: self._describe()})
        self._tmp_dir = tmp_dir or tempfile.gettempdir()
        self._buffer: list[pa.RecordBatch] = []
        self._buffered_bytes = 0
        self._buffered_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._sink: _HashingSink | None = None
        self._path = ""
        self._rows = 0
        self._row_groups = 0
        self.finished: list[FinishedFile] = []

    def _describe(self) -> bytes:
        s = self.settings
        return json.dumps({"cdc": CDC_DEFAULTS if s.cdc else None, "page_index": s.page_index,
                           "compression": s.compression, "row_group_size": s.row_group_size}).encode()

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if not batch.schema.equals(self.schema, check_metadata=False):
            batch = pa.Table.from_batches([batch]).cast(self.schema).to_batches()[0]
        self._buffer.append(batch)
        self._buffered_bytes += batch.nbytes
        self._buffered_rows += batch.num_rows
        rows_cap = self.settings.row_group_rows
        while self._buffered_bytes >= self.settings.row_group_size or (rows_cap and self._buffered_rows >= rows_cap):
            self._flush_row_group()

    def _flush_row_group(self) -> None:
        table = pa.Table.from_batches(self._buffer, schema=self.schema)
        rows = table.num_rows
        if self.settings.row_group_rows:
            rows = min(rows, self.settings.row_group_rows)
        if self._buffered_bytes > self.settings.row_group_size and table.num_rows:
            per_row = max(1, self._buffered_bytes // table.num_rows)
            rows = min(rows, max(1, self.settings.row_group_size // per_row))
        head, rest = table.slice(0, rows), table.slice(rows)
        writer = self._open()
        writer.write_table(head, row_group_size=head.num_rows)
        self._rows += head.num_rows
        self._row_groups += 1
        self._buffer = rest.to_batches()
        self._buffered_bytes = rest.nbytes
        self._buffered_rows = rest.num_rows
        if self._sink is not None and self._sink.size >= self.settings.max_file_size:
            self._finish_file()

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None:
            fd, self._path = tempfile.mkstemp(suffix=".parquet", dir=self._tmp_dir, prefix="hfconnect-")
            os.close(fd)
            self._sink = _HashingSink(self._path)
            s = self.settings
            self._writer = pq.ParquetWriter(
                self._sink, self.schema, compression=s.compression, compression_level=s.compression_level,
                write_page_index=s.page_index, use_content_defined_chunking=dict(CDC_DEFAULTS) if s.cdc else False,
                store_schema=True,
            )
        return self._writer

    def _finish_file(self) -> None:
        assert self._writer is not None and self._sink is not None
        self._writer.close()
        self._sink.close()
        self.finished.append(FinishedFile(self._path, self._sink.size, self._sink.digest.hexdigest(), self._rows,
                                          self._row_groups, self.schema))
        self._writer, self._sink, self._rows, self._row_groups = None, None, 0, 0

    def close(self, *, at_least_one: bool = False) -> list[FinishedFile]:
        """Flush and close; `at_least_one` writes a schema-only file when no row came (an empty split)."""
        while self._buffered_rows:
            self._flush_row_group()
        if self._writer is None and at_least_one and not self.finished:
            self._open()
        if self._writer is not None:
            self._finish_file()
        return self.finished

    def abort(self) -> None:
        """Drop everything written so far: temp files are removed."""
        if self._writer is not None:
            self._writer.close()
        if self._sink is not None:
            self._sink.close()
        for path in [self._path] + [f.local_path for f in self.finished]:
            if path:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        self.finished = []


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
