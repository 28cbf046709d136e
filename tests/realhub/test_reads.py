"""Reads against the real-Hub mode: exact rows, resolver requests <= files + tasks, the token never at the CDN,
URLs that expire mid-read, a resolver quota that must be waited out, anonymous and logged-in users."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import textwrap
import time

import pyarrow as pa
import pytest

from hfconnect.daft import read_huggingface
from hfconnect.options import ReadOptions
from hfconnect.plan import plan_read
from hfconnect.read import read_shard
from tests.conftest import READ_TOKEN
from tests.realhub.conftest import counts, publish, sorted_rows, start_hub

pytestmark = pytest.mark.integration


def core_read(hub, repo: str, token: str | None = READ_TOKEN, **kw) -> tuple[pa.Table, int]:
    plan = plan_read(ReadOptions.build(repo=repo, endpoint=hub.endpoint, token=token, **kw))
    batches = [b for shard in plan.shards for b in read_shard(plan, shard)]
    return pa.Table.from_batches(batches, schema=plan.schema), len(plan.shards)


def spark_read(spark, hub, repo: str, token: str | None = READ_TOKEN, **options: str) -> pa.Table:
    reader = spark.read.format("huggingface").option("endpoint", hub.endpoint)
    if token:
        reader = reader.option("token", token)
    for key, value in options.items():
        reader = reader.option(key, value)
    return pa.Table.from_pandas(reader.load(repo).toPandas(), preserve_index=False)


def _forget_signed_urls() -> None:
    """Each read below starts like a fresh process: nothing resolved yet."""
    from hfconnect.hub.http import signed_urls

    signed_urls._targets.clear()


@pytest.mark.parametrize("shard_size", ["128MB", "150KB"])
def test_core_read_resolves_each_file_once(real_hub, dataset, shard_size) -> None:
    _forget_signed_urls()
    real_hub.reset_counters()
    table, shards = core_read(real_hub, dataset.repo_id, shard_size=shard_size)
    c = counts(real_hub)
    assert table.num_rows == dataset.table.num_rows and sorted_rows(table).equals(sorted_rows(dataset.table))
    assert c["resolvers"] <= dataset.files + shards and c["resolvers"] <= dataset.files + 1  # + the card
    assert c["api"] <= 3 and c["cdn_with_token"] == 0 and c["limited"] == 0


def test_spark_read(spark, real_hub, dataset) -> None:
    _forget_signed_urls()
    real_hub.reset_counters()
    table = spark_read(spark, real_hub, dataset.repo_id)
    c = counts(real_hub)
    assert sorted_rows(table).equals(sorted_rows(dataset.table))
    tasks = spark.read.format("huggingface").option("endpoint", real_hub.endpoint).option("token", READ_TOKEN) \
        .load(dataset.repo_id).rdd.getNumPartitions()
    assert c["resolvers"] <= dataset.files + tasks
    assert c["api"] <= 6 and c["cdn_with_token"] == 0


def test_spark_function_read(spark, real_hub, dataset) -> None:
    """hfconnect.spark.read plans in the driver's process: its signed URLs travel to the tasks with the shards."""
    import hfconnect.spark as hs

    fresh = publish(real_hub)  # its own commit: no Python worker Spark reuses holds its URLs from earlier tests
    _forget_signed_urls()
    real_hub.reset_counters()
    df = hs.read(spark, fresh.repo_id, endpoint=real_hub.endpoint, token=READ_TOKEN, shard_size="150KB")
    table = pa.Table.from_pandas(df.toPandas(), preserve_index=False)
    c = counts(real_hub)
    assert sorted_rows(table).equals(sorted_rows(fresh.table))
    assert df.rdd.getNumPartitions() > fresh.files + 1  # row-group shards: tasks resolving files would show
    assert c["resolvers"] <= fresh.files + 1 and c["api"] <= 3 and c["cdn_with_token"] == 0 and c["cdn"] > 0


@pytest.mark.parametrize("reader", ["native", "hfconnect"])
def test_daft_read(real_hub, dataset, reader) -> None:
    _forget_signed_urls()
    real_hub.reset_counters()
    table = read_huggingface(dataset.repo_id, endpoint=real_hub.endpoint, token=READ_TOKEN, reader=reader).to_arrow()
    c = counts(real_hub)
    assert sorted_rows(table).equals(sorted_rows(dataset.table))
    assert c["resolvers"] <= dataset.files + 1 and c["api"] <= 3 and c["cdn_with_token"] == 0
    assert c["cdn"] > 0


