"""Where a job writes, against the real local hub: what prepare() creates, rollback() removes exactly that, and
landed() finds the job's commit by its run id with the card's rows per split."""

from __future__ import annotations

import os
import uuid

import pyarrow as pa
import pytest

from hfconnect.jobs.runner import JobFailed
from hfconnect.jobs.target import NothingCommitted, RepoJobTarget
from hfconnect.options import WriteOptions
from hfconnect.write import WriteJob, write_task
from tests.conftest import WRITE_TOKEN

pytestmark = pytest.mark.integration


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    return WRITE_TOKEN


def _write(hub, target: RepoJobTarget, splits: dict[str, int]) -> None:
    options = WriteOptions.build(repo=target.repo, revision=target.revision, create_pr=target.create_pr,
                                 endpoint=hub.endpoint, split_column="split", mode="overwrite",
                                 commit_message=target.commit_message("test write"))
    table = pa.table({"id": list(range(sum(splits.values()))),
                      "split": [s for s, n in splits.items() for _ in range(n)]})
    job = WriteJob(options)
    job.begin(table.schema)
    job.commit([write_task(table.to_batches(), table.schema, options, job_id=job.job_id, partition_id=0)],
               table.schema)


def test_a_new_repo_is_created_and_removed_again_on_failure(hub, api, token) -> None:
    target = RepoJobTarget(f"tests/target-{uuid.uuid4().hex[:8]}")
    target.prepare(hub.endpoint)
    assert api.repo_exists(target.repo, repo_type="dataset")
    assert target.rollback() == [f"repo {target.repo}"]
    assert not api.repo_exists(target.repo, repo_type="dataset")


def test_a_new_branch_is_removed_on_failure_and_an_existing_one_kept(hub, api, repo_id, token) -> None:
    head = api.dataset_info(repo_id).sha
    target = RepoJobTarget(repo_id, revision="rewrite", branch_from=head)
    target.prepare(hub.endpoint)
    assert "rewrite" in [b.name for b in api.list_repo_refs(repo_id, repo_type="dataset").branches]
    assert target.rollback() == ["branch rewrite"]
    assert [b.name for b in api.list_repo_refs(repo_id, repo_type="dataset").branches] == ["main"]
    api.create_branch(repo_id, branch="kept", repo_type="dataset")
    kept = RepoJobTarget(repo_id, revision="kept")
    kept.prepare(hub.endpoint)
    assert kept.rollback() == [] and "kept" in [b.name for b in api.list_repo_refs(repo_id,
                                                                                    repo_type="dataset").branches]


def test_landed_finds_the_commit_on_a_branch_and_in_a_new_pull_request(hub, api, repo_id, token) -> None:
    target = RepoJobTarget(repo_id)
    target.prepare(hub.endpoint)
    _write(hub, target, {"train": 5, "test": 2})
    landed = target.landed("default")
    assert (landed.ref, landed.commits, landed.split_rows, landed.rows) == ("main", 1, [("train", 5), ("test", 2)], 7)
    assert landed.commit == api.dataset_info(repo_id).sha
    pr = RepoJobTarget(repo_id, create_pr=True)
    pr.prepare(hub.endpoint)
    _write(hub, pr, {"validation": 3})
    landed = pr.landed("default")
    assert landed.ref == "refs/pr/1" and landed.commits == 1 and dict(landed.split_rows)["validation"] == 3
    assert api.dataset_info(repo_id).sha != landed.commit  # main is unchanged


def test_landed_refuses_when_no_commit_carries_the_run_id(hub, api, repo_id, token) -> None:
    target = RepoJobTarget(repo_id)
    target.prepare(hub.endpoint)
    with pytest.raises(NothingCommitted, match=rf"nothing was committed to {repo_id}@main: the job had no rows"):
        target.landed("default")  # the branch did not move at all
    api.upload_file(path_or_fileobj=b"x", path_in_repo="other.txt", repo_id=repo_id, repo_type="dataset")
    with pytest.raises(JobFailed, match=rf"no commit of run {target.run_id} is on {repo_id}@main"):
        target.landed("default")  # it moved, but not by this job


def test_prepare_needs_a_token(hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", os.environ["HF_HOME"])  # no saved login there
    with pytest.raises(JobFailed, match="writing needs a token with write access"):
        RepoJobTarget("tests/x").prepare(hub.endpoint)
