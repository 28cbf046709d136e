"""A failed job's one line names the cause, on the live engines: Daft's reason rather than "Unable to create
logical plan node", the task's error rather than a Ray actor's repr, and for a string column compared with a
number in --where, how to write the filter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from hfconnect.jobs import one_line
from tests.conftest import WRITE_TOKEN
from tests.data import parquet_bytes, run_on_ray

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _select(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_TOKEN": WRITE_TOKEN}
    return subprocess.run([sys.executable, str(ROOT / "jobs" / "subset.py"), *args], capture_output=True, text=True,
                          timeout=300, env=env)


def _string_ids(api, repo_id: str) -> None:
    table = pa.table({"id": [str(i) for i in range(50)], "text": [f"t{i}" for i in range(50)]})
    api.upload_file(path_or_fileobj=parquet_bytes(table), path_in_repo="data/train-0.parquet", repo_id=repo_id,
                    repo_type="dataset")


def _with_a_corrupt_file(api, repo_id: str) -> None:
    from huggingface_hub import CommitOperationAdd

    good = parquet_bytes(pa.table({"id": list(range(50)), "text": [f"t{i}" for i in range(50)]}))
    bad = good[:4] + b"\0" * 200 + good[204:]  # the first page header overwritten: Parquet cannot decode it
    api.create_commit(repo_id, repo_type="dataset", commit_message="data", operations=[
        CommitOperationAdd("data/train-0.parquet", good), CommitOperationAdd("data/train-1.parquet", bad)])


def test_one_line_gives_dafts_reason() -> None:
    """What Daft raises itself, as one_line prints it (tests/unit/jobs/test_one_line.py has the texts)."""
    import daft

    df = daft.from_pydict({"id": ["1", "x"], "text": ["a", "b"]})
    expected = {"id < 20000": "DaftCoreException: DaftError::TypeError Cannot perform comparison on types: String, "
                              "Int64",
                "nope < 3": "DaftCoreException: DaftError::FieldNotFound Column col(nope) not found.",
                "id <<< 3": "InvalidSQLException: SQL error at Line: 1, Column: 6: Expected: an expression, found: <"}
    for where, line in expected.items():
        with pytest.raises(Exception) as caught:
            df.where(daft.sql_expr(where))
        assert one_line(caught.value) == line, caught.value

    @daft.func
    def rating(text: str) -> int:
        raise ValueError(f"no rating in {text!r}")

    with pytest.raises(Exception) as caught:
        df.select(rating(df["text"])).collect()
    assert one_line(caught.value) in ("ValueError: no rating in 'a'", "ValueError: no rating in 'b'"), caught.value


def test_select_on_daft_explains_a_string_column_compared_with_a_number(hub, api, repo_id) -> None:
    _string_ids(api, repo_id)
    out = _select(repo_id, f"{repo_id}-out", "--columns", "id,text", "--where", "id < 20000", "--engine", "daft",
                  "--endpoint", hub.endpoint)
    assert out.returncode == 1, out.stderr[-3000:]
    assert out.stderr.splitlines()[-1] == (
        "subset: error: JobFailed: --where 'id < 20000': DaftCoreException: DaftError::TypeError Cannot perform "
        "comparison on types: String, Int64; id is a string column: quote the value to compare text (id < '20000') "
        "or cast the column to compare numbers (CAST(id AS BIGINT) < 20000)"), out.stderr[-3000:]
    assert not api.repo_exists(f"{repo_id}-out", repo_type="dataset")
    out = _select(repo_id, f"{repo_id}-out", "--columns", "id,text", "--where", "CAST(id AS BIGINT) < 10", "--engine",
                  "daft", "--endpoint", hub.endpoint)  # the hint's filter works
    assert out.returncode == 0, out.stderr[-3000:]
    assert "rows=10 " in out.stdout


RAY_SELECT = """
import importlib.util, os
os.environ["HF_TOKEN"] = sys.argv[1]  # the driver's; the tasks get theirs inside the plan
spec = importlib.util.spec_from_file_location("select_job", sys.argv[2])
job = importlib.util.module_from_spec(spec)
spec.loader.exec_module(job)
code = job.build().run(job.run, sys.argv[3:])
print("exit", code)
"""


def test_select_on_ray_names_the_tasks_error_not_the_actor(hub, api, repo_id) -> None:
    """The select job's own run() in a process on Daft's Ray runner (a local Ray started by the preamble, as
    `--ray-address` would connect to one): the corrupt file fails a Ray task."""
    _with_a_corrupt_file(api, repo_id)
    out = run_on_ray(RAY_SELECT, WRITE_TOKEN, str(ROOT / "jobs" / "subset.py"), repo_id, f"{repo_id}-out",
                     "--columns", "id,text", "--where", "id < 20", "--engine", "daft", "--endpoint", hub.endpoint)
    assert "exit 1" in out.stdout, out.stdout[-3000:] + out.stderr[-5000:]
    [line] = [ln for ln in out.stderr.splitlines() if ln.startswith("subset: error: ")]
    # Daft names the URL it read: the corrupt Xet file's signed cas-bridge URL
    assert line.startswith("subset: error: DaftCoreException: DaftError::CorruptFile Failed to decode parquet column "
                           f"for {hub.cas_endpoint}/bridge/"), out.stderr[-5000:]
    assert "actor_id" not in line and "RemoteFlotillaRunner" not in line
    assert not api.repo_exists(f"{repo_id}-out", repo_type="dataset")


@pytest.mark.parametrize("engine", ["daft", "spark"])
def test_a_where_that_matches_no_row_says_so_and_leaves_no_repo(hub, api, repo_id, engine) -> None:
    _string_ids(api, repo_id)
    target = f"{repo_id}-none-{engine}"
    run = _select(repo_id, target, "--columns", "id,text", "--where", "text = 'no such text'", "--engine", engine,
                  "--endpoint", hub.endpoint)
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-3000:]
    assert run.stderr.strip().splitlines()[-1] == (
        f"subset: error: JobFailed: nothing was committed to {target}@main: the job had no rows to write "
        "(does --where match any row?)")
    assert f"removed what the job had created (repo {target})" in run.stdout
    assert not api.repo_exists(target, repo_type="dataset")
