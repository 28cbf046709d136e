"""df.write.format("huggingface"): one commit per job, read back by every client, modes, faults, concurrency."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError
from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException, PythonException

from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.data import commits

pytestmark = pytest.mark.integration


def _repo() -> str:
    return f"tests/w-{uuid.uuid4().hex[:10]}"


def _frame(spark, n: int, offset: int = 0, parts: int = 3):
    return (spark.range(offset, offset + n, numPartitions=parts)
            .selectExpr("id", "concat('row ', cast(id as string)) as text", "cast(id % 5 as int) as label",
                        "id / 3.0 as score"))


def failing_frame(spark):
    """10k rows in 4 tasks, one of which fails (a ValueError) after the others may have written and uploaded."""
    from pyspark.sql.functions import udf

    @udf("long")
    def boom(x: int) -> int:
        if x == 7_777:
            raise ValueError("injected failure in one task")
        return x

    return _frame(spark, 10_000, parts=4).withColumn("id", boom("id"))


def _write(df, hub, repo: str, save_mode: str = "append", **options) -> None:
    """Spark's .mode() takes append/overwrite only; the `mode` option adds error and ignore."""
    writer = (df.write.format("huggingface").mode(save_mode).option("endpoint", hub.endpoint)
              .option("token", WRITE_TOKEN))
    for key, value in options.items():
        writer = writer.option(key, value)
    writer.save(repo)


def _head(api: HfApi, repo: str) -> str:
    return api.dataset_info(repo).sha


def _parquet_files(api: HfApi, repo: str) -> list[str]:
    return sorted(f for f in api.list_repo_files(repo, repo_type="dataset") if f.endswith(".parquet"))


def test_spark_write_one_commit_read_back_by_every_client(spark, hub, api, tmp_path) -> None:
    import datasets
    import pandas as pd

    repo = _repo()
    before = commits(api, repo)
    _write(_frame(spark, 30_000), hub, repo, split="train", row_group_bytes="64KiB")
    _write(_frame(spark, 3_000, 1_000_000, parts=2), hub, repo, split="test")
    assert commits(api, repo) - before == 2
    files = _parquet_files(api, repo)
    assert files == ["data/test-00000-of-00002.parquet", "data/test-00001-of-00002.parquet",
                     "data/train-00000-of-00003.parquet", "data/train-00001-of-00003.parquet",
                     "data/train-00002-of-00003.parquet"]
    want = _frame(spark, 30_000).toArrow().sort_by("id")
    got = spark.read.format("huggingface").option("endpoint", hub.endpoint).load(repo).toArrow().sort_by("id")
    assert got.equals(want.cast(got.schema))  # Spark's non-null flags are not kept: Hub columns are nullable
    loaded = datasets.load_dataset(repo)
    assert set(loaded) == {"train", "test"}
    assert sorted(loaded["train"]["id"]) == list(range(30_000))
    from hfconnect.daft import read_huggingface

    daft_rows = read_huggingface(repo, split="train", endpoint=hub.endpoint).to_arrow().sort_by("id")
    assert daft_rows.column("text").to_pylist() == want.column("text").to_pylist()
    sha = _head(api, repo)
    frames = [pd.read_parquet(f"hf://datasets/{repo}@{sha}/{f}") for f in files if "/train-" in f]
    assert sorted(pd.concat(frames)["id"].tolist()) == list(range(30_000))
    raw = requests.get(f"{hub.endpoint}/datasets/{repo}/resolve/{sha}/{files[2]}").content
    md = pq.ParquetFile(io.BytesIO(raw)).metadata
    assert md.row_group(0).column(0).has_offset_index and md.row_group(0).column(0).has_column_index
    assert b"hfconnect.writer" in md.metadata and b"min_chunk_size" in md.metadata[b"hfconnect.writer"]
    assert md.num_row_groups > 1  # 64KiB row groups, not one per Spark batch or per file
    assert all(md.row_group(i).total_byte_size < 4 * 64 * 1024 for i in range(md.num_row_groups))