def test_daft_native_reads_signed_urls_without_the_token(real_hub, dataset) -> None:
    """Daft's native reader gets the signed URLs (no resolver request per column chunk) and no token."""
    import io

    from hfconnect.daft import HuggingFaceSource

    _forget_signed_urls()
    source = HuggingFaceSource(ReadOptions.build(repo=dataset.repo_id, endpoint=real_hub.endpoint, token=READ_TOKEN))
    explained = io.StringIO()
    source.read().explain(show_all=True, file=explained)
    text = "".join(explained.getvalue().split()).replace("|", "")
    assert real_hub.cdn_endpoint.removeprefix("http://") in text and READ_TOKEN not in explained.getvalue()


EXPIRY = 2  # seconds a signed URL lives on the slow hub


@pytest.fixture(scope="module")
def slow_cdn_hub(tmp_path_factory):
    """URLs live 2 s; the CDN sends 300 KB/s per connection, so reading the dataset (~1.5 MB) outlasts them."""
    hub = start_hub(tmp_path_factory.mktemp("expiring"), url_expiry=EXPIRY)
    ds = publish(hub)
    hub.set_faults([{"route": route, "action": "bandwidth", "bytes_per_sec": "300KB"} for route in ("cdn", "bridge")])
    yield hub, ds
    hub.close()


def test_core_read_outlasting_url_expiry(slow_cdn_hub) -> None:
    hub, ds = slow_cdn_hub
    _forget_signed_urls()
    hub.reset_counters()
    started = time.monotonic()
    table, shards = core_read(hub, ds.repo_id, shard_size="150KB", max_concurrency=1)
    assert time.monotonic() - started > EXPIRY
    assert sorted_rows(table).equals(sorted_rows(ds.table))
    assert counts(hub)["resolvers"] > ds.files  # URLs were renewed as they neared expiry


def test_an_expired_signed_url_is_renewed_on_403(slow_cdn_hub) -> None:
    """A URL that expired sooner than it said (or whose expiry cannot be read): the CDN's 403 renews it."""
    from hfconnect.hub.http import signed_urls

    hub, ds = slow_cdn_hub
    _forget_signed_urls()
    plan = plan_read(ReadOptions.build(repo=ds.repo_id, endpoint=hub.endpoint, token=READ_TOKEN, shard_size="150KB"))
    assert any(shard.targets for shard in plan.shards)
    time.sleep(EXPIRY + 0.5)
    for url, target in list(signed_urls._targets.items()):
        signed_urls.put(url, dataclasses.replace(target, expires_at=time.time() + 3600))
    hub.reset_counters()
    table = pa.Table.from_batches([b for shard in plan.shards for b in read_shard(plan, shard)], schema=plan.schema)
    assert sorted_rows(table).equals(sorted_rows(ds.table))
    assert counts(hub)["cdn_refused"] > 0 and counts(hub)["cdn_with_token"] == 0


def test_spark_read_outlasting_url_expiry(spark, slow_cdn_hub) -> None:
    hub, ds = slow_cdn_hub
    started = time.monotonic()
    table = spark_read(spark, hub, ds.repo_id, shard_size="150KB")
    assert time.monotonic() - started > EXPIRY
    assert sorted_rows(table).equals(sorted_rows(ds.table))


def test_spark_function_read_outlasting_url_expiry(spark, slow_cdn_hub) -> None:
    """The planner's signed URLs expire while hfconnect.spark.read's tasks run: they renew them."""
    import hfconnect.spark as hs

    hub, ds = slow_cdn_hub
    _forget_signed_urls()
    hub.reset_counters()
    started = time.monotonic()
    df = hs.read(spark, ds.repo_id, endpoint=hub.endpoint, token=READ_TOKEN, shard_size="150KB")
    table = pa.Table.from_pandas(df.toPandas(), preserve_index=False)
    assert time.monotonic() - started > EXPIRY
    assert sorted_rows(table).equals(sorted_rows(ds.table))
    c = counts(hub)
    assert c["resolvers"] > ds.files and c["cdn_with_token"] == 0  # URLs were renewed as they neared expiry


