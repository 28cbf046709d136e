"""HubClient against the real-Hub mode: the head of a branch with its card, and the files that changed between
two commits (what a streaming source polls for), each in a bounded number of API calls."""

from __future__ import annotations

import uuid

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

from hfconnect.errors import AuthenticationError, RepoNotFoundError, RevisionNotFoundError
from hfconnect.hub import HubClient
from tests.conftest import READ_TOKEN, WRITE_TOKEN

pytestmark = pytest.mark.integration


def test_head_and_changes_between_commits(real_hub) -> None:
    api = HfApi(endpoint=real_hub.endpoint, token=WRITE_TOKEN)
    repo = f"real/changes-{uuid.uuid4().hex[:6]}"
    api.create_repo(repo, repo_type="dataset")
    first = api.create_commit(repo, repo_type="dataset", commit_message="one", operations=[
        CommitOperationAdd("data/a.parquet", b"a" * 100), CommitOperationAdd("data/b.parquet", b"b" * 100),
        CommitOperationAdd("README.md", b"---\nlicense: mit\n---\n# card\n")]).oid
    api.create_commit(repo, repo_type="dataset", commit_message="two", operations=[
        CommitOperationAdd("data/c.parquet", b"c" * 100), CommitOperationDelete("data/a.parquet")])
    api.create_commit(repo, repo_type="dataset", commit_message="three", operations=[
        CommitOperationAdd("data/b.parquet", b"B" * 120)])  # rewritten in place
    client = HubClient(real_hub.endpoint, READ_TOKEN)
    real_hub.reset_counters()
    head = client.head(repo, "main")
    assert head.card is not None and head.card.startswith("---\nlicense: mit")
    assert {f.path for f in head.files} == {".gitattributes", "README.md", "data/b.parquet", "data/c.parquet"}
    assert head.file("data/b.parquet").size == 120
    snapshot, changes = client.changes(repo, first, "main")
    assert snapshot.sha == head.snapshot.sha and changes.old == first and changes.new == head.snapshot.sha
    assert sorted(f.path for f in changes.added) == ["data/b.parquet", "data/c.parquet"]
    assert sorted(f.path for f in changes.removed) == ["data/a.parquet", "data/b.parquet"]
    same = client.changes(repo, head.snapshot.sha, "main")[1]
    assert same.added == () and same.removed == ()
    buckets = real_hub.counters()["rate_limits"]
    assert buckets["api"]["requests"] <= 2 + 3 + 1 and buckets["resolvers"]["requests"] == 1  # the card


def test_errors_name_what_was_wrong(real_hub, dataset) -> None:
    with pytest.raises(RepoNotFoundError, match="real/nope@main: not found on the Hub: the repo may be private"):
        HubClient(real_hub.endpoint).snapshot("real/nope", "main")
    with pytest.raises(RevisionNotFoundError, match="revision not found"):
        HubClient(real_hub.endpoint).snapshot(dataset.repo_id, "no-such-branch")
    with pytest.raises(AuthenticationError, match="HTTP 401: the token is not valid") as exc:
        HubClient(real_hub.endpoint, "hf_not_a_token").snapshot(dataset.repo_id, "main")
    assert "hf_not_a_token" not in str(exc.value)
