"""hub.pulls: a repo's newest pull requests with their heads, one's state, merging (never retried) and closing,
against the local hub's own app run in-process."""

from __future__ import annotations

import pytest
from huggingface_hub import CommitOperationAdd

from hfconnect.errors import HubRequestError, RepoNotFoundError
from hfconnect.hub import pulls
from hfconnect.hub.client import HubClient
from hfconnect.hub.retry import RetryPolicy
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05, budget=1.0)


def _open(hub: InProcessHub, path: str, message: str = "") -> str:
    """Open a pull request adding `path`; its head."""
    return hub.api().create_commit("o/p", repo_type="dataset", create_pr=True, commit_message=path,
                                   commit_description=message or None, operations=[
                                       CommitOperationAdd(path_in_repo=path, path_or_fileobj=b"x")]).oid


@pytest.fixture
def client(inproc_hub: InProcessHub) -> HubClient:
    inproc_hub.dataset("o/p", {})
    return HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)


@pytest.mark.parametrize(("text", "num"), [("refs/pr/12", 12), ("http://h/datasets/u/d/discussions/3/", 3),
                                           ("refs/pr/x", None), (None, None), ("", None)])
def test_the_number_of_a_ref_or_url(text: str | None, num: int | None) -> None:
    assert pulls.pull_request_number(text) == num


def test_the_newest_pull_requests_with_their_heads(inproc_hub: InProcessHub, client: HubClient) -> None:
    heads = [_open(inproc_hub, f"f{i}.txt", f"marker {i}") for i in range(12)]
    newest = pulls.newest_pull_requests(client, "o/p", 3)
    assert [(p.num, p.ref, p.target_commit) for p in newest] == [
        (12, "refs/pr/12", heads[11]), (11, "refs/pr/11", heads[10]), (10, "refs/pr/10", heads[9])]
    assert len(pulls.newest_pull_requests(client, "o/p", 100)) == 12  # sorted by number, not as listed: 12 > 2
    assert pulls.pull_request_head(client, "o/p", "refs/pr/2") == (heads[1], "f1.txt\nmarker 1")
    assert pulls.newest_pull_requests(client, "o/p", 0) == []


def test_state_merge_and_close(inproc_hub: InProcessHub, client: HubClient) -> None:
    _open(inproc_hub, "a.txt")
    _open(inproc_hub, "b.txt")
    assert pulls.pull_request_state(client, "o/p", 1) == pulls.PullRequestState(1, "open")
    pulls.merge_pull_request(client, "o/p", 1, comment="merged by a test")
    merged = pulls.pull_request_state(client, "o/p", 1)
    assert merged.status == "merged" and merged.merge_commit_oid == \
        inproc_hub.api().repo_info("o/p", repo_type="dataset").sha
    pulls.close_pull_request(client, "o/p", 2, comment="not needed")
    assert pulls.pull_request_state(client, "o/p", 2).status == "closed"
    with pytest.raises(HubRequestError, match=r"^dataset o/p pull request #9: the Hub answered HTTP 404") as missing:
        pulls.pull_request_state(client, "o/p", 9)
    assert missing.value.status == 404
    with pytest.raises(RepoNotFoundError, match=r"^dataset o/none pull request #1: not found on the Hub"):
        pulls.pull_request_state(client, "o/none", 1)


def test_a_merge_that_fails_with_a_5xx_is_not_sent_again(inproc_hub: InProcessHub, client: HubClient) -> None:
    _open(inproc_hub, "a.txt")
    inproc_hub.set_faults([{"route": "api", "action": "status", "status": 502, "times": 1, "match": "/merge"}])
    with pytest.raises(HubRequestError) as failed:
        pulls.merge_pull_request(client, "o/p", 1, comment="m")
    assert failed.value.status == 502 and inproc_hub.state.faults.rules[0].seen == 1
    assert pulls.pull_request_state(client, "o/p", 1).status == "open"  # the caller reads the state back
