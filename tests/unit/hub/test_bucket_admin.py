"""hub.bucket_admin: whether a Storage Bucket exists, creating, emptiness and deleting it, and the batches that
add and delete its files (the refused operations returned, not raised), against the local hub's own app run
in-process."""

from __future__ import annotations

import pytest

from hfconnect.errors import AuthenticationError, HubRequestError, RepoNotFoundError
from hfconnect.hub import bucket_admin
from hfconnect.hub.client import HubClient
from hfconnect.hub.retry import RetryPolicy
from tests.unit.inprocess_hub import READ_TOKEN, WRITE_TOKEN, InProcessHub

FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05, budget=1.0)


def test_a_bucket_is_created_found_emptied_and_deleted(inproc_hub: InProcessHub) -> None:
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    bucket = inproc_hub.api().whoami()["name"] + "/unit"
    assert not bucket_admin.bucket_exists(client, bucket)
    bucket_admin.create_bucket(client, bucket, private=True)
    assert bucket_admin.bucket_exists(client, bucket) and bucket_admin.bucket_is_empty(client, bucket)
    with pytest.raises(HubRequestError) as taken:
        bucket_admin.create_bucket(client, bucket)
    assert taken.value.status == 409
    assert bucket_admin.batch_bucket_files(client, bucket, what="add", where=f"bucket {bucket}",
                                           add=[(b"1", "p/a.txt"), (b"22", "p/b.txt")]) == []
    assert not bucket_admin.bucket_is_empty(client, bucket)
    refused = bucket_admin.batch_bucket_files(client, bucket, what="delete", where=f"bucket {bucket}",
                                              delete=["p/a.txt", "p/gone.txt"])
    assert [f["path"] for f in refused] == ["p/gone.txt"]  # refused operations come back, not raised
    assert [f.path for f in inproc_hub.api().list_bucket_tree(bucket, recursive=True)] == ["p/b.txt"]
    bucket_admin.delete_bucket(client, bucket)
    assert not bucket_admin.bucket_exists(client, bucket)
    with pytest.raises(RepoNotFoundError):
        bucket_admin.bucket_is_empty(client, bucket)


def test_a_read_token_cannot_create_a_bucket(inproc_hub: InProcessHub) -> None:
    reader = HubClient(inproc_hub.endpoint, READ_TOKEN, FAST)
    with pytest.raises(AuthenticationError) as refused:
        bucket_admin.create_bucket(reader, inproc_hub.api().whoami()["name"] + "/nope")
    assert refused.value.status in (401, 403)


def test_a_batch_rides_out_a_transient_failure(inproc_hub: InProcessHub) -> None:
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    bucket = inproc_hub.api().create_bucket("me/retry").bucket_id
    inproc_hub.set_faults([{"route": "commit", "action": "status", "status": 503, "times": 1, "match": "/batch"}])
    assert bucket_admin.batch_bucket_files(client, bucket, what="add", where="b", add=[(b"x", "x.txt")]) == []
    rule = inproc_hub.state.faults.rules[0]
    assert (rule.fired, rule.seen) == (1, 2)  # refused once, then sent again and taken
    assert not bucket_admin.bucket_is_empty(client, bucket)
