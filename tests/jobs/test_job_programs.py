"""The jobs as programs, without the cluster: --help, bad arguments, one-line errors with exit code 1, and the
file source of convert.py (local JSON Lines through Spark local[*]) that the cluster tests do not cover."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WRITE_TOKEN

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
JOBS = ("optimize", "subset", "convert", "dedup")


def _job(name: str, *args: str, token: str | None = WRITE_TOKEN, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    if token:
        env["HF_TOKEN"] = token
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    return subprocess.run([sys.executable, str(ROOT / "jobs" / f"{name}.py"), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.parametrize("name", JOBS)
def test_help_describes_the_job_and_its_options(name: str) -> None:
    out = _job(name, "--help")
    assert out.returncode == 0 and out.stdout.startswith(f"usage: jobs/{name}.py")
    assert "--endpoint" in out.stdout and "--debug" in out.stdout and "spark-submit" in out.stdout
    assert ("--ray-address" in out.stdout) == (name in ("optimize", "subset"))


def test_bad_arguments_exit_2() -> None:
    out = _job("subset", "a/b", "c/d")
    assert out.returncode == 2 and "the following arguments are required: --columns" in out.stderr


def test_errors_are_one_line_and_exit_1(hub) -> None:
    out = _job("optimize", "tests/some-ds", "--endpoint", hub.endpoint)
    assert (out.returncode, out.stderr) == (1, "optimize: error: JobFailed: say where the optimized files go: --pr, "
                                               "--branch NAME or --to REPO\n")
    out = _job("optimize", "tests/does-not-exist", "--pr", "--endpoint", hub.endpoint)
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("optimize: error: RepoNotFoundError: dataset tests/does-not-exist@main")
    out = _job("convert", "data/*.parquet", "tests/x", "--endpoint", hub.endpoint)
    assert out.returncode == 1 and out.stderr == (
        "convert: error: JobFailed: cannot tell the format of 'data/*.parquet' from its name: pass --format jsonl "
        "or --format csv\n")


def test_a_write_without_a_token_fails_before_anything_runs(hub, api) -> None:
    api.create_repo("tests/jobs-no-token", repo_type="dataset", exist_ok=True)
    api.upload_file(path_or_fileobj=b'{"id": 1}\n', path_in_repo="data/train.jsonl", repo_id="tests/jobs-no-token",
                    repo_type="dataset")
    out = _job("convert", "tests/jobs-no-token", "tests/jobs-no-token-out", "--endpoint", hub.endpoint, token=None)
    assert out.returncode == 1 and out.stderr.endswith(
        "convert: error: JobFailed: writing needs a token with write access: set HF_TOKEN or log in with "
        "`hf auth login`\n"), out.stderr
    assert not api.repo_exists("tests/jobs-no-token-out", repo_type="dataset")


def test_convert_local_json_lines_into_a_split_with_a_card(hub, api, tmp_path: Path) -> None:
    for part in range(2):
        rows = [{"id": part * 100 + i, "text": f"line {i}", "score": i / 4} for i in range(100)]
        (tmp_path / f"part-{part}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = _job("convert", str(tmp_path / "*.jsonl"), "tests/jobs-from-files", "--split", "validation",
               "--endpoint", hub.endpoint)
    assert out.returncode == 0, out.stderr[-5000:]
    done = next(line for line in out.stdout.splitlines() if line.startswith("convert: done: "))
    assert "rows=200 splits=validation:200 commits=1 " in done and "target=tests/jobs-from-files@main" in done
    files = api.list_repo_files("tests/jobs-from-files", repo_type="dataset")
    parquet = [f for f in files if f.endswith(".parquet")]
    assert parquet and all(f.startswith("data/validation-") for f in parquet) and "README.md" in files
    import datasets

    loaded = datasets.load_dataset("tests/jobs-from-files", split="validation")
    assert sorted(loaded["id"]) == list(range(200)) and set(loaded.column_names) == {"id", "text", "score"}
