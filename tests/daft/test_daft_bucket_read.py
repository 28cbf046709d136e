"""hfconnect.daft.read_huggingface of a Storage Bucket prefix on Daft's native runner, against the real local hub,
with both readers (Daft's native Parquet reader over the signed URLs, and hfconnect's): parity with pyarrow on
the same bytes (dictionary columns, nulls), projection, filter and limit pushdown, JSON Lines and CSV, a private
bucket, and a file replaced between planning and collect()."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from daft import col

from hfconnect.daft import read_huggingface
from hfconnect.errors import DataFileError, RepoNotFoundError, find_hfconnect_error
from hfconnect.hub.http import signed_urls
from tests.conftest import READ_TOKEN
from tests.data import parquet_bytes
from tests.read.buckets import PREFIX, Bucket, by_id, part_table, replace_file, upload

pytestmark = pytest.mark.integration
READERS = ("native", "hfconnect")


@pytest.fixture(scope="module")
def bucket(hub) -> Bucket:  # noqa: ANN001 - LocalHub
    return upload(hub.endpoint, name="daft")


def _decoded(table: pa.Table) -> pa.Table:
    """Daft's strings are large_string: compare in pyarrow's types."""
    return by_id(table).cast(by_id(table).schema)


@pytest.mark.parametrize("reader", READERS)
def test_prefix_read_equals_pyarrow(hub, bucket: Bucket, reader: str) -> None:  # noqa: ANN001
    df = read_huggingface(bucket.path(), endpoint=hub.endpoint, split="train", reader=reader)
    got = by_id(df.to_arrow())
    want = by_id(bucket.parquet)
    assert got.column_names == want.column_names and got.num_rows == want.num_rows
    assert got.cast(want.schema).equals(want)
    assert got.column("text").null_count > 0 and got.column("kind").null_count > 0
    every = read_huggingface(bucket.path(hf=True), endpoint=hub.endpoint, reader=reader).to_arrow()
    assert set(every.column("split").to_pylist()) == {"train"} and every.num_rows == want.num_rows


@pytest.mark.parametrize("reader", READERS)
def test_projection_filter_and_limit(hub, bucket: Bucket, reader: str) -> None:  # noqa: ANN001
    df = read_huggingface(bucket.path(), endpoint=hub.endpoint, split="train", reader=reader)
    got = df.where((col("id") >= 4_000) & (col("label") == 2)).select("id", "kind").to_arrow()
    want = bucket.parquet.filter((pc.field("id") >= 4_000) & (pc.field("label") == 2)).select(["id", "kind"])
    assert by_id(got).cast(by_id(want).schema).equals(by_id(want))
    assert len(df.limit(7).to_pylist()) == 7
    globbed = read_huggingface(bucket.path(""), endpoint=hub.endpoint, data_files=[f"test={PREFIX}/part-0.parquet"],
                               reader=reader, filters=[("id", "<", 100)]).to_arrow()
    assert globbed.num_rows == 100 and set(globbed.column("split").to_pylist()) == {"test"}


def test_jsonl_and_csv(hub, bucket: Bucket) -> None:  # noqa: ANN001
    jsonl = read_huggingface(bucket.path("json"), endpoint=hub.endpoint, split="train").to_arrow().sort_by("id")
    assert jsonl.column("name").to_pylist() == bucket.jsonl.sort_by("id").column("name").to_pylist()
    assert jsonl.column("score").null_count == bucket.jsonl.column("score").null_count
    csv = read_huggingface(bucket.path("csv"), endpoint=hub.endpoint, split="train").to_arrow()
    assert csv.sort_by("id").column("score").to_pylist() == bucket.csv.sort_by("id").column("score").to_pylist()


def test_private_bucket(hub) -> None:  # noqa: ANN001
    private = upload(hub.endpoint, private=True, name="daft-private")
    with pytest.raises(RepoNotFoundError, match=f"bucket {private.bucket_id} not found"):
        read_huggingface(private.path(), endpoint=hub.endpoint, token="")
    got = read_huggingface(private.path(), endpoint=hub.endpoint, token=READ_TOKEN, split="train").to_arrow()
    assert got.num_rows == private.parquet.num_rows


@pytest.mark.parametrize("reader", READERS)
def test_a_file_replaced_before_collect_fails_naming_it(hub, reader: str) -> None:  # noqa: ANN001
    fresh = upload(hub.endpoint, name=f"daft-changed-{reader}")
    df = read_huggingface(fresh.path(), endpoint=hub.endpoint, split="train", reader=reader)
    path = f"{PREFIX}/part-1.parquet"
    replace_file(hub.endpoint, fresh.bucket_id, path, parquet_bytes(part_table(1, 50), row_group_size=1_000))
    # As once the signed URLs planning got expired (or on another process): the files are resolved again.
    source_url = f"{hub.endpoint}/buckets/{fresh.bucket_id}/resolve/{path}"
    for key in [k for k in list(signed_urls._targets) if k.startswith(source_url)]:
        signed_urls.drop(key, signed_urls._targets[key])
    with pytest.raises(Exception) as err:  # noqa: PT011 - Daft wraps a task's error: ours is found below it
        df.to_arrow()
    ours = find_hfconnect_error(err.value)
    text = str(ours) if ours is not None else str(err.value)
    assert f"buckets/{fresh.bucket_id}/{path}: changed since the read was planned" in text
    assert ours is None or isinstance(ours, DataFileError)


@pytest.mark.parametrize("reader", READERS)
def test_a_prefix_written_by_hfconnect_reads_its_manifest_files_only(hub, reader: str) -> None:  # noqa: ANN001
    """An orphan of a killed job (in no manifest) is not read, by either reader; after an overwrite, only its rows."""
    from tests.read.buckets import write_job, written_bucket

    bucket_id = written_bucket(hub.endpoint, f"daft-manifest-{reader}")
    path = f"buckets/{bucket_id}/t"
    got = read_huggingface(path, endpoint=hub.endpoint, split="train", reader=reader).to_arrow()
    assert sorted(got.column("id").to_pylist()) == list(range(400))
    write_job(hub.endpoint, path, range(1_000, 1_050), mode="overwrite")
    got = read_huggingface(path, endpoint=hub.endpoint, split="train", reader=reader).to_arrow()
    assert sorted(got.column("id").to_pylist()) == list(range(1_000, 1_050))
