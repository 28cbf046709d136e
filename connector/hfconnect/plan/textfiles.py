"""JSON Lines, JSON and CSV data files: read whole, through pyarrow's readers.

Why whole: these formats have no footer or row groups to read in ranges; the planner reads one per split for
the schema, the reader reads each of its shard's files.
"""

from __future__ import annotations

import io
import json

import pyarrow as pa

from ..errors import DataFileError
from ..hub.datafiles import DataFile

__all__ = ["read_text_table"]


def read_text_table(data: bytes, f: DataFile) -> pa.Table:
    """A whole JSON Lines / JSON / CSV file as a table, through pyarrow's readers."""
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson

    try:
        if f.format == "csv":
            opts = pacsv.ParseOptions(delimiter="\t" if f.path.lower().endswith(".tsv") else ",")
            return pacsv.read_csv(io.BytesIO(data), parse_options=opts)
        if data.lstrip()[:1] == b"[":  # a .json file holding one array of records
            return pa.Table.from_pylist(json.loads(data))
        return pajson.read_json(io.BytesIO(data))
    except (pa.ArrowInvalid, ValueError) as exc:
        raise DataFileError(f"{f.path}: cannot be read as {f.format}: {exc}", path=f.path) from None
