"""Daft writes beyond the native runner's plain repo write: a Storage Bucket prefix written from Daft's Ray runner
(its tasks upload to the bucket's Xet storage, the driver publishes the manifest) and read back there; and a job
too big for one commit (max_commit_operations) staged on a pull request and merged as ONE commit of the branch."""

from __future__ import annotations

import json
import uuid

import daft
import pyarrow as pa
import pytest

from hfconnect.daft import read_huggingface, write_huggingface
from tests.conftest import WRITE_TOKEN
from tests.data import commits, make_table, run_on_ray
from tests.write.test_bucket_writes import read_prefix

pytestmark = pytest.mark.integration

RAY_BUCKET = """
import json

import pyarrow as pa

from hfconnect.daft import read_huggingface, write_huggingface

endpoint, target, token = sys.argv[1:4]
n = 30_000
table = pa.table({"id": pa.array(range(n), pa.int64()), "text": [f"t{i}" * 3 for i in range(n)]})
result = write_huggingface(daft.from_arrow(table).repartition(3), target, endpoint=endpoint, token=token)
back = read_huggingface(target, endpoint=endpoint, token=token).to_arrow()
print(json.dumps({"files": list(result.files), "rows": result.rows, "manifest": result.manifest,
                  "read": sorted(back.column("id").to_pylist()) == list(range(n)), "read_rows": back.num_rows}))
"""


@pytest.mark.slow
def test_ray_runner_writes_a_bucket_prefix_and_reads_it_back(hub) -> None:  # noqa: ANN001
    bucket = f"tests/ray-bk-{uuid.uuid4().hex[:8]}"
    proc = run_on_ray(RAY_BUCKET, hub.endpoint, f"buckets/{bucket}/ray/out", WRITE_TOKEN)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["rows"] == 30_000 and out["manifest"] == "ray/out/_hfconnect_manifest.json"
    assert len(out["files"]) >= 3  # one file (at least) per Ray task
    assert out["read"] and out["read_rows"] == 30_000
    assert WRITE_TOKEN not in proc.stdout + proc.stderr
    table = read_prefix(hub.endpoint, bucket, "ray/out")
    assert sorted(table.column("id").to_pylist()) == list(range(30_000))


def test_a_large_daft_job_is_staged_on_a_pull_request_and_merged_as_one_commit(api, repo_id: str) -> None:
    """max_commit_operations=2 and small files: the job's files (and card) need several staging commits on a PR;
    the branch gets ONE commit, holding every file."""
    table = make_table(40_000, columns=("id", "hex", "label"))  # hex barely compresses: ~1 MB
    before = [c.commit_id for c in api.list_repo_commits(repo_id, repo_type="dataset")]
    result = write_huggingface(daft.from_arrow(table), repo_id, token=WRITE_TOKEN, max_file_size="100KB",
                               row_group_bytes="50KB", row_group_size=2_000, max_commit_operations=2)
    assert len(result.files) >= 3 and result.rows == 40_000
    history = [c.commit_id for c in api.list_repo_commits(repo_id, repo_type="dataset")]
    assert len(history) == len(before) + 1 and history[0] == result.commit_sha  # ONE commit on main
    prs = list(api.get_repo_discussions(repo_id, repo_type="dataset"))
    assert len(prs) == 1 and prs[0].is_pull_request and prs[0].status == "merged"
    assert commits(api, repo_id) > 2  # the PR's staging commits, then the merge
    files = [f for f in api.list_repo_files(repo_id, repo_type="dataset") if f.endswith(".parquet")]
    assert sorted(files) == sorted(result.files)
    got = read_huggingface(repo_id, token=WRITE_TOKEN, split="train").to_arrow()
    assert got.num_rows == 40_000 and sorted(got.column("id").to_pylist()) == list(range(40_000))
    assert got.column("hex").type in (pa.string(), pa.large_string())
