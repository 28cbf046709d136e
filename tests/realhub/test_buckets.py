"""Storage Buckets from Spark and Daft against the real-Hub mode (302s to signed URLs on the other host, rate-limit
windows) with faults injected: reads ride out 503 bursts, 429s and dropped bodies on the listing, the resolver and
the bridge, in Spark and both Daft readers; a Spark write rides out a CAS 503 burst and a batch that lands but
loses its answer, and publishes the job once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.read.buckets import Bucket, by_id, upload
from tests.realhub.conftest import start_hub

pytestmark = pytest.mark.integration

FAULTS = [
    {"route": "api", "match": "^/api/buckets/", "action": "status", "status": 503, "times": 2},
    {"route": "resolve", "match": "^/buckets/", "action": "status", "status": 429, "retry_after": 0.2, "times": 2},
    {"route": "bridge", "action": "status", "status": 503, "every": 3, "times": 3},
    {"route": "bridge", "action": "reset_after", "after_bytes": 2_000, "times": 1},
]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    hub = start_hub(tmp_path_factory.mktemp("realhub-buckets"))
    try:
        yield hub, upload(hub.endpoint, private=True, name="realhub")
    finally:
        hub.close()


def _ridden_out(hub) -> None:  # noqa: ANN001 - LocalHub
    c = hub.counters()
    assert sum(c[route]["faults"] for route in ("api", "resolve", "bridge")) >= 3, c
    assert c["cdn"]["authorized"] == 0 and c["bridge"]["authorized"] == 0


def test_spark_reads_a_private_bucket_through_faults(spark, real: tuple) -> None:  # noqa: ANN001
    hub, data = real
    hub.reset_counters()
    hub.set_faults(FAULTS, seed=3)
    try:
        df = (spark.read.format("huggingface").option("endpoint", hub.endpoint).option("token", READ_TOKEN)
              .option("min_shards", "3").option("retry_budget", "30").load(data.path()))
        got = by_id(df.select("id", "label").toArrow())
        assert got.column("id").to_pylist() == by_id(data.parquet).column("id").to_pylist()
        _ridden_out(hub)
    finally:
        hub.clear_faults()


@pytest.mark.parametrize("reader", ["native", "hfconnect"])
def test_daft_reads_a_private_bucket_through_faults(real: tuple, reader: str) -> None:
    from hfconnect.daft import read_huggingface

    hub, data = real
    hub.reset_counters()
    hub.set_faults(FAULTS, seed=5)
    try:
        df = read_huggingface(data.path(), endpoint=hub.endpoint, token=READ_TOKEN, split="train", reader=reader,
                              retry_budget=30)
        got = by_id(df.to_arrow())
        assert got.column("id").to_pylist() == by_id(data.parquet).column("id").to_pylist()
        _ridden_out(hub)
    finally:
        hub.clear_faults()


def test_spark_writes_a_bucket_once_through_faults(spark, tmp_path: Path) -> None:  # noqa: ANN001
    """A CAS 503 burst (hf_xet retries within the budget) and a file batch that lands but loses its answer
    (found by listing, not sent twice): the prefix holds the job's rows once, in one manifest."""
    from tests.write.test_bucket_writes import read_prefix

    hub = start_hub(tmp_path / "hub")
    try:
        bucket = f"tests/real-{uuid.uuid4().hex[:8]}"
        hub.set_faults([{"route": "cas", "action": "status", "status": 503, "every": 4, "times": 3},
                        {"route": "commit", "action": "reset_after", "match": "/batch$", "times": 1}], seed=1)
        df = spark.range(0, 2_000, numPartitions=2).selectExpr("id", "id % 7 as label")
        (df.write.format("huggingface").mode("overwrite").option("endpoint", hub.endpoint)
         .option("token", WRITE_TOKEN).option("retry_budget", "30").save(f"buckets/{bucket}/out"))
        assert sorted(read_prefix(hub.endpoint, bucket, "out").column("id").to_pylist()) == list(range(2_000))
        c = hub.counters()
        assert c["commit"]["faults"] == 1 and c["cas"]["faults"] >= 1 and c["rate_limits"]["commits"]["limited"] == 0
    finally:
        hub.close()


def test_bucket_fixture_is_private(real: tuple) -> None:
    """The reads above go through a private bucket: without the token it is not found."""
    from hfconnect.daft import read_huggingface
    from hfconnect.errors import RepoNotFoundError, find_hfconnect_error

    hub, data = real
    assert isinstance(data, Bucket)
    with pytest.raises(Exception) as exc:
        read_huggingface(data.path(), endpoint=hub.endpoint).to_arrow()
    assert isinstance(find_hfconnect_error(exc.value), RepoNotFoundError)
