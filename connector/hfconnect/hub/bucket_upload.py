"""The bytes of a file into a Storage Bucket's Xet storage, at no path: what a bucket write's task does with each of
its files (the driver adds them all by hash in one batch: `write.bucket_job`, `hub.bucket_admin`).

Why not `batch_bucket_files(add=...)`: that uploads AND adds the file in one call, so every task's files would show
up one by one. This uploads through hf_xet with the bucket's Xet write token (what `batch_bucket_files` does before
its batch) and keeps each file's Xet hash: the bytes are in the CAS, no path names them, nobody sees them.
huggingface_hub has no public call for that step, so this one uses its Xet session helpers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import HubRequestError
from . import xet
from .client import HubClient

__all__ = ["BucketUpload", "upload_to_bucket"]


@dataclass(frozen=True)
class BucketUpload:
    """A file whose bytes are in the bucket's Xet storage, not yet at any path of it."""

    xet_hash: str
    size: int


def upload_to_bucket(client: HubClient, bucket_id: str, source: str | bytes, *, sha256: str | None, job_id: str,
                     what: str) -> BucketUpload:
    """Upload a local file (or bytes) to the Xet storage of `bucket_id`, adding it nowhere; with the job's own
    Xet cache, and once more with a fresh one when the storage refused the shard for a stale cache (as
    `task._send` does for repos)."""
    if not xet.in_use():
        raise HubRequestError(f"{what}: Storage Buckets store files through Xet only, and huggingface_hub does not "
                              "use hf_xet here (HF_HUB_DISABLE_XET is set, or hf_xet is not installed)")
    xet.prepare_process(client.policy)
    xet.mark_started()
    where = f"bucket {bucket_id}"

    def send() -> BucketUpload:
        return client.call(what, _xet_upload, client, bucket_id, source, sha256, where=where, xet=True)

    with xet.cache_scope(job_id) as cache:
        try:
            return send()
        except HubRequestError as exc:
            if not exc.stale_xet_cache or not cache.renew():
                raise
        return send()


def _xet_upload(client: HubClient, bucket_id: str, source: str | bytes, sha256: str | None) -> BucketUpload:
    """hf_xet's upload commit for one file, as huggingface_hub's `_batch_bucket_files` makes it (without the
    batch): the bucket's Xet write token, refreshed from the Hub with the user's token."""
    import hf_xet
    from huggingface_hub.utils import build_hf_headers
    from huggingface_hub.utils._xet import (
        XetTokenType,
        abort_xet_session,
        get_xet_session,
        xet_connection_info_refresh_url,
        xet_headers_without_auth,
    )

    headers = build_hf_headers(token=client.token or False, library_name="hfconnect")
    refresh_url = xet_connection_info_refresh_url(token_type=XetTokenType.WRITE, repo_id=bucket_id,
                                                  repo_type="bucket", endpoint=client.endpoint)
    digest = sha256 or hf_xet.COMPUTE_SHA256
    try:
        with get_xet_session().new_upload_commit(token_refresh_url=refresh_url, token_refresh_headers=headers,
                                                 custom_headers=xet_headers_without_auth(headers),
                                                 progress_callback=None) as commit:
            handle = (commit.start_upload_bytes(source, sha256=digest) if isinstance(source, bytes)
                      else commit.start_upload_file(source, sha256=digest))
        info = handle.result().xet_info
    except KeyboardInterrupt:
        abort_xet_session()
        raise
    return BucketUpload(info.hash, int(info.file_size))