def test_overwrite_one_split_keeps_the_other_and_append_keeps_both(spark, hub, api) -> None:
    repo = _repo()
    _write(_frame(spark, 1_000), hub, repo, split="train")
    _write(_frame(spark, 100, 50_000, parts=1), hub, repo, split="test")
    _write(_frame(spark, 500, 10_000, parts=2), hub, repo, save_mode="overwrite", split="train")
    read = spark.read.format("huggingface").option("endpoint", hub.endpoint)
    assert sorted(r.id for r in read.option("split", "train").load(repo).select("id").collect()) == list(
        range(10_000, 10_500))
    assert read.option("split", "test").load(repo).count() == 100
    _write(_frame(spark, 200, 20_000, parts=2), hub, repo, split="train")
    train = sorted(r.id for r in read.option("split", "train").load(repo).select("id").collect())
    assert train == list(range(10_000, 10_500)) + list(range(20_000, 20_200))
    names = [f for f in _parquet_files(api, repo) if "/train-" in f]
    assert len(names) == 4 and len(set(names)) == 4


def test_error_and_ignore_modes_and_bad_options(spark, hub, api) -> None:
    repo = _repo()
    _write(_frame(spark, 100), hub, repo)
    sha = _head(api, repo)
    with pytest.raises(AnalysisException, match=rf"hfconnect\.errors\.HfConnectError: {repo} config 'default' split "
                                                 r"'train' already has 3 file\(s\) and mode is 'error'"):
        _write(_frame(spark, 10), hub, repo, **{"mode": "error"})
    _write(_frame(spark, 10), hub, repo, **{"mode": "ignore"})
    assert _head(api, repo) == sha
    with pytest.raises(AnalysisException, match=r"hfconnect\.errors\.OptionError: unknown option 'rowgroupsize'; "
                                                 r"valid options: cdc, commit_description, commit_message, "):
        _write(_frame(spark, 10), hub, repo, rowgroupsize="1MB")
    with pytest.raises(AnalysisException, match=r"hfconnect\.errors\.OptionError: mode 'sometimes' is not one of "
                                                 r"append, overwrite, error, errorifexists, ignore"):
        _write(_frame(spark, 10), hub, repo, **{"mode": "sometimes"})
    with pytest.raises(AnalysisException, match=r"hfconnect\.errors\.OptionError: 'models/tests/some-model' is not a "
                                                 r"dataset repo"):
        _write(_frame(spark, 10), hub, "models/tests/some-model")
    assert _head(api, repo) == sha


def test_append_with_conflicting_schema_fails_before_upload(spark, own_hub, own_api) -> None:
    """On a hub of its own, which counts this job's uploads only."""
    repo = _repo()
    _write(_frame(spark, 100), own_hub, repo)
    sha = _head(own_api, repo)
    own_hub.reset_counters()
    other = spark.range(5).selectExpr("cast(id as string) as id", "id as extra")
    with pytest.raises(AnalysisException, match=rf"hfconnect\.errors\.SchemaMismatchError: cannot append to {repo} "
                                                 r"split 'train': its files have columns \[id:int64,.*\] but the new "
                                                 r"rows have \[id:string,extra:int64\]"):
        _write(other, own_hub, repo)
    counters = own_hub.counters()
    assert counters["upload"]["requests"] == 0 and counters["commits"] == 0
    assert _head(own_api, repo) == sha


def test_append_in_narrower_types_keeps_the_split_s_schema(spark, hub, api) -> None:
    """Spark's int/tinyint rows appended to a split of bigint/int: written in the split's types, so
    `datasets` loads the split (it refuses files that disagree) and the card keeps one set of features."""
    import datasets

    repo = _repo()
    _write(_frame(spark, 100), hub, repo)
    narrow = spark.range(100, 150).selectExpr("cast(id as int) as id", "concat('row ', cast(id as string)) as text",
                                              "cast(id % 5 as tinyint) as label", "id / 3.0 as score")
    _write(narrow, hub, repo)
    schemas = {pq.read_schema(api.hf_hub_download(repo, f, repo_type="dataset")).remove_metadata()
               for f in _parquet_files(api, repo)}
    assert len(schemas) == 1 and [str(t) for t in schemas.pop().types][:3] == ["int64", "string", "int32"]
    assert sorted(datasets.load_dataset(repo, split="train")["id"]) == list(range(150))


def test_no_token_or_read_token_commits_nothing(spark, hub, api) -> None:
    repo = _repo()
    _write(_frame(spark, 10), hub, repo)
    sha, before = _head(api, repo), commits(api, repo)
    for token, why in ((READ_TOKEN, f"the token given for {repo} is read-only: writing needs a write token"),
                       (None, f"writing to {repo} needs a token with write access: pass option token, set HF_TOKEN")):
        writer = _frame(spark, 10).write.format("huggingface").mode("append").option("endpoint", hub.endpoint)
        if token:
            writer = writer.option("token", token)
        with pytest.raises(AnalysisException, match=rf"hfconnect\.errors\.AuthenticationError: {why}"):
            writer.save(repo)
    assert _head(api, repo) == sha and commits(api, repo) == before


