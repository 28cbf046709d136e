"""scripts/cluster itself on the started cluster: status, a second `up`, env, the demo datasets `up` publishes and
`seed` publishes again, and no token in its state or logs. (`down` is checked by the session fixture: it must leave
no process of the run behind.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.cluster.conftest import Cluster, files_of, scripts_cluster

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



def test_up_published_the_datasets_the_readme_commands_read(cluster: Cluster) -> None:
    """What a fresh `scripts/cluster up` leaves on its hub: demo/reviews (Parquet: int ids, the six columns, the
    splits the jobs' tests count, validation and test repeating earlier rows) and demo/raw (JSON Lines)."""
    assert re.search(r"^  demo/reviews@[0-9a-f]{12}: 4 files, 6\.6 MB \(train 240,000, validation 20,000, "
                     r"test 20,000 rows\)$", cluster.up_output, flags=re.MULTILINE), cluster.up_output
    assert re.search(r"^  demo/raw@[0-9a-f]{12}: 2 files, ", cluster.up_output, flags=re.MULTILINE)
    assert "(again: scripts/cluster seed)" in cluster.up_output
    api = cluster.api()
    parquet = [f for f in files_of(cluster, "demo/reviews") if f.endswith(".parquet")]
    assert parquet == ["data/test-00000-of-00001.parquet", "data/train-00000-of-00002.parquet",
                       "data/train-00001-of-00002.parquet", "data/validation-00000-of-00001.parquet"]
    ids: dict[str, list[int]] = {}
    for path in parquet:
        table = pq.read_table(api.hf_hub_download("demo/reviews", path, repo_type="dataset"))
        assert table.schema.names == ["id", "text", "hex", "label", "score", "flag"]
        assert str(table.schema.field("id").type) == "int64"  # so that `--where "id < 20000"` compares numbers
        ids.setdefault(path.split("/")[1].split("-")[0], []).extend(table["id"].to_pylist())
    assert {split: (min(v), len(v)) for split, v in ids.items()} == {
        "train": (0, 240_000), "validation": (230_000, 20_000), "test": (245_000, 20_000)}
    raw = files_of(cluster, "demo/raw")
    assert [f for f in raw if f.endswith(".jsonl")] == ["data/test.jsonl", "data/train.jsonl"]
    first = api.hf_hub_download("demo/raw", "data/train.jsonl", repo_type="dataset")
    lines = Path(first).read_text().splitlines()
    assert len(lines) == 2_000 and set(json.loads(lines[0])) == {"id", "text", "score"}


def test_seed_publishes_the_datasets_again_exactly(cluster: Cluster) -> None:
    """A dataset changed by hand is back to the demo's files after `scripts/cluster seed`, in one new commit."""
    api = cluster.api()
    api.upload_file(path_or_fileobj=b'{"id": -1}\n', path_in_repo="data/extra.jsonl", repo_id="demo/raw",
                    repo_type="dataset")
    before = api.dataset_info("demo/raw").sha
    out = scripts_cluster(cluster.run_dir, "seed")
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"^  demo/raw@[0-9a-f]{12}: 2 files", out.stdout, flags=re.MULTILINE), out.stdout
    assert [f for f in files_of(cluster, "demo/raw") if f.startswith("data/")] == ["data/test.jsonl",
                                                                                  "data/train.jsonl"]
    assert api.list_repo_commits("demo/raw", repo_type="dataset")[1].commit_id == before


def test_seed_without_a_cluster_says_to_start_one(tmp_path: Path) -> None:
    out = scripts_cluster(tmp_path, "seed")
    assert out.returncode == 1 and "run `scripts/cluster up` first" in out.stderr
