"""FileCuts: where the Daft native runner's one stream of rows is cut into files. After an edit, the files
after it must start at the same rows as before (else Xet's global dedup, which looks a file up by its first chunk,
finds none of them), and no file may grow past twice its size."""

from __future__ import annotations

import pyarrow as pa

from hfconnect.write.parallel import MAX_FILE_FACTOR, FileCuts


def _rows(n: int, start: int = 0) -> pa.Table:
    ids = list(range(start, start + n))
    return pa.table({"id": ids, "text": [f"row {i} " * (1 + i % 7) for i in ids], "x": [i * 0.5 for i in ids]})


def _file_starts(table: pa.Table, morsel: int, file_bytes: int) -> list[int]:
    """The first row index of each file when `table` arrives in `morsel`-row batches."""
    cuts, starts, filled, rows, row = FileCuts(file_bytes), [0], 0, 0, 0
    for batch in table.to_batches(max_chunksize=morsel):
        while batch.num_rows:
            end = cuts.end(batch, rows, filled)
            if end is None:
                filled += batch.nbytes
                rows += batch.num_rows
                row += batch.num_rows
                break
            row += end
            starts.append(row)
            filled, rows, batch = 0, 0, batch.slice(end)
    return starts


def test_files_after_an_insertion_start_at_the_same_rows() -> None:
    base = _rows(200_000)
    inserted = pa.concat_tables([base.slice(0, 30_000), _rows(700, start=10**6), base.slice(30_000)])
    file_bytes = 500_000
    before = _file_starts(base, 8192, file_bytes)
    after = _file_starts(inserted, 5000, file_bytes)  # other batches too: cuts must not depend on them
    assert len(before) > 8
    shifted = [s - 700 for s in after if s > 30_000]
    later = [s for s in before if s > 40_000]
    assert later and set(later) <= set(shifted), (before, after)  # the very next file realigns, and all after


def test_files_hold_at_least_file_bytes_and_a_bounded_multiple() -> None:
    table = _rows(100_000)
    per_row = table.nbytes / table.num_rows
    starts = _file_starts(table, 1000, 300_000)
    sizes = [(b - a) * per_row for a, b in zip(starts, starts[1:], strict=False)]
    assert len(sizes) > 5 and all(300_000 * 0.95 <= s <= 2 * MAX_FILE_FACTOR * 300_000 * 1.1 for s in sizes), sizes


def test_a_stream_without_hashable_columns_is_cut_by_size() -> None:
    table = pa.table({"nested": [[i] for i in range(50_000)]})
    starts = _file_starts(table, 1000, 100_000)
    assert len(starts) > 3