FLAKY_JOB = """
import sys
from pyspark.sql import SparkSession
from pyspark import TaskContext
import hfconnect.spark as hs
endpoint, token, repo = sys.argv[1:4]
spark = (SparkSession.builder.master("local[2,3]").config("spark.ui.enabled", "false")
         .config("spark.speculation", "true").config("spark.speculation.multiplier", "1")
         .config("spark.speculation.quantile", "0.1").config("spark.speculation.minTaskRuntime", "1").getOrCreate())
def flaky(rows):
    ctx = TaskContext.get()
    if ctx.partitionId() == 1 and ctx.attemptNumber() == 0:
        raise RuntimeError("injected task failure")
    return rows
df = spark.range(0, 40000, numPartitions=4).selectExpr("id", "id * 2 as twice")
df = spark.createDataFrame(df.rdd.mapPartitions(flaky), df.schema)
WRITE
print("ROWS", spark.read.format("huggingface").option("endpoint", endpoint).load(repo).count(), flush=True)
spark.stop()
"""


def run_flaky_job(hub, repo: str, write: str) -> str:
    """A Spark job in its own process (local[2,3]: a task may fail 3 times; speculation on) whose partition 1
    fails on its first attempt, then runs `write` (Python using df, endpoint, token, repo); its stdout."""
    out = subprocess.run([sys.executable, "-c", FLAKY_JOB.replace("WRITE", write), hub.endpoint, WRITE_TOKEN, repo],
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYSPARK_PYTHON=sys.executable))
    assert "ROWS 40000" in out.stdout, out.stderr[-3000:]
    return out.stdout


def test_failed_task_is_retried_and_rows_land_exactly_once(hub, api) -> None:
    """A task that fails on its first attempt (Spark retries it) and speculation: rows exactly once."""
    repo = _repo()
    before = commits(api, repo)
    run_flaky_job(hub, repo, 'df.write.format("huggingface").mode("append").option("endpoint", endpoint)'
                             '.option("token", token).save(repo)')
    assert commits(api, repo) - before == 1  # one commit for the job, whatever the retries
    assert len(_parquet_files(api, repo)) == 4


def test_failure_before_commit_leaves_the_branch_unchanged(spark, hub, api) -> None:
    repo = _repo()
    _write(_frame(spark, 100), hub, repo)
    sha, before = _head(api, repo), commits(api, repo)
    with pytest.raises(PythonException, match="ValueError: injected failure in one task"):
        _write(failing_frame(spark), hub, repo)
    assert _head(api, repo) == sha and commits(api, repo) == before


@pytest.mark.parametrize("rules", [
    [{"route": "upload", "action": "status", "status": 503, "every": 3}],
    [{"route": "upload", "action": "reset", "every": 2}],
    [{"route": "upload", "action": "status", "status": 429, "retry_after": 0.2, "every": 3}],
    [{"route": "commit", "action": "status", "status": 500, "times": 1}],
    [{"route": "commit", "action": "reset_after", "times": 1}],
    [{"route": "commit", "action": "status", "status": 429, "retry_after": 0.2, "times": 1}],
    [{"route": "cas", "action": "status", "status": 503, "every": 3}],  # Xet storage, from Spark's Python workers
    [{"route": "cas", "action": "reset_after", "match": "^/v1/xorbs/", "every": 2}],
    [{"route": "xet-token", "action": "status", "status": 503, "every": 2}],
], ids=["upload-503", "upload-reset", "upload-429", "commit-500", "commit-reset-after-landing", "commit-429",
        "cas-503", "xorb-upload-dropped", "xet-token-503"])
def test_faults_on_upload_and_commit_are_survived_exactly_once(spark, own_hub, own_api, rules) -> None:
    """The fault rules are set on a hub of this test alone: they are global to a hub."""
    repo = _repo()
    _write(_frame(spark, 10), own_hub, repo, split="test")
    before = commits(own_api, repo)
    own_hub.set_faults(rules)
    _write(_frame(spark, 2_000, parts=2), own_hub, repo)
    injected = own_hub.counters()
    own_hub.clear_faults()  # the read-back below is not under test
    assert injected[rules[0]["route"]]["faults"] > 0, "no fault was injected: the test proves nothing"
    assert commits(own_api, repo) - before == 1  # exactly one commit, even after an ambiguous failure
    got = spark.read.format("huggingface").option("endpoint", own_hub.endpoint).load(repo)
    assert got.count() == 2_000 and got.select("id").distinct().count() == 2_000


