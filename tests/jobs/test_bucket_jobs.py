"""jobs/subset.py with a Storage Bucket prefix as TARGET (one published manifest, read back through it) and as
source, on both engines; what a bucket target refuses; and the jobs that write repos only saying so."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow as pa
import pytest

from hfconnect.hub.bucket_manifest import MANIFEST_NAME, parse_manifest
from tests.conftest import WRITE_TOKEN
from tests.data import make_table, parquet_bytes
from tests.write.test_bucket_writes import _listing, read_prefix

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _job(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_TOKEN": WRITE_TOKEN}
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    return subprocess.run([sys.executable, str(ROOT / "jobs" / f"{name}.py"), *args], capture_output=True, text=True,
                          timeout=300, env=env)


def _done(out: subprocess.CompletedProcess[str], name: str = "subset") -> dict[str, str]:
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith(f"{name}: done: "))
    return dict(kv.split("=", 1) for kv in line[len(f"{name}: done: "):].split())


@pytest.fixture
def source(api, repo_id: str) -> tuple[str, pa.Table]:
    """A dataset with train (2 files) and test splits: id, text, label, score, flag."""
    from huggingface_hub import CommitOperationAdd

    train, test = make_table(3_000), make_table(500, 10_000)
    ops = [CommitOperationAdd(f"data/train-{i}.parquet", parquet_bytes(train.slice(i * 1_500, 1_500)))
           for i in range(2)] + [CommitOperationAdd("data/test-0.parquet", parquet_bytes(test))]
    api.create_commit(repo_id, repo_type="dataset", operations=ops, commit_message="data")
    return repo_id, pa.concat_tables([train, test])


@pytest.mark.parametrize("engine", ["daft", "spark"])
def test_select_into_a_bucket_prefix_and_back_out_of_it(hub, api, source, engine: str) -> None:
    repo, rows = source
    bucket = f"tests/jobs-bk-{uuid.uuid4().hex[:8]}"
    out = _job("subset", repo, f"buckets/{bucket}/out", "--columns", "id,text", "--where", "label = 2",
               "--split", "train", "--engine", engine, "--endpoint", hub.endpoint)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-5000:]
    want = sorted(i for i, label in zip(rows["id"].to_pylist(), rows["label"].to_pylist(), strict=True)
                  if label == 2 and i < 3_000)
    table = read_prefix(hub.endpoint, bucket, "out")
    assert sorted(table.column("id").to_pylist()) == want and table.column_names == ["id", "text"]
    done = _done(out)
    assert done["target"] == f"buckets/{bucket}/out" and done["rows"] == str(len(want)) and done["commits"] == "1"
    manifest = parse_manifest(_fs_cat(hub.endpoint, f"buckets/{bucket}/out/{MANIFEST_NAME}"), prefix="out")
    assert done["commit"] == manifest.job_id and manifest.mode == "overwrite"
    assert f"subset: published {len(want):,} rows to buckets/{bucket}/out" in out.stdout

    # the bucket prefix as the source, --split all into it again: each row keeps its split in a column
    out = _job("subset", f"buckets/{bucket}/out", f"buckets/{bucket}/copy", "--columns", "id", "--engine", engine,
               "--endpoint", hub.endpoint)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-5000:]
    assert "(Storage Bucket, as listed now)" in out.stdout
    copy = read_prefix(hub.endpoint, bucket, "copy")
    assert sorted(copy.column("id").to_pylist()) == want and set(copy.column("split").to_pylist()) == {"train"}

    # and a bucket prefix into a dataset repo
    target = f"{repo}-from-bucket-{engine}"
    out = _job("subset", f"buckets/{bucket}/out", target, "--columns", "id,text", "--split", "train",
               "--engine", engine, "--endpoint", hub.endpoint)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-5000:]
    assert _done(out)["splits"] == f"train:{len(want)}" and _done(out)["target"] == f"{target}@main"


def _fs_cat(endpoint: str, path: str) -> bytes:
    from huggingface_hub import HfFileSystem

    return HfFileSystem(endpoint=endpoint, token=WRITE_TOKEN, skip_instance_cache=True).cat_file(path)


def test_a_bucket_target_refuses_repo_only_arguments_and_a_failed_job_leaves_no_bucket(hub, own_hub,
                                                                                       source) -> None:
    repo, _ = source
    bucket = f"tests/jobs-bk-{uuid.uuid4().hex[:8]}"
    out = _job("subset", repo, f"buckets/{bucket}/out", "--columns", "id", "--branch", "b", "--endpoint",
               hub.endpoint)
    assert out.returncode == 1 and out.stderr.strip().splitlines()[-1] == (
        f"subset: error: JobFailed: buckets/{bucket}/out: a Storage Bucket has no branches or pull requests: drop "
        "--branch/--pr")
    out = _job("dedup", repo, f"buckets/{bucket}/out", "--columns", "id", "--endpoint", hub.endpoint)
    assert out.returncode == 1 and "jobs/subset.py writes a Storage Bucket prefix" in out.stderr, out.stderr
    assert _listing(hub.endpoint, bucket) == {}

    # The hub refuses every bucket batch: nothing is published and the bucket the write created is gone.
    from huggingface_hub import HfApi

    own = HfApi(endpoint=own_hub.endpoint, token=WRITE_TOKEN)
    own.create_repo("tests/src", repo_type="dataset")
    own.upload_file(path_or_fileobj=parquet_bytes(make_table(100)), path_in_repo="data/train-0.parquet",
                    repo_id="tests/src", repo_type="dataset")
    own_hub.set_faults([{"route": "commit", "action": "status", "status": 500, "match": "/batch$"}])
    out = _job("subset", "tests/src", f"buckets/{bucket}/out", "--columns", "id", "--engine", "daft",
               "--retry-budget", "1", "--endpoint", own_hub.endpoint)
    own_hub.clear_faults()
    assert out.returncode == 1, out.stdout[-2000:]
    assert "subset: failed: nothing was published" in out.stdout and WRITE_TOKEN not in out.stderr + out.stdout
    assert _listing(own_hub.endpoint, bucket) == {}
    from huggingface_hub.errors import BucketNotFoundError

    with pytest.raises(BucketNotFoundError):
        own.bucket_info(bucket)


def test_landed_is_the_jobs_own_manifest(own_hub, monkeypatch) -> None:  # noqa: ANN001
    """BucketJobTarget.landed reports the write of this job (its job id, its rows), not whatever manifest the
    prefix has when it looks: another writer appending after it is fine, one replacing it, or publishing while
    this job wrote nothing, is an error."""
    from huggingface_hub import HfApi

    from hfconnect.hub.bucket_manifest import Manifest, manifest_path
    from hfconnect.jobs.runner import JobFailed
    from hfconnect.jobs.target import BucketJobTarget, NothingCommitted
    from tests.write.test_bucket_writes import _core_job

    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    endpoint, bucket = own_hub.endpoint, f"tests/jobs-bk-{uuid.uuid4().hex[:8]}"
    location = f"buckets/{bucket}/out"
    api = HfApi(endpoint=endpoint, token=WRITE_TOKEN)

    def foreign(manifest: Manifest, job_id: str, files: tuple | None = None) -> None:
        """Another writer's manifest (another process: this process's record does not know it)."""
        replaced = Manifest(manifest.bucket, manifest.prefix, job_id, "append",
                            manifest.files if files is None else files, manifest.schema)
        api.batch_bucket_files(bucket, add=[(replaced.to_bytes(), manifest_path("out"))])

    target = BucketJobTarget(location)
    target.prepare(endpoint)
    with pytest.raises(NothingCommitted):
        target.landed("default")
    result = _core_job(endpoint, location, 120)
    landed = target.landed("default")
    assert (landed.commit, landed.rows) == (result.job_id, 120)
    mine = target._job().state().manifest
    assert mine is not None
    foreign(mine, "f" * 16)  # another writer appended: the job's files are still in the manifest
    assert target.landed("default").commit == result.job_id
    foreign(mine, "e" * 16, files=())  # another writer replaced it: the job's files are no longer the data
    with pytest.raises(JobFailed, match=f"write job {result.job_id} published .* another writer replaced it"):
        target.landed("default")

    other = BucketJobTarget(location)
    other.prepare(endpoint)
    foreign(mine, "d" * 16)
    with pytest.raises(JobFailed, match=r"reported no published manifest, .* write job d{16}"):
        other.landed("default")
