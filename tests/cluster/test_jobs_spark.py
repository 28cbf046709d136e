"""Every job, submitted with `spark-submit --master spark://127.0.0.1:PORT` to the started standalone cluster,
with the command lines of docs/cluster.md; hfconnect reaches the driver and the executors only through
`--py-files dist/hfconnect.zip` (their Python does not have it). A job that fails leaves its target as it was."""

from __future__ import annotations

import re

import pytest

from tests.cluster.conftest import Cluster, files_of, parquet_schema, readme_commands
from tests.data import commits

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SOURCE_ROWS = {"train": 240_000, "validation": 20_000, "test": 20_000}


def _command(job: str) -> str:
    [command] = [c for c in readme_commands("Spark standalone") if f"jobs/{job}.py" in c]
    assert command.startswith('spark-submit --master "$SPARK_MASTER" --py-files dist/hfconnect.zip jobs/')
    return command


def _report(run) -> None:  # noqa: ANN001 - conftest.Run
    """The job's own lines, for the closing figures (pytest -s shows them)."""
    print(f"\n$ {run.command}  [{run.seconds:.1f} s]")
    for line in run.stdout.splitlines():
        if re.match(r"^(optimize|select|convert|dedup): ", line):
            print(f"  {line}")


def test_the_cluster_python_cannot_import_hfconnect(cluster: Cluster) -> None:
    """What makes every job below a test of shipping: the executors' and driver's Python lacks hfconnect."""
    run = cluster.run('"$PYSPARK_PYTHON" -c "import pyspark, pyarrow, huggingface_hub; import hfconnect"')
    assert run.returncode == 1 and "No module named 'hfconnect'" in run.stderr


def test_optimize_opens_a_pull_request_with_every_split_in_one_commit(cluster: Cluster) -> None:
    api = cluster.api()
    main_before = api.dataset_info("demo/reviews").sha
    run = cluster.run(_command("optimize"))
    _report(run)
    assert run.returncode == 0, run.stderr[-5000:]
    done = run.done
    assert done["target"] == "demo/reviews@refs/pr/1" and done["commits"] == "1"
    assert done["splits"] == "train:240000,validation:20000,test:20000" and done["rows"] == "280000"
    assert api.dataset_info("demo/reviews").sha == main_before  # main untouched: the PR holds the commit
    pr_files = [f for f in files_of(cluster, "demo/reviews", "refs/pr/1") if f.endswith(".parquet")]
    assert pr_files and all(re.fullmatch(r"data/(train|validation|test)-\d{5}-of-\d{5}\.parquet", f) for f in pr_files)
    assert {f.split("/")[1].split("-")[0] for f in pr_files} == set(SOURCE_ROWS)
    schema = parquet_schema(cluster, "demo/reviews", pr_files[0], "refs/pr/1")
    assert schema.names == ["id", "text", "hex", "label", "score", "flag"]  # no split column in the files
    assert b"hfconnect.writer" in (schema.metadata or {})


def test_select_pushes_columns_and_filter_down(cluster: Cluster) -> None:
    run = cluster.run(_command("subset"))
    _report(run)
    assert run.returncode == 0, run.stderr[-5000:]
    done = run.done
    assert done["splits"] == "train:20000" and done["commits"] == "1"  # ids < 20000 are all in train
    assert (done["columns_read"], done["columns_total"]) == ("2", "6")
    fetched, total = int(done["fetched_bytes"]), int(done["dataset_bytes"])
    assert fetched < 0.35 * total, (fetched, total)  # 2 of 6 columns, 2 of 24 train row groups, no other split
    paths = [f for f in files_of(cluster, "demo/reviews-early") if f.endswith(".parquet")]
    assert paths and all(p.startswith("data/train-") for p in paths)
    assert {tuple(parquet_schema(cluster, "demo/reviews-early", p).names) for p in paths} == {("id", "text")}


def test_convert_turns_json_lines_into_parquet_with_a_card(cluster: Cluster) -> None:
    run = cluster.run(_command("convert"))
    _report(run)
    assert run.returncode == 0, run.stderr[-5000:]
    assert run.done["splits"] == "train:2000,test:500"
    files = files_of(cluster, "demo/raw-parquet")
    assert "README.md" in files and sorted(f for f in files if f.endswith(".parquet")) == [
        "data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet"]
    card = cluster.api().hf_hub_download("demo/raw-parquet", "README.md", repo_type="dataset")
    text = open(card).read()  # noqa: SIM115 - a small file
    assert "num_examples: 2000" in text and "num_examples: 500" in text and "path: data/train-*" in text


def test_dedup_drops_rows_repeated_in_later_splits(cluster: Cluster) -> None:
    run = cluster.run(_command("dedup"))
    _report(run)
    assert run.returncode == 0, run.stderr[-5000:]
    done = run.done
    # validation repeats train ids 230000-239999, test repeats validation ids 245000-249999
    assert done["splits"] == "train:240000,validation:10000,test:15000" and done["duplicates"] == "15000"
    assert run.lines("dedup:   test: 20,000 rows -> 15,000 (5,000 duplicates dropped)")
    parquet = [f for f in files_of(cluster, "demo/reviews-dedup") if f.endswith(".parquet")]
    assert sorted(parquet) == [f"data/{s}-00000-of-00001.parquet" for s in ("test", "train", "validation")]


def test_a_failing_job_leaves_its_target_as_it_was_and_says_so_in_one_line(cluster: Cluster) -> None:
    """Every task writes and uploads, then the hub refuses the commit: the job fails, the branch it created is
    removed, nothing is committed. With --debug it also says where the driver and the executors imported
    hfconnect from: the shipped zip."""
    api = cluster.api()
    refs_before = api.list_repo_refs("demo/reviews", repo_type="dataset", include_pull_requests=True)
    commits_before = commits(api, "demo/reviews")
    # the commit of this repo only: the rule concerns this test's target, not what other tests write
    cluster.admin("PUT", "faults", {"rules": [{"route": "commit", "action": "status", "status": 500,
                                               "match": "demo/reviews"}]})
    try:
        command = _command("optimize").replace(" --pr", " --branch optimized --retry-budget 1 --debug")
        run = cluster.run(command)
    finally:
        cluster.admin("PUT", "faults", {"rules": []})
    _report(run)
    assert run.returncode == 1
    # spark-submit hands the driver's stderr to its own stdout: the one error line is on one of them
    errors = [ln for ln in (run.stdout + run.stderr).splitlines() if ln.startswith("optimize: error: ")]
    assert len(errors) == 1 and "HubRequestError: commit to demo/reviews@optimized" in errors[0], run.stdout[-3000:]
    assert run.lines("optimize: failed: nothing was committed; removed what the job had created (branch optimized)")
    [where] = run.lines("optimize: hfconnect on the driver: ")
    driver, workers = where.split("; on the workers: ")
    assert driver.endswith("/dist/hfconnect.zip/hfconnect/__init__.py"), driver
    assert all(w.endswith("hfconnect.zip/hfconnect/__init__.py") for w in workers.split(", ")), workers
    assert api.list_repo_refs("demo/reviews", repo_type="dataset", include_pull_requests=True) == refs_before
    assert commits(api, "demo/reviews") == commits_before