# parquet-testing files Spark 4.3 itself cannot read (so there is nothing to write), and how it fails.
SPARK_CANNOT_READ = {
    "byte_array_decimal.parquet": Py4JJavaError,  # FAILED_READ_FILE
    "large_string_map.brotli.parquet": Py4JJavaError,
    "nation.dict-malformed.parquet": Py4JJavaError,
    "non_hadoop_lz4_compressed.parquet": Py4JJavaError,
    "unknown-logical-type.parquet": Py4JJavaError,  # FAILED_READ_FILE.CANNOT_READ_FILE_FOOTER
    "byte_stream_split_extended.gzip.parquet": AnalysisException,  # PARQUET_TYPE_ILLEGAL: FLOAT16
    "float16_nonzeros_and_nans.parquet": AnalysisException,
    "float16_zeros_and_nans.parquet": AnalysisException,
    "floating_orders_nan_count.parquet": AnalysisException,
    "map_no_value.parquet": AnalysisException,  # Invalid map type
    "int96_from_spark.parquet": ValueError,  # collect(): year 290000 is out of range for Python's datetime
    "nested_structs.rust.parquet": ValueError,  # collect(): year 52951 is out of range
}


def test_round_trip_of_corpus_files_through_a_spark_write(spark, hub, corpus) -> None:
    """Every parquet-testing file Spark reads, written with hfconnect and read back, gives the same rows."""
    paths = sorted((corpus / "data").glob("*.parquet"))
    assert set(SPARK_CANNOT_READ) < {p.name for p in paths}
    checked = 0
    for path in paths:
        if path.name in SPARK_CANNOT_READ:
            with pytest.raises(SPARK_CANNOT_READ[path.name]):
                spark.read.parquet(str(path)).collect()
            continue
        pdf = spark.read.parquet(str(path))
        expected = sorted(map(repr, pdf.collect()))
        repo = _repo()
        _write(pdf, hub, repo)
        back = spark.read.format("huggingface").option("endpoint", hub.endpoint).load(repo)
        assert sorted(map(repr, back.collect())) == expected, path.name
        checked += 1
    assert checked == len(paths) - len(SPARK_CANNOT_READ) == 53


def test_pyarrow_reads_what_spark_wrote(spark, hub, api) -> None:
    repo = _repo()
    _write(_frame(spark, 1_000, parts=1), hub, repo)
    sha = _head(api, repo)
    raw = requests.get(f"{hub.endpoint}/datasets/{repo}/resolve/{sha}/data/train-00000-of-00001.parquet").content
    table = pq.read_table(io.BytesIO(raw))
    assert table.column("id").to_pylist() == list(range(1_000))
    assert table.schema.field("text").type == pa.string()


def test_daft_writes_then_spark_reads(spark, hub) -> None:
    import daft

    from hfconnect.daft import write_huggingface

    repo = _repo()
    df = daft.from_pydict({"id": list(range(5_000)), "name": [f"n{i}" for i in range(5_000)]})
    result = write_huggingface(df, repo, endpoint=hub.endpoint, token=WRITE_TOKEN, split="validation")
    assert result.commit_sha and result.rows == 5_000
    back = spark.read.format("huggingface").option("endpoint", hub.endpoint).option("split", "validation").load(repo)
    assert sorted(r.id for r in back.select("id").collect()) == list(range(5_000))


def test_private_repo_created_and_create_pr_leaves_main_alone(spark, hub, api) -> None:
    repo = _repo()
    _write(_frame(spark, 100), hub, repo, private="true")
    assert api.dataset_info(repo).private is True
    anonymous = HfApi(endpoint=hub.endpoint, token=False)
    with pytest.raises(RepositoryNotFoundError, match=rf"Repository Not Found for url: {hub.endpoint}/api/datasets/"
                                                       rf"{repo}"):  # invisible without a token, as on the Hub
        anonymous.dataset_info(repo)
    sha = _head(api, repo)
    _write(_frame(spark, 50, 1_000, parts=1), hub, repo, create_pr="true", commit_message="proposal")
    assert _head(api, repo) == sha
    refs = api.list_repo_refs(repo, repo_type="dataset", include_pull_requests=True)
    assert [p.ref for p in refs.pull_requests] == ["refs/pr/1"]
    pr = (spark.read.format("huggingface").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
          .option("revision", "refs/pr/1").load(repo))
    assert pr.count() == 150
