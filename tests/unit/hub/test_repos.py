"""hub.repos: the token's role, a repo's life (info, exists, create, delete), its refs and branches, and the
uploads and the ONE commit that change it, each under the client's retry policy and error mapping, against the
local hub's own app run in-process."""

from __future__ import annotations

import pytest
from huggingface_hub import CommitOperationAdd

from hfconnect.errors import AuthenticationError, HubRequestError, RepoNotFoundError
from hfconnect.hub import repos
from hfconnect.hub.client import HubClient
from hfconnect.hub.retry import RetryPolicy
from tests.unit.inprocess_hub import READ_TOKEN, WRITE_TOKEN, InProcessHub

FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05, budget=1.0)


def _client(hub: InProcessHub, token: str | None = WRITE_TOKEN) -> HubClient:
    return HubClient(hub.endpoint, token, FAST)


def _add(path: str, data: bytes = b"x") -> CommitOperationAdd:
    return CommitOperationAdd(path_in_repo=path, path_or_fileobj=data)


def test_the_token_role_is_what_whoami_says(inproc_hub: InProcessHub) -> None:
    assert repos.token_role(_client(inproc_hub), where="the token") == "write"
    assert repos.token_role(_client(inproc_hub, READ_TOKEN), where="the token") == "read"
    with pytest.raises(AuthenticationError, match=r"^the token given: HTTP 401"):
        repos.token_role(_client(inproc_hub, "hf_wrong"), where="the token given")


def test_a_repo_is_created_found_and_deleted(inproc_hub: InProcessHub) -> None:
    client = _client(inproc_hub)
    assert not repos.repo_exists(client, "o/r")
    with pytest.raises(RepoNotFoundError, match=r"^dataset o/r@main: not found on the Hub"):
        repos.repo_sha(client, "o/r", where="dataset o/r@main")
    repos.create_repo(client, "o/r", private=True)
    assert repos.repo_exists(client, "o/r") and inproc_hub.state.storage.repo_meta("dataset", "o/r")["private"]
    sha = repos.repo_sha(client, "o/r")
    assert sha == inproc_hub.api().repo_info("o/r", repo_type="dataset").sha
    with pytest.raises(HubRequestError) as taken:
        repos.create_repo(client, "o/r")
    assert taken.value.status == 409  # a declared attribute: no getattr needed
    repos.delete_repo(client, "o/r")
    assert not repos.repo_exists(client, "o/r")
    repos.delete_repo(client, "o/r", missing_ok=True)
    with pytest.raises(RepoNotFoundError):
        repos.delete_repo(client, "o/r")


def test_refs_and_branches(inproc_hub: InProcessHub) -> None:
    client = _client(inproc_hub)
    sha = inproc_hub.dataset("o/r", {"a.txt": b"a"})
    repos.create_branch(client, "o/r", "dev", revision=sha)
    inproc_hub.api().create_commit("o/r", repo_type="dataset", create_pr=True, commit_message="pr",
                                   operations=[_add("p.txt")])
    refs = repos.list_refs(client, "o/r")
    assert sorted((b.name, b.target_commit) for b in refs.branches) == [("dev", sha), ("main", sha)]
    assert not refs.pull_requests
    assert [p.ref for p in repos.list_refs(client, "o/r", pull_requests=True).pull_requests] == ["refs/pr/1"]
    repos.delete_branch(client, "o/r", "dev")
    assert [b.name for b in repos.list_refs(client, "o/r").branches] == ["main"]


def test_a_commit_says_its_sha_and_its_pull_request(inproc_hub: InProcessHub) -> None:
    client = _client(inproc_hub)
    base = inproc_hub.dataset("o/r", {})
    done = repos.create_commit(client, "o/r", revision="main", operations=[_add("a.txt")], parent_commit=base,
                               message="add a", description="why", where="dataset o/r@main")
    assert done == repos.Committed(inproc_hub.api().repo_info("o/r", repo_type="dataset").sha, None)
    opened = repos.create_commit(client, "o/r", revision="main", operations=[_add("b.txt")],
                                 parent_commit=done.sha, create_pr=True, message="b", description="",
                                 where="dataset o/r@main")
    assert opened.pr_url is not None and opened.pr_url.endswith("/datasets/o/r/discussions/1")


def test_a_commit_on_a_moved_head_is_a_412_and_a_5xx_is_never_retried(inproc_hub: InProcessHub) -> None:
    client = _client(inproc_hub)
    base = inproc_hub.dataset("o/r", {})
    inproc_hub.dataset("o/r", {"moved.txt": b"m"})
    with pytest.raises(HubRequestError) as moved:
        repos.create_commit(client, "o/r", revision="main", operations=[_add("a.txt")], parent_commit=base,
                            message="a", description="", where="dataset o/r@main")
    assert moved.value.status == 412
    inproc_hub.set_faults([{"route": "commit", "action": "status", "status": 503, "times": 1}])
    before = inproc_hub.counters()["commit"]["requests"]
    with pytest.raises(HubRequestError) as failed:
        repos.create_commit(client, "o/r", revision="main", operations=[_add("a.txt")], parent_commit=None,
                            message="a", description="", where="dataset o/r@main")
    assert failed.value.status == 503 and failed.value.headers is not None
    assert inproc_hub.counters()["commit"]["requests"] - before == 1  # sent once: it may have landed


def test_a_preupload_then_a_commit_of_the_uploaded_file(inproc_hub: InProcessHub) -> None:
    client = _client(inproc_hub)
    inproc_hub.dataset("o/r", {})
    op = CommitOperationAdd(path_in_repo="data/x.parquet", path_or_fileobj=b"PAR1" * 4096)
    repos.preupload(client, "o/r", [op], revision="main", what="upload of x", where="dataset o/r@main")
    assert op._is_uploaded
    repos.create_commit(client, "o/r", revision="main", operations=[op], parent_commit=None, message="x",
                        description="", where="dataset o/r@main")
    assert "data/x.parquet" in inproc_hub.api().list_repo_files("o/r", repo_type="dataset")
