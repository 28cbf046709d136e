"""spark.read.format("huggingface") on local[2] and on a standalone master + worker started here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.errors import AnalysisException

from tests.conftest import READ_TOKEN
from tests.data import publish_multi_config

pytestmark = pytest.mark.integration


def _read(spark, hub, repo: str, **options):
    reader = spark.read.format("huggingface").option("endpoint", hub.endpoint)
    for key, value in options.items():
        reader = reader.option(key, value)
    return reader.load(repo)


def _to_arrow(df) -> pa.Table:
    return df.toArrow()


def test_auto_registered_and_reads_every_config_split(spark, hub, multi_config) -> None:
    for (config, split), table in multi_config.tables.items():
        got = _to_arrow(_read(spark, hub, multi_config.repo_id, config=config, split=split, shard_size="200KB"))
        assert got.sort_by("id").equals(table), (config, split)


def test_user_schema_selects_columns_and_filters_are_pushed(spark, own_hub, own_api) -> None:
    """The multi-config dataset on a hub of its own, which counts the bytes this query was served."""
    published = publish_multi_config(own_api)
    df = (spark.read.format("huggingface").option("endpoint", own_hub.endpoint).schema("id long, score double")
          .option("pushdown_filters", "true").load(published.repo_id))
    assert df.columns == ["id", "score"]
    own_hub.reset_counters()
    rows = df.where("id >= 30000 and id < 30010").orderBy("id").collect()
    assert [r.id for r in rows] == list(range(30000, 30010))
    served = own_hub.counters()["resolve"]["bytes_sent"]
    assert served < sum(len(b) for b in published.files.values()) / 2  # footers dominate on small files
    pushed_back = (_read(spark, own_hub, published.repo_id, pushdown_filters="true")
                   .where("id % 7 = 0 and text like 'text 7%'").count())
    table = published.tables[("reviews", "train")]
    want = sum(1 for i, t in zip(table["id"].to_pylist(), table["text"].to_pylist(), strict=True)
               if i % 7 == 0 and t.startswith("text 7"))
    assert pushed_back == want


@pytest.mark.parametrize("where", [
    "score > 0.5", "score = 'NaN'", "NOT (score < 1.0)",  # Spark: NaN = NaN and NaN above every number
    "NOT (id IN (1, 2))", "NOT (id <=> 3)", "id IN (1, 3)", "NOT (text LIKE 'a%')",  # with null ids and texts
])
def test_pushed_filters_keep_spark_semantics_for_nan_and_null(spark, hub, api, repo_id, tmp_path, where) -> None:
    """Each filter, pushed to hfconnect, keeps exactly the rows Spark keeps when it evaluates the filter itself
    (its Parquet reader with its own pushdown off: with it on, Spark 4.3 drops the NaN rows of `score = 'NaN'`)."""
    from tests.data import parquet_bytes

    table = pa.table({"id": pa.array([1, 2, 3, None, 5, 6], pa.int64()),
                      "score": pa.array([0.25, float("nan"), 1.5, None, 2.0, float("nan")]),
                      "text": pa.array(["apple", None, "banana", "avocado", "cherry", None])})
    data = parquet_bytes(table)
    (tmp_path / "t.parquet").write_bytes(data)
    api.upload_file(path_or_fileobj=data, path_in_repo="data/train-00000-of-00001.parquet", repo_id=repo_id,
                    repo_type="dataset")
    spark.conf.set("spark.sql.parquet.filterPushdown", "false")
    try:
        expected = spark.read.parquet(str(tmp_path / "t.parquet")).where(where).count()
    finally:
        spark.conf.unset("spark.sql.parquet.filterPushdown")
    assert _read(spark, hub, repo_id, pushdown_filters="true").where(where).count() == expected


def test_pushdown_asked_for_with_spark_pushdown_disabled_is_a_clear_error(spark, hub, multi_config) -> None:
    """Option pushdown_filters=true with the conf off: Spark refuses, naming the conf to set; without the option
    the same read works."""
    spark.conf.set("spark.sql.python.filterPushdown.enabled", "false")
    try:
        with pytest.raises(AnalysisException, match=r"DATA_SOURCE_PUSHDOWN_DISABLED.*"
                                                    r"spark\.sql\.python\.filterPushdown\.enabled"):
            _read(spark, hub, multi_config.repo_id, pushdown_filters="true").where("label = 2").count()
        assert _read(spark, hub, multi_config.repo_id).where("label = 2").count() == 12_000
    finally:
        spark.conf.set("spark.sql.python.filterPushdown.enabled", "true")


def test_reused_dataframe_is_exact_by_default(spark, hub, multi_config) -> None:
    """Spark caches a pushed read per DataFrame; without the opt-in no filter state can leak."""
    df = _read(spark, hub, multi_config.repo_id)
    assert df.count() == 60_000
    assert df.where("id < 100").count() == 100
    assert df.count() == 60_000
    with_option = _read(spark, hub, multi_config.repo_id, filters='[["id", "<", 50]]')
    assert with_option.count() == 50 and with_option.where("id < 10").count() == 10 and with_option.count() == 50


def test_split_all_and_options_are_strict(spark, hub, multi_config) -> None:
    counts = {r["split"]: r["count"] for r in
              _read(spark, hub, multi_config.repo_id, split="all").groupBy("split").count().collect()}
    assert counts == {"train": 60_000, "test": 5_000}
    with pytest.raises(AnalysisException, match=r"hfconnect\.errors\.OptionError: unknown option 'shardsize'; valid "
                                                 r"options: batch_size, "):
        _read(spark, hub, multi_config.repo_id, shardsize="1MB")
    with pytest.raises(AnalysisException, match=r"hfconnect\.errors\.SplitNotFoundError: split 'nope' not found in "
                                                 r"config 'reviews'; its splits are: train, test"):
        _read(spark, hub, multi_config.repo_id, split="nope").count()


def test_private_repo_token_not_in_plan_or_errors(spark, hub, api) -> None:
    import uuid

    from tests.data import make_table, parquet_bytes

    repo = f"tests/sprivate-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset", private=True)
    api.upload_file(path_or_fileobj=parquet_bytes(make_table(5)), path_in_repo="train.parquet", repo_id=repo,
                    repo_type="dataset")
    with pytest.raises(AnalysisException, match=rf"hfconnect\.errors\.RepoNotFoundError: dataset {repo}@main: not "
                                                 r"found on the Hub: the repo may be private") as exc:
        _read(spark, hub, repo).count()
    df = _read(spark, hub, repo, token=READ_TOKEN)
    assert df.count() == 5
    plan = df._jdf.queryExecution().toString() + str(exc.value)
    assert READ_TOKEN not in plan


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STANDALONE_JOB = """
import sys
from pyspark.sql import SparkSession
master, endpoint, repo = sys.argv[1:4]
spark = (SparkSession.builder.master(master).appName("hfconnect-standalone")
         .config("spark.sql.python.filterPushdown.enabled", "true")
         .config("spark.pyspark.python", sys.executable).config("spark.executor.memory", "1g")
         .config("spark.ui.enabled", "false").getOrCreate())
