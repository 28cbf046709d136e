"""The history walk that tells a restarted streaming query which of its micro-batches already landed: the marker a
batch's commit carries, found newest first in the branch's commits on the local hub's app run in-process."""

from __future__ import annotations

from datetime import datetime

import pytest

from hfconnect.hub.client import HubClient
from hfconnect.hub.retry import RetryPolicy
from hfconnect.localhub.records import Operation
from hfconnect.stream.history import STREAM_MARKER, batch_marker, newest_query_commit
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05, budget=1.0)
QUERY = "5f0c7a8e-3b1d-4c2a-9e4f-0a1b2c3d4e5f"


def _commit(hub: InProcessHub, title: str, description: str = "", revision: str = "main") -> str:
    from huggingface_hub import CommitOperationAdd

    return hub.api().create_commit("o/s", repo_type="dataset", revision=revision, commit_message=title,
                                   commit_description=description or None, operations=[
                                       CommitOperationAdd(path_in_repo=f"f-{title}.txt", path_or_fileobj=b"x")]).oid


def test_the_marker_names_query_and_batch() -> None:
    assert batch_marker(QUERY, 12) == f"hfconnect-stream: query={QUERY} batch=12"
    assert batch_marker(QUERY, 12).startswith(STREAM_MARKER)


def test_the_newest_commit_of_the_query_is_found_among_other_writers(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/s", {})
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    assert newest_query_commit(client, "o/s", "main", QUERY) is None  # the query never committed here
    _commit(inproc_hub, "a0", f"hfconnect-job-id: x\n{batch_marker(QUERY, 0)}")
    b0 = _commit(inproc_hub, "b0", batch_marker("other-query", 0))
    a1 = _commit(inproc_hub, "a1", f"user text\n\nhfconnect-job-id: y\n{batch_marker(QUERY, 1)}")
    _commit(inproc_hub, "b1", batch_marker(QUERY + "-2", 7))  # a query whose id starts with ours is not ours
    _commit(inproc_hub, "plain", "someone else's commit")
    found = newest_query_commit(client, "o/s", "main", QUERY)
    assert found is not None and (found.sha, found.batch_id) == (a1, 1)
    assert isinstance(found.created_at, datetime) and found.created_at.tzinfo is not None
    other = newest_query_commit(HubClient(inproc_hub.endpoint, None, FAST), "o/s", "main", "other-query")
    assert other is not None and (other.sha, other.batch_id) == (b0, 0)  # anonymous may read a public repo


def test_a_marker_in_the_title_counts_too(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/s", {})
    sha = _commit(inproc_hub, batch_marker(QUERY, 3))
    found = newest_query_commit(HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST), "o/s", "main", QUERY)
    assert found is not None and (found.sha, found.batch_id) == (sha, 3)


def test_other_branches_have_their_own_history(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/s", {})
    inproc_hub.api().create_branch("o/s", branch="dev", repo_type="dataset")
    dev = _commit(inproc_hub, "d", batch_marker(QUERY, 5), revision="dev")
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    assert newest_query_commit(client, "o/s", "main", QUERY) is None
    found = newest_query_commit(client, "o/s", "dev", QUERY)
    assert found is not None and found.sha == dev


def test_the_walk_pages_back_and_stops_at_its_depth(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/s", {})
    sha = _commit(inproc_hub, "mine", batch_marker(QUERY, 9))
    storage = inproc_hub.state.storage
    for i in range(60):  # other writers bury it below the first page (50 commits)
        storage.apply_commit("dataset", "o/s", "main", [Operation("file", f"n{i}.txt", b"n")], title=f"n{i}",
                             message="", author="other")
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    before = inproc_hub.counters()["api"]["requests"]
    found = newest_query_commit(client, "o/s", "main", QUERY)
    assert found is not None and (found.sha, found.batch_id) == (sha, 9)
    assert inproc_hub.counters()["api"]["requests"] - before == 2  # two pages
    assert newest_query_commit(client, "o/s", "main", QUERY, depth=60) is None


def test_the_walk_rides_out_a_transient_failure(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/s", {})
    sha = _commit(inproc_hub, "mine", batch_marker(QUERY, 2))
    inproc_hub.set_faults([{"route": "api", "action": "status", "status": 503, "times": 1}])
    found = newest_query_commit(HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST), "o/s", "main", QUERY)
    assert found is not None and found.sha == sha
    assert inproc_hub.counters()["api"]["faults"] == 1


@pytest.mark.parametrize("batch", [0, 7, 123456])
def test_marker_round_trip(inproc_hub: InProcessHub, batch: int) -> None:
    inproc_hub.dataset("o/s", {})
    _commit(inproc_hub, "m", batch_marker(QUERY, batch))
    found = newest_query_commit(HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST), "o/s", "main", QUERY)
    assert found is not None and found.batch_id == batch
