"""RollingParquetWriter: content-defined row groups that re-synchronise after an insertion, dictionaries only
where they pay, files rolled at max_file_size, sha256 and sizes of what is on disk."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hfconnect.write.parquet_writer import WriterSettings, write_batches


def _table(ids: np.ndarray, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = len(ids)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "text": [" ".join(w) for w in words[rng.integers(0, 5, (n, 6))]],
        "label": pa.array(rng.integers(0, 10, n), pa.int32()),
        "score": rng.random(n),
    })


def _write(table: pa.Table, tmp_path, **settings) -> list:
    files = write_batches(iter(table.to_batches(max_chunksize=2_000)), table.schema,
                          WriterSettings(**settings), tmp_dir=str(tmp_path))
    assert sum(f.rows for f in files) == table.num_rows
    return files


def _boundaries(files) -> list[int]:
    """The first id of every row group, over all files in order."""
    out = []
    for f in files:
        pf = pq.ParquetFile(f.local_path)
        for i in range(pf.metadata.num_row_groups):
            out.append(pf.read_row_group(i, columns=["id"])["id"][0].as_py())
    return out


def test_content_defined_row_groups_resynchronise_after_an_insertion(tmp_path) -> None:
    old = _table(np.arange(0, 120_000) * 10)
    inserted = _table(np.arange(36_000 * 10 - 700, 36_000 * 10 - 100), seed=1)  # 600 new rows at 30%
    new = pa.concat_tables([old.slice(0, 36_000), inserted, old.slice(36_000)])
    a = _boundaries(_write(old, tmp_path, row_group_size=256 * 1024))
    b = _boundaries(_write(new, tmp_path, row_group_size=256 * 1024))
    assert len(a) >= 10
    after = [x for x in a if x > 36_000 * 10]
    # An insertion moves at most the boundary next to it: every later one is found again from the same rows.
    assert len(set(after) - set(b)) <= 1, (a, b)
    # Size-based cuts (CDC off) shift every later boundary: the test above could fail.
    c = _boundaries(_write(old, tmp_path, row_group_size=256 * 1024, cdc=False))
    d = _boundaries(_write(new, tmp_path, row_group_size=256 * 1024, cdc=False))
    assert len({x for x in c if x > 36_000 * 10} - set(d)) > len(after) // 2


def test_row_groups_are_at_least_row_group_size_and_at_most_a_quarter_more(tmp_path) -> None:
    table = _table(np.arange(100_000))
    files = _write(table, tmp_path, row_group_size=512 * 1024)
    meta = pq.ParquetFile(files[0].local_path).metadata
    rows = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    per_row = table.nbytes / table.num_rows
    for n in rows[:-1]:
        assert n * per_row * 1.07 >= 512 * 1024 and n * per_row <= 1.3 * 512 * 1024 * 1.07, rows


def test_dictionary_only_for_low_cardinality_columns_with_cdc(tmp_path) -> None:
    table = _table(np.arange(50_000))

    def dictionary_columns(files) -> set[str]:
        meta = pq.ParquetFile(files[0].local_path).metadata
        cols = meta.row_group(0)
        return {cols.column(i).path_in_schema for i in range(cols.num_columns)
                if cols.column(i).has_dictionary_page}

    assert dictionary_columns(_write(table, tmp_path, row_group_size=256 * 1024)) == {"label"}
    assert dictionary_columns(_write(table, tmp_path, row_group_size=256 * 1024, cdc=False)) >= {"text", "label"}


@pytest.mark.parametrize("cdc", [True, False])
def test_files_roll_at_max_file_size_and_hash_what_is_on_disk(tmp_path, cdc) -> None:
    table = _table(np.arange(200_000))
    files = _write(table, tmp_path, row_group_size=128 * 1024, max_file_size=400_000, cdc=cdc)
    assert len(files) >= 3
    got = pa.concat_tables([pq.read_table(f.local_path) for f in files])
    assert got.select(table.column_names).equals(table)
    for f in files:
        assert os.path.getsize(f.local_path) == f.size
        with open(f.local_path, "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == f.sha256
        assert f.size < 400_000 * 2
