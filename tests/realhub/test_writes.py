"""Writes against the real-Hub mode: one commit per job inside the commit quota, uploads are not resolver
requests, the token never at the CDN, and a commit refused for its rate fails clearly with nothing committed."""

from __future__ import annotations

import uuid

import daft
import pyarrow.parquet as pq
import pytest
from huggingface_hub import HfApi

from hfconnect.daft import write_huggingface
from hfconnect.errors import HubRequestError
from tests.conftest import WRITE_TOKEN
from tests.realhub.conftest import counts, sorted_rows, start_hub
from tests.realhub.test_reads import core_read

pytestmark = pytest.mark.integration


def _spark_frame(spark, n: int):
    return spark.range(0, n, numPartitions=2).selectExpr(
        "id", "concat('text ', cast(id as string)) as text", "cast(id % 5 as int) as label", "id / 7.0 as score",
        "id % 2 = 0 as flag")


def _daft_frame(n: int) -> daft.DataFrame:
    ids = list(range(n))
    return daft.from_pydict({"id": ids, "text": [f"text {i}" for i in ids], "label": [i % 5 for i in ids],
                             "score": [i / 7.0 for i in ids], "flag": [i % 2 == 0 for i in ids]})


def _check_job(hub, repo: str, rows: int) -> None:
    c = counts(hub)
    assert c["commits"] == 1  # one commit per job, whatever the number of tasks and files
    assert c["resolvers"] <= 2  # the card, and one footer to check an append's schema: uploads are not resolvers
    # API calls: a few per job, plus the Xet write token hf_xet asks for per uploaded file (an API call on the Hub)
    files = [f for f in HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN).list_repo_files(repo, repo_type="dataset")
             if f.endswith(".parquet")]
    assert 0 < c["xet_tokens"] <= len(files)
    assert c["api"] - c["xet_tokens"] <= 12 and c["limited"] == 0 and c["cdn_with_token"] == 0
    table, _ = core_read(hub, repo, token=WRITE_TOKEN)
    assert table.num_rows == rows and sorted_rows(table).column("id").to_pylist() == list(range(rows))


def test_spark_write(spark, real_hub) -> None:
    repo = f"real/spark-out-{uuid.uuid4().hex[:6]}"
    real_hub.reset_counters()
    (_spark_frame(spark, 5_000).write.format("huggingface").mode("append").option("endpoint", real_hub.endpoint)
     .option("token", WRITE_TOKEN).save(repo))
    _check_job(real_hub, repo, 5_000)


def test_spark_function_write_and_a_narrower_append(spark, real_hub) -> None:
    """hfconnect.spark.write: one commit per job; the append of int rows reads the split's footer through a
    signed URL and writes bigint files."""
    import hfconnect.spark as hs

    repo = f"real/spark-fn-out-{uuid.uuid4().hex[:6]}"
    real_hub.reset_counters()
    assert hs.write(_spark_frame(spark, 5_000), repo, endpoint=real_hub.endpoint, token=WRITE_TOKEN).rows == 5_000
    _check_job(real_hub, repo, 5_000)
    real_hub.reset_counters()
    # ids 5000+ of a 2-partition range: one task has no rows and writes no file
    narrow = _spark_frame(spark, 10_000).where("id >= 5000").selectExpr("cast(id as int) as id", "text", "label",
                                                                         "score", "flag")
    assert hs.write(narrow, repo, endpoint=real_hub.endpoint, token=WRITE_TOKEN).rows == 5_000
    _check_job(real_hub, repo, 10_000)
    api = HfApi(endpoint=real_hub.endpoint, token=WRITE_TOKEN)
    files = [f for f in api.list_repo_files(repo, repo_type="dataset") if f.endswith(".parquet")]
    assert len(files) == 3 and {str(pq.read_schema(api.hf_hub_download(repo, f, repo_type="dataset")).field("id")
                                    .type) for f in files} == {"int64"}


def test_daft_write(real_hub) -> None:
    repo = f"real/daft-out-{uuid.uuid4().hex[:6]}"
    real_hub.reset_counters()
    result = write_huggingface(_daft_frame(5_000), repo, endpoint=real_hub.endpoint, token=WRITE_TOKEN)
    assert result.rows == 5_000
    _check_job(real_hub, repo, 5_000)


def test_a_commit_refused_for_its_rate_fails_clearly_and_commits_nothing(tmp_path) -> None:
    from huggingface_hub import HfApi

    hub = start_hub(tmp_path / "hub", commit_quota=1)
    try:
        repo = f"real/rate-{uuid.uuid4().hex[:6]}"
        write_huggingface(_daft_frame(100), repo, endpoint=hub.endpoint, token=WRITE_TOKEN)
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        head = api.dataset_info(repo).sha
        with pytest.raises(HubRequestError, match=r"commit to .*'commits' rate limit"):
            write_huggingface(_daft_frame(100), repo, endpoint=hub.endpoint, token=WRITE_TOKEN, mode="append")
        assert api.dataset_info(repo).sha == head
    finally:
        hub.close()