@pytest.mark.parametrize("reader", ["native", "hfconnect"])
def test_daft_read_outlasting_url_expiry(slow_cdn_hub, reader) -> None:
    """Daft's native reader cannot renew a URL: with URLs this short-lived hfconnect's reader takes the files."""
    hub, ds = slow_cdn_hub
    _forget_signed_urls()
    hub.reset_counters()
    shards = {"shard_size": "150KB"} if reader == "hfconnect" else {}
    table = read_huggingface(ds.repo_id, endpoint=hub.endpoint, token=READ_TOKEN, reader=reader, **shards).to_arrow()
    assert sorted_rows(table).equals(sorted_rows(ds.table))
    assert counts(hub)["cdn_with_token"] == 0


def test_a_tight_resolver_quota_is_waited_out(tmp_path, caplog) -> None:
    """Six files, three resolver requests per 6-second window: the read must wait for the next window (and logs
    why; at WARNING when the wait is longer than a few seconds)."""
    hub = start_hub(tmp_path / "hub", window=6, quotas={"api": 1000, "resolvers": 3})
    try:
        ds = publish(hub, files=6, rows=5_000)
        hub.reset_limits()
        hub.reset_counters()
        _forget_signed_urls()
        with caplog.at_level(logging.DEBUG, logger="hfconnect"):
            table, _ = core_read(hub, ds.repo_id, shard_size="1KB")
        assert sorted_rows(table).equals(sorted_rows(ds.table))
        assert counts(hub)["limited"] > 0
        assert any("'resolvers' rate limit" in r.getMessage() for r in caplog.records)
    finally:
        hub.close()


def test_anonymous_read_of_a_public_repo(spark, real_hub, dataset, monkeypatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    real_hub.reset_counters()
    table, _ = core_read(real_hub, dataset.repo_id, token=None)
    assert sorted_rows(table).equals(sorted_rows(dataset.table))
    assert sorted_rows(read_huggingface(dataset.repo_id, endpoint=real_hub.endpoint).to_arrow()).equals(
        sorted_rows(dataset.table))
    assert sorted_rows(spark_read(spark, real_hub, dataset.repo_id, token=None)).equals(sorted_rows(dataset.table))
    c = real_hub.counters()
    assert c["api"]["authorized"] == 0 and c["resolve"]["authorized"] == 0 and c["cdn"]["authorized"] == 0
    assert c["bridge"]["authorized"] == 0 and c["xorb"]["authorized"] == 0


LOGGED_IN = textwrap.dedent("""
    import json, sys
    from huggingface_hub import get_token
    from pyspark.sql import SparkSession
    import pyarrow as pa
    from hfconnect.daft import read_huggingface
    from hfconnect.options import ReadOptions
    from hfconnect.plan import plan_read
    from hfconnect.read import read_shard
    endpoint, repo = sys.argv[1], sys.argv[2]
    assert get_token(), "no saved login"
    plan = plan_read(ReadOptions.build(repo=repo, endpoint=endpoint))
    core = sum(b.num_rows for s in plan.shards for b in read_shard(plan, s))
    daft = read_huggingface(repo, endpoint=endpoint).to_arrow().num_rows
    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
    sp = spark.read.format("huggingface").option("endpoint", endpoint).load(repo).count()
    spark.stop()
    print(json.dumps({"core": core, "daft": daft, "spark": sp}))
""")


def test_a_logged_in_user_reads_a_private_repo_without_passing_a_token(real_hub, tmp_path) -> None:
    """`hf auth login` saves the token under HF_HOME; a process with no HF_TOKEN and no option finds it."""
    ds = publish(real_hub, private=True, files=2, rows=1_000)
    home = tmp_path / "home"
    home.mkdir()
    (home / "token").write_text(READ_TOKEN)
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    env.update(HF_HOME=str(home), HF_ENDPOINT=real_hub.endpoint)
    out = subprocess.run([sys.executable, "-c", LOGGED_IN, real_hub.endpoint, ds.repo_id], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"core": 2_000, "daft": 2_000, "spark": 2_000}
