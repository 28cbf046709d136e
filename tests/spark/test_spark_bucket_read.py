"""spark.read.format("huggingface") of a Storage Bucket prefix on local[2], against the real local hub: parity with
pyarrow on the same bytes (dictionary columns, nulls), projection and pushed filters, JSON Lines and CSV, the
hf:// spelling, a private bucket, the errors, and a file replaced between planning and the action."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyspark.errors import AnalysisException, PythonException

from tests.conftest import READ_TOKEN
from tests.data import parquet_bytes
from tests.read.buckets import PREFIX, Bucket, by_id, part_table, replace_file, upload

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bucket(hub) -> Bucket:  # noqa: ANN001 - LocalHub
    return upload(hub.endpoint, name="spark")


def _read(spark, hub, path: str, **options):  # noqa: ANN001, ANN202 - Spark objects
    reader = spark.read.format("huggingface").option("endpoint", hub.endpoint)
    for key, value in options.items():
        reader = reader.option(key, value)
    return reader.load(path)


def _spark_shape(table: pa.Table) -> pa.Table:
    """Spark's view of the expected rows: dictionaries decoded, `label` an int, in id order."""
    return by_id(table)


def test_prefix_read_equals_pyarrow(spark, hub, bucket: Bucket) -> None:  # noqa: ANN001
    df = _read(spark, hub, bucket.path(), min_shards="3")
    assert df.rdd.getNumPartitions() >= 3
    got = by_id(df.toArrow())
    want = _spark_shape(bucket.parquet)
    assert got.num_rows == want.num_rows and got.column("text").null_count == want.column("text").null_count
    assert got.column("kind").to_pylist() == want.column("kind").to_pylist()
    assert got.select(["id", "text", "label", "score"]).cast(want.select(["id", "text", "label", "score"]).schema) \
        .equals(want.select(["id", "text", "label", "score"]))
    assert _read(spark, hub, bucket.path(hf=True)).count() == want.num_rows


def test_projection_and_pushed_filter(spark, hub, bucket: Bucket) -> None:  # noqa: ANN001
    df = (spark.read.format("huggingface").option("endpoint", hub.endpoint).option("pushdown_filters", "true")
          .schema("id long, kind string").load(bucket.path()))
    rows = df.where("id >= 2990 and id < 3010 and kind is not null").orderBy("id").collect()
    kept = (pc.field("id") >= 2990) & (pc.field("id") < 3010) & pc.field("kind").is_valid()
    want = by_id(bucket.parquet).filter(kept)
    assert [(r.id, r.kind) for r in rows] == list(zip(want["id"].to_pylist(), want["kind"].to_pylist(), strict=True))
    globbed = _read(spark, hub, bucket.path(""), data_files=f"{PREFIX}/part-2.parquet", filters='[["label", "=", 1]]')
    assert globbed.count() == part_table(2).filter(pc.field("label") == 1).num_rows


def test_jsonl_and_csv(spark, hub, bucket: Bucket) -> None:  # noqa: ANN001
    jsonl = _read(spark, hub, bucket.path("json")).toArrow().sort_by("id")
    assert jsonl.column("name").to_pylist() == bucket.jsonl.sort_by("id").column("name").to_pylist()
    assert jsonl.column("score").null_count == bucket.jsonl.column("score").null_count
    csv = _read(spark, hub, bucket.path("csv")).toArrow().sort_by("id")
    assert csv.column("score").to_pylist() == bucket.csv.sort_by("id").column("score").to_pylist()


def test_private_bucket_and_errors(spark, hub) -> None:  # noqa: ANN001
    private = upload(hub.endpoint, private=True, name="spark-private")
    with pytest.raises(AnalysisException, match=rf"RepoNotFoundError: bucket {private.bucket_id} not found .*a "
                                                "private bucket needs a token"):
        _read(spark, hub, private.path(), token="").count()
    assert _read(spark, hub, private.path(), token=READ_TOKEN).count() == private.parquet.num_rows
    with pytest.raises(AnalysisException, match=r"OptionError: .*plural"):
        _read(spark, hub, f"bucket/{private.bucket_id}/x").count()
    with pytest.raises(AnalysisException, match=r"no Parquet, JSON Lines or CSV data files under this prefix"):
        _read(spark, hub, private.path("empty/prefix"), token=READ_TOKEN).count()


def test_a_file_replaced_before_the_action_fails_it_naming_the_file(spark, hub) -> None:  # noqa: ANN001
    fresh = upload(hub.endpoint, name="spark-changed")
    df = _read(spark, hub, fresh.path())  # planned here: the listing pins each file's Xet hash and size
    path = f"{PREFIX}/part-2.parquet"
    replace_file(hub.endpoint, fresh.bucket_id, path, parquet_bytes(part_table(2, 100), row_group_size=1_000))
    with pytest.raises(PythonException, match=rf"DataFileError: buckets/{fresh.bucket_id}/{path}: changed since the "
                                              "read was planned .*re-run the read"):
        df.count()
    assert _read(spark, hub, fresh.path()).count() == 6_100  # a fresh read sees the bucket as it is now


def test_a_prefix_written_by_hfconnect_reads_its_manifest_files_only(spark, hub) -> None:  # noqa: ANN001
    """An orphan of a killed job (in no manifest) is not read; a later overwrite's rows replace the old ones; a
    manifest that does not parse fails the read naming it."""
    from tests.read.buckets import api, write_job, written_bucket

    bucket_id = written_bucket(hub.endpoint, "spark-manifest")
    path = f"buckets/{bucket_id}/t"
    assert sorted(r.id for r in _read(spark, hub, path).select("id").collect()) == list(range(400))
    write_job(hub.endpoint, path, range(1_000, 1_050), mode="overwrite")
    assert sorted(r.id for r in _read(spark, hub, path).select("id").collect()) == list(range(1_000, 1_050))
    api(hub.endpoint).batch_bucket_files(bucket_id, add=[(b"not json", "t/_hfconnect_manifest.json")])
    with pytest.raises(AnalysisException, match=rf"ManifestError: buckets/{bucket_id}/t/_hfconnect_manifest.json is "
                                                "not a valid hfconnect bucket manifest"):
        _read(spark, hub, path).count()
