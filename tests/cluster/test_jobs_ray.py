"""optimize and select on Daft with the started Ray cluster (`--ray-address`, not ray.init() in this process),
with the command lines of docs/cluster.md: the Ray nodes' Python lacks hfconnect, the job ships it (runtime_env)."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import Cluster, files_of, parquet_schema, readme_commands
from tests.cluster.test_jobs_spark import _report

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _command(job: str) -> str:
    [command] = [c for c in readme_commands("Ray") if f"jobs/{job}.py" in c]
    assert command.startswith(f"python jobs/{job}.py ") and command.endswith('--ray-address "$RAY_ADDRESS"')
    return command


def test_optimize_on_ray_writes_every_split_to_another_repo_in_one_commit(cluster: Cluster) -> None:
    run = cluster.run(_command("optimize"))
    _report(run)
    assert run.returncode == 0, run.stderr[-5000:]
    done = run.done
    assert done["target"] == "demo/reviews-optimized@main" and done["commits"] == "1"
    assert done["splits"] == "train:240000,validation:20000,test:20000"
    [engine] = run.lines("optimize: engine daft on ray 127.0.0.1:")
    assert "(2 nodes, 2 CPUs)" in engine
    parquet = [f for f in files_of(cluster, "demo/reviews-optimized") if f.endswith(".parquet")]
    assert {f.split("/")[1].split("-")[0] for f in parquet} == {"train", "validation", "test"}


def test_select_on_ray_pushes_columns_and_filter_down(cluster: Cluster) -> None:
    run = cluster.run(_command("subset"))
    _report(run)
    assert run.returncode == 0, run.stderr[-5000:]
    done = run.done
    assert done["splits"] == "train:20000" and done["commits"] == "1"
    fetched, total = int(done["fetched_bytes"]), int(done["dataset_bytes"])
    assert fetched < 0.35 * total, (fetched, total)
    paths = [f for f in files_of(cluster, "demo/reviews-early-daft") if f.endswith(".parquet")]
    assert paths and all(p.startswith("data/train-") for p in paths)
    assert {tuple(parquet_schema(cluster, "demo/reviews-early-daft", p).names) for p in paths} == {("id", "text")}


def test_a_failing_ray_job_leaves_its_target_as_it_was(cluster: Cluster) -> None:
    """Uploads fail on the hub: the job fails and removes the repo it created. With --debug it also says where
    the Ray workers import hfconnect from: what runtime_env shipped, not an installed copy."""
    api = cluster.api()
    assert not api.repo_exists("demo/never", repo_type="dataset")
    cluster.admin("PUT", "faults", {"rules": [{"route": "upload", "action": "status", "status": 500,
                                               "match": "demo/never"}]})  # this test's target only
    try:
        run = cluster.run(_command("subset").replace("demo/reviews-early-daft", "demo/never")
                          + " --retry-budget 1 --debug")
    finally:
        cluster.admin("PUT", "faults", {"rules": []})
    _report(run)
    assert run.returncode == 1
    assert [ln for ln in run.stderr.splitlines() if ln.startswith("subset: error: HubRequestError: upload of a ")]
    assert run.lines("subset: failed: nothing was committed; removed what the job had created (repo demo/never)")
    assert not api.repo_exists("demo/never", repo_type="dataset")
    [where] = run.lines("subset: hfconnect on the driver: ")
    workers = where.split("; on the workers: ")[1].split(", ")
    assert all("/runtime_resources/py_modules_files/" in w for w in workers), workers
