"""Rows routed to their split: one write job, several splits, still ONE commit.

With the `split_column` option each row names its split in that column. A task may see rows of several
splits (engines do not partition by split): each split it sees gets its own rolled, uploaded files, tagged
with the split, and the column itself is not written. The driver then commits every split's files together.
Memory: one row-group buffer per split the task sees.

Here: which rows go to which split (pure Arrow, no upload). `task.write_routed_task` writes each split's files
with the task's `SplitFileWriter`; this module imports nothing of the task side, so `task` imports it directly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import OptionError
from ..options import SPLIT_NAME, WriteOptions

__all__ = ["check_split_column", "data_schema", "split_batches"]

_STRING_TYPES = (pa.string(), pa.large_string(), pa.string_view())


def data_schema(schema: pa.Schema, options: WriteOptions) -> pa.Schema:
    """The schema the files get: without the split column."""
    if not options.split_column or options.split_column not in schema.names:
        return schema
    return schema.remove(schema.get_field_index(options.split_column))


def check_split_column(schema: pa.Schema, options: WriteOptions) -> None:
    """On the driver, before any row is computed: the column exists, holds strings, and is not all there is."""
    column = options.split_column
    if not column:
        return
    if column not in schema.names:
        raise OptionError(f"split_column {column!r} is not a column of the data; its columns are: "
                          f"{', '.join(schema.names)}. Add a column naming each row's split (train, validation, "
                          "test, ...) or pass another split_column")
    dtype = schema.field(column).type
    value_type = dtype.value_type if pa.types.is_dictionary(dtype) else dtype
    if value_type not in _STRING_TYPES:
        raise OptionError(f"split_column {column!r} has type {dtype}: it must hold split names as strings; "
                          f"cast it to string first")
    if len(schema) == 1:
        raise OptionError(f"split_column {column!r} is the only column: there is nothing to write")


def _split_name(value: object, column: str) -> str:
    if value is None:
        raise OptionError(f"split_column {column!r} is null in some rows: every row needs a split name such as "
                          "train, validation or test; fill or filter those rows")
    name = str(value)
    if not SPLIT_NAME.match(name) or name == "all":
        raise OptionError(f"split_column {column!r} holds {name!r}, which is not a valid split name: use letters, "
                          "digits and _ (with - or . between them) such as train, validation or test, and not "
                          "'all'; map the column's values to such names before writing")
    return name


def split_batches(batch: pa.RecordBatch, column: str) -> Iterator[tuple[str, pa.RecordBatch]]:
    """(split, rows of that split without the split column) for each split present in the batch."""
    index = batch.schema.get_field_index(column)
    values = batch.column(index)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    rows = batch.remove_column(index)
    names = pc.unique(values).to_pylist()
    if len(names) == 1:
        yield _split_name(names[0], column), rows
        return
    for value in names:
        name = _split_name(value, column)
        yield name, rows.filter(pc.equal(values, value))

