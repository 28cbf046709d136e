"""The discussion endpoints as huggingface_hub calls them, against the hub's own app served in process (real HTTP,
no subprocess), and the commit limits of the real-Hub mode: the flags that carry them and the 504 they answer."""

from __future__ import annotations

import pytest
from huggingface_hub import CommitOperationAdd
from huggingface_hub.errors import HfHubHTTPError

from hfconnect.localhub.app import match_route
from hfconnect.localhub.mode import HubMode
from hfconnect.localhub.server import mode_arguments
from tests.unit.inprocess_hub import READ_TOKEN, running_hub

REPO = "u/d"


@pytest.mark.parametrize(("method", "path", "handler"), [
    ("GET", "/api/datasets/u/d/discussions", "list_discussions"),
    ("POST", "/api/datasets/u/d/discussions", "create"),
    ("GET", "/api/models/m/discussions/12", "details"),
    ("POST", "/api/spaces/u/s/discussions/3/comment", "comment"),
    ("POST", "/api/datasets/u/d/discussions/3/title", "rename"),
    ("POST", "/api/datasets/u/d/discussions/3/status", "change_status"),
    ("POST", "/api/datasets/u/d/discussions/3/merge", "merge"),
])
def test_discussion_routes(method: str, path: str, handler: str) -> None:
    found = match_route(method, path)
    assert found is not None and found[0].handler.__name__ == handler
    assert match_route("GET", "/api/datasets/u/d/discussions/0") is None


def test_a_pr_staged_in_commits_then_merged_as_huggingface_hub_sees_it() -> None:
    with running_hub() as hub:
        api = hub.api()
        hub.dataset(REPO, {"a.txt": b"a"})
        pr = api.create_pull_request(REPO, "Job 1", repo_type="dataset", description="staging")
        assert (pr.num, pr.status, pr.git_reference, pr.target_branch) == (1, "draft", "refs/pr/1", "refs/heads/main")
        assert pr.conflicting_files == [] and pr.merge_commit_oid is None
        assert [(e.type, e.content) for e in pr.events] == [("comment", "staging")]
        for i in range(2):
            api.create_commit(REPO, repo_type="dataset", revision=pr.git_reference, commit_message=f"part {i}",
                              operations=[CommitOperationAdd(f"data/{i}.parquet", b"PAR1%d" % i)])
        assert "data/0.parquet" not in api.list_repo_files(REPO, repo_type="dataset")  # nothing visible yet
        mid = api.get_discussion_details(REPO, 1, repo_type="dataset")
        assert [e.summary for e in mid.events if e.type == "commit"] == ["part 0", "part 1"]
        assert "diff --git a/data/0.parquet b/data/0.parquet" in (mid.diff or "")
        with pytest.raises(HfHubHTTPError, match="draft"):
            api.merge_pull_request(REPO, 1, repo_type="dataset")
        published = api.change_discussion_status(REPO, 1, "open", repo_type="dataset")
        assert published.new_status == "open"
        api.merge_pull_request(REPO, 1, repo_type="dataset")
        done = api.get_discussion_details(REPO, 1, repo_type="dataset")
        head = api.list_repo_commits(REPO, repo_type="dataset")[0]
        assert (done.status, done.merge_commit_oid, head.commit_id, head.title) == (
            "merged", head.commit_id, done.merge_commit_oid, "Job 1 (#1)")
        assert {"data/0.parquet", "data/1.parquet"} <= set(api.list_repo_files(REPO, repo_type="dataset"))
        refs = api.list_repo_refs(REPO, repo_type="dataset", include_pull_requests=True)
        assert [r.ref for r in refs.pull_requests] == ["refs/pr/1"]
        assert hub.counters()["unknown_routes"] == []


def test_listing_filters_and_pages_like_the_hub() -> None:
    with running_hub() as hub:
        api = hub.api()
        hub.dataset(REPO, {})
        for i in range(55):
            api.create_discussion(REPO, f"talk {i}", repo_type="dataset", pull_request=i % 5 == 0)
        api.change_discussion_status(REPO, 2, "closed", repo_type="dataset")
        every = list(api.get_repo_discussions(REPO, repo_type="dataset"))
        assert [d.num for d in every] == list(range(55, 0, -1))  # two pages of 50, newest first
        prs = list(api.get_repo_discussions(REPO, repo_type="dataset", discussion_type="pull_request"))
        assert {d.num for d in prs} == {i + 1 for i in range(0, 55, 5)} and {d.status for d in prs} == {"draft"}
        closed = list(api.get_repo_discussions(REPO, repo_type="dataset", discussion_status="closed"))
        assert [d.num for d in closed] == [2]
        assert list(api.get_repo_discussions(REPO, repo_type="dataset", author="nobody")) == []


def test_comments_renames_and_who_may_write() -> None:
    with running_hub() as hub:
        api, reader = hub.api(), hub.api(READ_TOKEN)
        hub.dataset(REPO, {})
        num = api.create_discussion(REPO, "Question", repo_type="dataset").num
        note = api.comment_discussion(REPO, num, "**hi**", repo_type="dataset")
        renamed = api.rename_discussion(REPO, num, "Better question", repo_type="dataset")
        found = api.get_discussion_details(REPO, num, repo_type="dataset")
        assert (found.title, renamed.old_title, note.content) == ("Better question", "Question", "**hi**")
        assert [e.id for e in found.events][1:] == [note.id, renamed.id]
        assert reader.get_discussion_details(REPO, num, repo_type="dataset").num == num
        with pytest.raises(HfHubHTTPError) as exc:
            reader.create_discussion(REPO, "nope", repo_type="dataset")
        assert exc.value.response.status_code == 403
        with pytest.raises(HfHubHTTPError) as exc:
            api.get_discussion_details(REPO, 42, repo_type="dataset")
        assert exc.value.response.status_code == 404


def test_commit_limits_reach_the_serve_flags_and_real_hub_keeps_the_documented_60s() -> None:
    assert HubMode().commit_limits is False and "--commit-limits" not in mode_arguments(HubMode())
    real = HubMode.real_hub()
    assert (real.commit_limits, real.commit_timeout, real.commit_max_operations) == (True, 60.0, 0)
    assert mode_arguments(HubMode(commit_limits=True, commit_timeout=2.5, commit_max_operations=100,
                                  commit_timeout_lands=True))[-6:] == [
        "--commit-limits", "--commit-timeout", "2.5", "--commit-max-operations", "100", "--commit-timeout-lands"]
    for bad in ({"commit_timeout": 0}, {"commit_timeout": float("nan")}, {"commit_max_operations": -1}):
        with pytest.raises(ValueError):
            HubMode(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("lands", [False, True])
def test_a_commit_past_the_limit_answers_504_and_lands_only_in_the_rare_case(lands: bool) -> None:
    mode = HubMode(commit_limits=True, commit_max_operations=2, commit_timeout_lands=lands)
    with running_hub(mode=mode) as hub:
        api = hub.api()
        before = hub.dataset(REPO, {"a.txt": b"a", "b.txt": b"b"})  # 2 operations: within the limit
        ops = [CommitOperationAdd(f"f{i}.txt", b"%d" % i) for i in range(3)]
        with pytest.raises(HfHubHTTPError) as exc:
            api.create_commit(REPO, repo_type="dataset", operations=ops, commit_message="too big")
        assert exc.value.response.status_code == 504 and "X-Error-Code" not in exc.value.response.headers
        head = api.repo_info(REPO, repo_type="dataset").sha
        assert (head != before) is lands
        assert hub.counters()["commit"]["errors"] == 1
