"""scripts/cluster itself on the started cluster: status, a second `up`, env, and no token in its state or logs.
(`down` is checked by the session fixture: it must leave no process of the run behind.)"""

from __future__ import annotations

import pytest

from tests.cluster.conftest import Cluster, scripts_cluster

pytestmark = pytest.mark.integration


def test_status_lists_every_component_and_the_endpoints(cluster: Cluster) -> None:
    out = scripts_cluster(cluster.run_dir, "status")
    assert out.returncode == 0, out.stdout + out.stderr
    for name in ("hub", "spark-master", "spark-worker-1", "spark-worker-2", "ray-head", "ray-worker"):
        assert any(line.split()[:2] == [name, "up"] for line in out.stdout.splitlines()), out.stdout
    assert f"spark master    {cluster.env['SPARK_MASTER']}" in out.stdout
    assert f"ray address     {cluster.env['RAY_ADDRESS']}" in out.stdout


def test_a_second_up_finds_the_cluster_running(cluster: Cluster) -> None:
    pids = {name: c["pid"] for name, c in cluster.state["components"].items()}
    out = scripts_cluster(cluster.run_dir, "up")
    assert out.returncode == 0 and out.stdout.startswith(f"cluster already up (run folder {cluster.run_dir})")
    assert cluster.state["components"].keys() == pids.keys()


def test_env_points_jobs_at_the_cluster(cluster: Cluster) -> None:
    env = cluster.env
    assert env["SPARK_MASTER"].startswith("spark://127.0.0.1:") and env["RAY_ADDRESS"].startswith("127.0.0.1:")
    assert env["PYSPARK_PYTHON"] == str(cluster.run_dir / "python" / "bin" / "python")
    assert env["HF_TOKEN"] == (cluster.run_dir / "hub" / "write-token").read_text().strip()
    assert cluster.api().whoami()["name"] == "cluster"


def test_the_hub_token_is_in_no_state_file_command_line_or_log(cluster: Cluster) -> None:
    token = cluster.env["HF_TOKEN"]
    assert (cluster.run_dir / "hub" / "write-token").stat().st_mode & 0o077 == 0
    assert token not in (cluster.run_dir / "state.json").read_text()
    for log in (cluster.run_dir / "logs").iterdir():
        assert token not in log.read_text(errors="replace"), log
    assert token not in scripts_cluster(cluster.run_dir, "env").stdout  # env prints `$(cat file)`, not the token

