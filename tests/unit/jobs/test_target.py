"""hfconnect.jobs.target against the in-process hub: landed() tells a write that committed nothing (the branch
did not move: NothingCommitted, which write_once rolls back) from one whose commit cannot be found; rollback()
removes exactly what prepare() created."""

from __future__ import annotations

import pytest

from hfconnect.jobs.runner import JobFailed
from hfconnect.jobs.target import NothingCommitted, RepoJobTarget
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub


@pytest.fixture
def hub(inproc_hub: InProcessHub, monkeypatch: pytest.MonkeyPatch) -> InProcessHub:
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)  # the jobs' token comes from the environment
    return inproc_hub


def test_a_branch_that_did_not_move_is_nothing_committed_and_rolls_back(hub: InProcessHub) -> None:
    target = RepoJobTarget("o/new")
    target.prepare(hub.endpoint)
    with pytest.raises(NothingCommitted, match=r"^nothing was committed to o/new@main: the job had no rows to "
                                               r"write \(does --where match any row\?\)$"):
        target.landed("default")
    assert target.rollback() == ["repo o/new"]
    assert not hub.api().repo_exists("o/new", repo_type="dataset")


def test_a_branch_moved_by_someone_else_is_a_job_failure_not_nothing_committed(hub: InProcessHub) -> None:
    api = hub.api()
    api.create_repo("o/old", repo_type="dataset")
    target = RepoJobTarget("o/old")
    target.prepare(hub.endpoint)
    api.upload_file(path_or_fileobj=b"x", path_in_repo="theirs.txt", repo_id="o/old", repo_type="dataset")
    with pytest.raises(JobFailed, match=rf"no commit of run {target.run_id} is on o/old@main") as caught:
        target.landed("default")
    assert not isinstance(caught.value, NothingCommitted)
    assert target.rollback() == []  # it existed before the job: kept
