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


# ---- prefixes written by hfconnect (with a manifest) ---------------------------------------------------------
def write_job(endpoint: str, target: str, ids: range, mode: str = "append") -> Any:
    """One hfconnect write job through the core every engine runs (begin, 2 tasks, commit): `ids` as column `id`
    and `text`; returns its BucketWriteResult."""
    from hfconnect.options import WriteOptions
    from hfconnect.write.bucket_job import BucketWriteJob
    from hfconnect.write.bucket_target import parse_bucket_target
    from hfconnect.write.bucket_task import write_bucket_task

    t = parse_bucket_target(target)
    assert t is not None
    options = WriteOptions.build(repo=t.bucket_id, endpoint=endpoint, token=WRITE_TOKEN, mode=mode)
    job = BucketWriteJob(options, t)
    table = ids_table(ids)
    schema = job.begin(table.schema)
    messages = [write_bucket_task([b], schema, options, job_id=job.job_id, partition_id=i)
                for i, b in enumerate(table.to_batches(max_chunksize=max(1, len(ids) // 2)))]
    return job.commit(messages, schema)


def ids_table(ids: range) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "text": pa.array([f"t{i}" for i in ids], pa.string())})


def add_orphan(endpoint: str, bucket_id: str, prefix: str, ids: range) -> str:
    """A Parquet file under the prefix in no manifest, named as a job's would be: what a write job killed between
    its two batches leaves."""
    path = f"{prefix}/part-00000-of-00001-0rphan00.parquet"
    api(endpoint).batch_bucket_files(bucket_id, add=[(parquet_bytes(ids_table(ids)), path)])
    return path


def written_bucket(endpoint: str, name: str, job: range = range(0, 400), orphan: range = range(5_000, 5_050)) -> str:
    """A fresh bucket whose prefix `t` an hfconnect job wrote (`job` ids), then an orphan file added (`orphan`
    ids), and whose prefix `plain` has Parquet files and no manifest."""
    bucket_id = api(endpoint).create_bucket(f"me/{name}-{uuid.uuid4().hex[:8]}").bucket_id
    write_job(endpoint, f"buckets/{bucket_id}/t", job, mode="overwrite")
    add_orphan(endpoint, bucket_id, "t", orphan)
    api(endpoint).batch_bucket_files(bucket_id, add=[(parquet_bytes(ids_table(range(i * 10, i * 10 + 10))),
                                                      f"plain/f{i}.parquet") for i in range(3)])
    return bucket_id
