"""What `hfconnect inspect` says of a Parquet file, from its footer: hfconnect's optimized files and others."""

from __future__ import annotations

import io

import pyarrow.parquet as pq

from hfconnect.cli.inspect import inspect_file
from hfconnect.write.parquet_writer import WriterSettings, write_batches
from tests.data import make_table, parquet_bytes


def test_a_plain_pyarrow_file_is_not_optimized() -> None:
    data = parquet_bytes(make_table(12_000), row_group_size=5_000)
    report = inspect_file(pq.ParquetFile(io.BytesIO(data)).metadata, "a.parquet", len(data))
    assert (report.rows, report.row_groups, report.codecs, report.page_index, report.cdc) == (
        12_000, 3, ("SNAPPY",), False, None)
    assert not report.optimized and report.writer.startswith("parquet-cpp-arrow")


def test_a_file_hfconnect_wrote_is_optimized(tmp_path) -> None:
    table = make_table(20_000)
    files = write_batches(iter(table.to_batches(max_chunksize=4_000)), table.schema, WriterSettings(),
                          tmp_dir=str(tmp_path))
    md = pq.ParquetFile(files[0].local_path).metadata
    report = inspect_file(md, "b.parquet", files[0].size)
    assert (report.codecs, report.page_index, report.cdc, report.rows) == (("ZSTD",), True, True, 20_000)
    assert report.optimized and report.row_group_bytes == (md.row_group(0).total_byte_size,)
    off = write_batches(iter(table.to_batches()), table.schema, WriterSettings(cdc=False), tmp_dir=str(tmp_path))
    assert inspect_file(pq.ParquetFile(off[0].local_path).metadata, "c.parquet", off[0].size).cdc is False