def test_a_cluster_job_in_the_real_hub_mode(real_hub, dataset) -> None:
    """jobs/optimize.py as spark-submit runs it (its own process, Spark local): the source read through signed
    URLs, the target written in ONE commit, the token never at the CDN."""
    from tests.jobs.test_job_programs import _job

    target = f"real/opt-{uuid.uuid4().hex[:8]}"
    real_hub.reset_counters()
    out = _job("optimize", dataset.repo_id, "--to", target, "--endpoint", real_hub.endpoint)
    assert out.returncode == 0, out.stderr[-5000:]
    assert "commits=1 " in next(line for line in out.stdout.splitlines() if line.startswith("optimize: done: "))
    c = counts(real_hub)
    assert c["commits"] == 1 and c["cdn"] > 0 and c["cdn_with_token"] == 0 and c["limited"] == 0
    table, _ = core_read(real_hub, target, token=WRITE_TOKEN)
    assert sorted_rows(table).equals(sorted_rows(dataset.table))


RAY_READ_AND_WRITE = """
import json

from hfconnect.daft import read_huggingface, write_huggingface

endpoint, repo, target, token = sys.argv[1:5]
counts = {}
for reader in ("native", "hfconnect"):
    shards = {"shard_size": "150KB"} if reader == "hfconnect" else {}
    df = read_huggingface(repo, split="train", endpoint=endpoint, token=token, reader=reader, **shards)
    counts[reader] = df.count_rows()
df = read_huggingface(repo, split="train", endpoint=endpoint, token=token).repartition(3)
result = write_huggingface(df, target, endpoint=endpoint, token=token)
print(json.dumps({"counts": counts, "rows": result.rows, "files": len(result.files)}))
"""


@pytest.mark.slow
def test_daft_on_ray_reads_and_writes_in_the_real_hub_mode(real_hub, dataset) -> None:
    """Ray workers (their own processes, no HF_ENDPOINT/HF_TOKEN) read through signed URLs with both readers and
    write with ONE commit; the token never reaches the CDN."""
    import json

    from tests.data import run_on_ray

    target = f"real/ray-{uuid.uuid4().hex[:8]}"
    real_hub.reset_counters()
    proc = run_on_ray(RAY_READ_AND_WRITE, real_hub.endpoint, dataset.repo_id, target, WRITE_TOKEN)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = dataset.table.num_rows
    assert out["counts"] == {"native": rows, "hfconnect": rows} and out["rows"] == rows and out["files"] >= 3
    c = counts(real_hub)
    assert c["commits"] == 1 and c["cdn"] > 0 and c["cdn_with_token"] == 0 and c["limited"] == 0
    table, _ = core_read(real_hub, target, token=WRITE_TOKEN)
    assert sorted_rows(table).equals(sorted_rows(dataset.table))


def test_a_failed_write_leaves_no_repo_it_created(tmp_path) -> None:
    """A task that fails, and a commit the hub refuses: either way the repo the job created is gone."""
    @daft.func
    def boom(x: int) -> int:
        if x == 77:
            raise ValueError("injected failure")
        return x

    hub = start_hub(tmp_path / "hub")
    try:
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        failing = f"real/fails-{uuid.uuid4().hex[:6]}"
        with pytest.raises(Exception, match="injected failure"):
            write_huggingface(_daft_frame(100).with_column("id", boom(daft.col("id"))), failing,
                              endpoint=hub.endpoint, token=WRITE_TOKEN)
        assert not api.repo_exists(failing, repo_type="dataset")
        refused = f"real/refused-{uuid.uuid4().hex[:6]}"
        hub.set_faults([{"route": "commit", "action": "status", "status": 400}])
        with pytest.raises(HubRequestError, match=r"HTTP 400"):
            write_huggingface(_daft_frame(100), refused, endpoint=hub.endpoint, token=WRITE_TOKEN)
        assert not api.repo_exists(refused, repo_type="dataset")
    finally:
        hub.close()


def test_hfconnect_copy_in_the_real_hub_mode(real_hub, dataset) -> None:
    """`hfconnect copy`: the source read through signed URLs (no token at the CDN), ONE commit for the copy."""
    from tests.cli.command import hfconnect

    target = f"real/copy-{uuid.uuid4().hex[:6]}"
    real_hub.reset_counters()
    run = hfconnect(real_hub.endpoint, "copy", dataset.repo_id, target)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    c = counts(real_hub)
    assert c["commits"] == 1 and c["cdn"] > 0 and c["cdn_with_token"] == 0 and c["limited"] == 0
    table, _ = core_read(real_hub, target, token=WRITE_TOKEN)
    assert sorted_rows(table).equals(sorted_rows(dataset.table))