df = spark.read.format("huggingface").option("endpoint", endpoint).option("shard_size", "200KB").load(repo)
print("ROWS", df.count(), df.where("id < 100").count(), df.agg({"id": "sum"}).collect()[0][0], flush=True)
# pushdown on the cluster too, on a fresh DataFrame per query
pushed = spark.read.format("huggingface").option("endpoint", endpoint).option("pushdown_filters", "true").load(repo)
print("PUSHED", pushed.where("id >= 59990").count(), flush=True)
spark.stop()
"""


def test_standalone_master_and_worker(hub, multi_config, tmp_path: Path) -> None:
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    env = dict(os.environ, SPARK_HOME=str(spark_home), SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable,
               SPARK_LOG_DIR=str(tmp_path), SPARK_WORKER_DIR=str(tmp_path / "work"),
               SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false")
    port = _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    spark_class = str(spark_home / "bin" / "spark-class")
    procs = []
    try:
        procs.append(subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
             "--webui-port", str(_free_port())], env=env, stdout=open(tmp_path / "master.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT, start_new_session=True))
        procs.append(subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.worker.Worker", master_url, "--cores", "2", "--memory", "2g",
             "--work-dir", str(tmp_path / "work"), "--webui-port", str(_free_port()), "--host", "127.0.0.1"],
            env=env, stdout=open(tmp_path / "worker.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
            start_new_session=True))
        deadline = time.time() + 60
        while "Successfully registered with master" not in (tmp_path / "worker.log").read_text(errors="replace"):
            assert time.time() < deadline, (tmp_path / "worker.log").read_text(errors="replace")[-2000:]
            time.sleep(0.5)
        out = subprocess.run([sys.executable, "-c", STANDALONE_JOB, master_url, hub.endpoint, multi_config.repo_id],
                             env=env, capture_output=True, text=True, timeout=240)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("ROWS")), None)
        assert line is not None, out.stderr[-3000:]
        table = multi_config.tables[("reviews", "train")]
        assert line.split()[1:] == ["60000", "100", str(sum(table["id"].to_pylist()))]
        assert "PUSHED 10" in out.stdout
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, 15)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
