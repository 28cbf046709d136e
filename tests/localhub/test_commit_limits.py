"""The real-Hub mode's commit limits on the real local hub over HTTP: a commit request past its time answers
the Hub gateway's 504 (no X-Error-Code), and whether the commit landed is not in the answer: by default it did
not, with --commit-timeout-lands it did (the Hub's "rare cases"). The limits travel to the child process as
`hfconnect localhub serve` flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from hfconnect.localhub import LocalHub
from hfconnect.localhub.mode import HubMode
from tests.conftest import WRITE_TOKEN


def _ops(n: int, prefix: str = "f") -> list[CommitOperationAdd]:
    return [CommitOperationAdd(f"{prefix}/{i:03d}.txt", b"%d" % i) for i in range(n)]


@pytest.mark.parametrize("lands", [False, True])
def test_a_commit_past_the_operation_limit_times_out_like_the_hub(tmp_path: Path, lands: bool) -> None:
    mode = HubMode(commit_limits=True, commit_max_operations=100, commit_timeout_lands=lands)
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=mode) as hub:
        assert hub._admin("GET", "mode")["commit_max_operations"] == 100
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        api.create_repo("u/d", repo_type="dataset")
        api.create_commit("u/d", repo_type="dataset", operations=_ops(100), commit_message="fits")
        before = api.repo_info("u/d", repo_type="dataset").sha
        with pytest.raises(HfHubHTTPError) as exc:
            api.create_commit("u/d", repo_type="dataset", operations=_ops(101, "g"), commit_message="too big")
        assert exc.value.response.status_code == 504 and "X-Error-Code" not in exc.value.response.headers
        landed = api.repo_info("u/d", repo_type="dataset").sha != before
        assert landed is lands


def test_pr_staging_in_commits_that_fit_then_one_merge(tmp_path: Path) -> None:
    """What hfconnect's writer will do on the Hub: stage 250 files in commits of 100 on refs/pr/N, merge once."""
    mode = HubMode(commit_limits=True, commit_max_operations=100)
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=mode) as hub:
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        api.create_repo("u/d", repo_type="dataset")
        pr = api.create_pull_request("u/d", "Job", repo_type="dataset")
        ops = _ops(250)
        for start in range(0, len(ops), 100):
            api.create_commit("u/d", repo_type="dataset", revision=pr.git_reference, commit_message="stage",
                              operations=ops[start:start + 100])
        api.change_discussion_status("u/d", pr.num, "open", repo_type="dataset")
        api.merge_pull_request("u/d", pr.num, repo_type="dataset")  # a merge has no operation limit
        commits = api.list_repo_commits("u/d", repo_type="dataset")
        assert [c.title for c in commits] == ["Job (#1)", "initial commit"]
        assert len(api.list_repo_files("u/d", repo_type="dataset")) == 251
