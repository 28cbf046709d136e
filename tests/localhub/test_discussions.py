"""Pull requests on the real local hub over HTTP, driven by the real huggingface_hub client: a job staged on
refs/pr/N in several commits (as huggingface_hub's own multi-commit upload does it), then merged as ONE commit on
main; conflicts refused; PRs, their commits and their merges survive a restart of the hub."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from hfconnect.localhub import LocalHub
from tests.conftest import WRITE_TOKEN


def test_a_multi_commit_upload_to_a_pr_lands_on_main_as_one_commit(api: HfApi, repo_id: str,
                                                                   tmp_path: Path) -> None:
    folder = tmp_path / "job"
    for i in range(300):  # more than huggingface_hub's first batch (256 files): two commits on the PR
        (folder / f"part-{i // 100}").mkdir(parents=True, exist_ok=True)
        (folder / f"part-{i // 100}" / f"{i:04d}.txt").write_text(f"row {i}\n")
    main_before = api.list_repo_commits(repo_id, repo_type="dataset")
    info = api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=folder, create_pr=True,
                             commit_message="Job 300 files")
    num = int(info.pr_num)
    staged = api.get_discussion_details(repo_id, num, repo_type="dataset")
    pr_commits = [e for e in staged.events if e.type == "commit"]
    assert staged.status == "draft" and len(pr_commits) >= 2
    assert api.list_repo_commits(repo_id, repo_type="dataset") == main_before  # nothing visible yet

    api.change_discussion_status(repo_id, num, "open", repo_type="dataset")
    api.merge_pull_request(repo_id, num, repo_type="dataset")
    after = api.list_repo_commits(repo_id, repo_type="dataset")
    assert len(after) == len(main_before) + 1 and after[0].title == f"Job 300 files (#{num})"
    assert after[1].commit_id == main_before[0].commit_id  # parent: main's head
    assert sum(f.endswith(".txt") for f in api.list_repo_files(repo_id, repo_type="dataset")) == 300
    merged = api.get_discussion_details(repo_id, num, repo_type="dataset")
    assert (merged.status, merged.merge_commit_oid) == ("merged", after[0].commit_id)
    assert [c.commit_id for c in api.list_repo_commits(repo_id, repo_type="dataset", revision=f"refs/pr/{num}")][
        :len(pr_commits)] == [e.oid for e in reversed(pr_commits)]  # the PR ref and its commits stay


def test_a_pr_whose_files_changed_on_main_is_refused_until_closed(api: HfApi, repo_id: str) -> None:
    api.upload_file(path_or_fileobj=b"v1", path_in_repo="data/train.parquet", repo_id=repo_id, repo_type="dataset")
    pr = api.create_pull_request(repo_id, "Rewrite train", repo_type="dataset")
    api.create_commit(repo_id, repo_type="dataset", revision=pr.git_reference, commit_message="stage",
                      operations=[CommitOperationAdd("data/train.parquet", b"v2 from the job")])
    api.change_discussion_status(repo_id, pr.num, "open", repo_type="dataset")
    api.upload_file(path_or_fileobj=b"v2 by someone else", path_in_repo="data/train.parquet", repo_id=repo_id,
                    repo_type="dataset")
    head = api.repo_info(repo_id, repo_type="dataset").sha
    assert api.get_discussion_details(repo_id, pr.num, repo_type="dataset").conflicting_files == [
        "data/train.parquet"]
    with pytest.raises(HfHubHTTPError) as exc:
        api.merge_pull_request(repo_id, pr.num, repo_type="dataset")
    assert exc.value.response.status_code == 409 and "data/train.parquet" in str(exc.value)
    assert api.repo_info(repo_id, repo_type="dataset").sha == head
    closed = api.change_discussion_status(repo_id, pr.num, "closed", repo_type="dataset", comment="conflict")
    assert closed.new_status == "closed"
    with pytest.raises(HfHubHTTPError, match="closed"):
        api.merge_pull_request(repo_id, pr.num, repo_type="dataset")


def test_prs_and_merges_survive_a_restart(tmp_path: Path) -> None:
    root = tmp_path / "hub"
    with LocalHub(root, tokens={WRITE_TOKEN: "write"}) as hub:
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        api.create_repo("u/d", repo_type="dataset")
        first = api.create_commit("u/d", repo_type="dataset", commit_message="one", create_pr=True,
                                  operations=[CommitOperationAdd("a.txt", b"a")])
        second = api.create_pull_request("u/d", "Two", repo_type="dataset")
        api.merge_pull_request("u/d", int(first.pr_num), repo_type="dataset")
        merged_sha = api.repo_info("u/d", repo_type="dataset").sha
        hub.kill()  # SIGKILL: nothing is flushed on the way out
        hub.start()
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        assert [(d.num, d.status) for d in api.get_repo_discussions("u/d", repo_type="dataset")] == [
            (second.num, "draft"), (int(first.pr_num), "merged")]
        assert api.get_discussion_details("u/d", int(first.pr_num), repo_type="dataset").merge_commit_oid == merged_sha
        assert api.create_discussion("u/d", "Three", repo_type="dataset").num == 3
