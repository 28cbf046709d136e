"""A Storage Bucket as a write changes it: whether it exists, creating and deleting it, and the batches that add
and delete its files by Xet hash. Every call goes through `HubClient.call` (the one retry policy and error
mapping). The read side (paths, listings, pinned reads, manifests) is `hub.buckets`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import RepoNotFoundError

if TYPE_CHECKING:
    from .client import HubClient

__all__ = ["BatchFailure", "batch_bucket_files", "bucket_exists", "bucket_is_empty", "create_bucket", "delete_bucket"]

# One operation of a batch the Hub refused: {"path": ..., "error": ...} and whatever else it said (a status).
BatchFailure = dict[str, Any]


def _where(bucket_id: str) -> str:
    return f"bucket {bucket_id}"


def bucket_exists(client: HubClient, bucket_id: str) -> bool:
    """Whether the bucket exists (and the token may see it): False on the Hub's "not found" only; any other
    failure raises."""
    try:
        client.call("bucket info", client.api().bucket_info, bucket_id, where=_where(bucket_id))
    except RepoNotFoundError:
        return False
    return True


def create_bucket(client: HubClient, bucket_id: str, *, private: bool = False) -> None:
    """Create the bucket (a 409 when it exists is the caller's to read)."""
    client.call("create bucket", client.api().create_bucket, bucket_id, private=private, where=_where(bucket_id))


def delete_bucket(client: HubClient, bucket_id: str) -> None:
    client.call("delete bucket", client.api().delete_bucket, bucket_id, where=_where(bucket_id))


def bucket_is_empty(client: HubClient, bucket_id: str) -> bool:
    """Whether the bucket holds no file at all (reads the first entry of its listing only)."""
    api = client.api()
    first = client.call("tree listing", lambda: next(iter(api.list_bucket_tree(bucket_id, recursive=True)), None),
                        where=_where(bucket_id))
    return first is None


def batch_bucket_files(client: HubClient, bucket_id: str, *, what: str, where: str, add: Sequence[Any] = (),
                       delete: Sequence[str] = ()) -> list[BatchFailure]:
    """ONE `batch_bucket_files` call (huggingface_hub sends more than 1,000 operations as several requests): adds
    by Xet hash (huggingface_hub's `_BucketAddFile`) and deletions by path. Re-sent under the retry policy, which
    is safe: an add of the same hash is the same, and a delete already done is reported as a failure saying the
    path is gone. Returns the operations the Hub refused."""
    from huggingface_hub.errors import BucketBatchError

    def send() -> list[BatchFailure]:
        try:
            client.api().batch_bucket_files(bucket_id, add=list(add), delete=list(delete))
        except BucketBatchError as exc:
            return list(getattr(exc, "failures", []) or [{"path": "?", "error": str(exc)}])
        return []

    return client.call(what, send, where=where)
