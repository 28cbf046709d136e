"""hub.history: the ONE walk through a revision's `/commits` pages (newest first, lazily, stopping at a depth or
at the first commit a predicate accepts), against the local hub's own app run in-process."""

from __future__ import annotations

from datetime import datetime

import pytest

from hfconnect.errors import RevisionNotFoundError
from hfconnect.hub.client import HubClient
from hfconnect.hub.history import CommitEntry, commits_url, newest_commits
from hfconnect.hub.retry import RetryPolicy
from hfconnect.localhub.records import Operation
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05, budget=1.0)
PAGES = {"route": "api", "action": "latency", "latency_ms": 0, "match": "/commits/"}  # counts the pages read


def _commits(hub: InProcessHub, n: int, repo: str = "o/h", revision: str = "main") -> None:
    for i in range(n):
        hub.state.storage.apply_commit("dataset", repo, revision, [Operation("file", f"f{i}.txt", b"x")],
                                       title=f"c{i}", message=f"body {i}", author="someone")


@pytest.fixture
def client(inproc_hub: InProcessHub) -> HubClient:
    inproc_hub.dataset("o/h", {})
    return HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)


def test_the_url_quotes_the_revision_whole() -> None:
    assert commits_url("http://h", "o/r", "refs/pr/3") == "http://h/api/datasets/o/r/commits/refs%2Fpr%2F3"
    assert commits_url("http://h", "o/r", "main", "model") == "http://h/api/models/o/r/commits/main"


def test_newest_first_with_title_message_and_date(inproc_hub: InProcessHub, client: HubClient) -> None:
    _commits(inproc_hub, 3)
    got = newest_commits(client, "o/h", "main")
    assert [c.title for c in got] == ["c2", "c1", "c0", got[-1].title] and len(got) == 4  # and the repo's first
    assert got[0].message == "body 2" and got[0].text == "c2\nbody 2"
    assert all(isinstance(c.created_at, datetime) and c.created_at.tzinfo is not None for c in got)
    head = inproc_hub.api().list_repo_commits("o/h", repo_type="dataset")
    assert [c.sha for c in got] == [c.commit_id for c in head]


def test_a_depth_reads_only_the_pages_it_needs(inproc_hub: InProcessHub, client: HubClient) -> None:
    _commits(inproc_hub, 120)  # three pages of 50
    inproc_hub.set_faults([PAGES])
    assert len(newest_commits(client, "o/h", "main", 50)) == 50
    assert inproc_hub.state.faults.rules[0].seen == 1  # the 50th is on page one: page two is never asked
    assert len(newest_commits(client, "o/h", "main", 51)) == 51
    assert inproc_hub.state.faults.rules[0].seen == 3
    assert len(newest_commits(client, "o/h", "main")) == 121  # None: all of them
    assert newest_commits(client, "o/h", "main", 0) == []


def test_the_walk_stops_at_the_first_commit_until_accepts(inproc_hub: InProcessHub, client: HubClient) -> None:
    _commits(inproc_hub, 80)
    inproc_hub.set_faults([PAGES])
    got = newest_commits(client, "o/h", "main", until=lambda c: c.title == "c75")
    assert [c.title for c in got] == ["c79", "c78", "c77", "c76", "c75"]
    assert inproc_hub.state.faults.rules[0].seen == 1
    assert len(newest_commits(client, "o/h", "main", 10, until=lambda c: False)) == 10


def test_branches_and_pull_requests_have_their_own_history(inproc_hub: InProcessHub, client: HubClient) -> None:
    from huggingface_hub import CommitOperationAdd

    api = inproc_hub.api()
    api.create_branch("o/h", branch="dev", repo_type="dataset")
    _commits(inproc_hub, 2, revision="dev")
    pr = api.create_commit("o/h", repo_type="dataset", create_pr=True, commit_message="proposed",
                           operations=[CommitOperationAdd(path_in_repo="p.txt", path_or_fileobj=b"p")])
    assert [c.title for c in newest_commits(client, "o/h", "dev", 2)] == ["c1", "c0"]
    assert newest_commits(client, "o/h", "refs/pr/1", 1) == [
        CommitEntry(pr.oid, "proposed", "", newest_commits(client, "o/h", "refs/pr/1", 1)[0].created_at)]
    assert len(newest_commits(client, "o/h", "main")) == 1


def test_a_transient_failure_is_retried_and_a_missing_revision_named(inproc_hub: InProcessHub,
                                                                    client: HubClient) -> None:
    inproc_hub.set_faults([{"route": "api", "action": "status", "status": 503, "times": 1, "match": "/commits/"}])
    assert len(newest_commits(client, "o/h", "main")) == 1
    assert inproc_hub.counters()["api"]["faults"] == 1
    with pytest.raises(RevisionNotFoundError, match=r"^dataset o/h@nope: revision not found"):
        newest_commits(client, "o/h", "nope")
