"""A Storage Bucket with Parquet, JSON Lines and CSV under prefixes, uploaded with huggingface_hub's
`batch_bucket_files` (a real hf_xet upload): what the bucket read tests of every engine read, with the pyarrow
tables of the same bytes to compare against."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from tests.conftest import WRITE_TOKEN
from tests.data import make_table, parquet_bytes

PREFIX = "runs/2024"  # Parquet: 3 files of 3 row groups; `kind` dictionary-encoded with nulls, `text` with nulls
COLUMNS = ("id", "text", "label", "score", "kind")
PARTS = 3
ROWS = 3_000  # per file, 1,000-row row groups


@dataclass
class Bucket:
    bucket_id: str
    endpoint: str
    parquet: pa.Table  # the rows under PREFIX, as pyarrow reads those files
    files: dict[str, bytes]  # path -> bytes uploaded
    jsonl: pa.Table
    csv: pa.Table

    def path(self, prefix: str = PREFIX, *, hf: bool = False) -> str:
        return ("hf://" if hf else "") + f"buckets/{self.bucket_id}" + (f"/{prefix}" if prefix else "")


def api(endpoint: str, token: str | None = WRITE_TOKEN) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint, token=token or False)


def part_table(i: int, rows: int = ROWS) -> pa.Table:
    """File i's rows: `kind` dictionary-encoded (pyarrow writes and reads it back as a dictionary)."""
    table = make_table(rows, i * rows, columns=COLUMNS, null_every=11)
    kind = table.column("kind").dictionary_encode()
    return table.set_column(table.schema.get_field_index("kind"), "kind", kind)


def upload(endpoint: str, *, private: bool = False, name: str = "reads") -> Bucket:
    """A fresh bucket holding PREFIX's Parquet files, a look-alike prefix the reads must not take (`runs/2024x`),
    JSON Lines under `json/` and CSV under `csv/`, a non-data file, all in one batch."""
    client = api(endpoint)
    bucket_id = client.create_bucket(f"me/{name}-{uuid.uuid4().hex[:8]}", private=private).bucket_id
    tables = [part_table(i) for i in range(PARTS)]
    files = {f"{PREFIX}/part-{i}.parquet": parquet_bytes(t, row_group_size=1_000) for i, t in enumerate(tables)}
    files[f"{PREFIX}/_SUCCESS"] = b""
    files[f"{PREFIX}x/other.parquet"] = parquet_bytes(make_table(10, 10_000, columns=COLUMNS))
    records = [{"id": i, "name": f"n{i}", "score": None if i % 4 == 0 else i / 2} for i in range(500)]
    files["json/a.jsonl"] = "".join(json.dumps(r) + "\n" for r in records[:250]).encode()
    files["json/b.jsonl"] = "".join(json.dumps(r) + "\n" for r in records[250:]).encode()
    csv_table = make_table(400, columns=("id", "label", "score"))
    out = io.BytesIO()
    pacsv.write_csv(csv_table, out)
    files["csv/rows.csv"] = out.getvalue()
    client.batch_bucket_files(bucket_id, add=[(data, path) for path, data in files.items()])
    jsonl = pa.Table.from_pylist(records)
    csv = pacsv.read_csv(io.BytesIO(out.getvalue()))
    return Bucket(bucket_id, endpoint, pa.concat_tables(tables), files, jsonl, csv)


def replace_file(endpoint: str, bucket_id: str, path: str, data: bytes) -> None:
    """Overwrite one path of the bucket (a bucket keeps no history: the old file is gone from it)."""
    api(endpoint).batch_bucket_files(bucket_id, add=[(data, path)])


def by_id(table: pa.Table) -> pa.Table:
    """Rows in id order, dictionaries decoded (what every engine compares in)."""
    table = table.sort_by("id")
    return pa.table({name: (c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c)
                     for name, c in zip(table.column_names, table.columns, strict=True)})
