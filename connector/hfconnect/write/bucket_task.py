"""The task side of a write to a Storage Bucket: the same optimized Parquet as a repo write, uploaded from the task
to the bucket's Xet storage only.

Why not `batch_bucket_files(add=...)` in the task: that uploads AND adds the file to the bucket in one call,
so every task's files would show up one by one. Here a task uploads its files' bytes through hf_xet with the
bucket's Xet write token (what `batch_bucket_files` does before its batch) and keeps each file's Xet hash: the
bytes are in the CAS, no path names them, nobody sees them. The driver (`bucket_job`) adds them all by hash in
one batch. The task message is the repo path's `TaskMessage`, whose `UploadedFile.operation` is a `BucketUpload`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from ..errors import HubRequestError
from ..hub import xet
from ..hub.client import HubClient
from ..options import WriteOptions
from .parallel import ParallelFileWriter
from .parquet_writer import FinishedFile
from .task import SplitFileWriter, TaskMessage, UploadedFile, run_split_writer

__all__ = ["BucketParallelWriter", "BucketUpload", "upload_to_bucket", "write_bucket_task"]

log = logging.getLogger("hfconnect.write")


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


def _upload_files(options: WriteOptions, files: list[FinishedFile], first: int, *, job_id: str, partition_id: int,
                  ) -> list[UploadedFile]:
    """Upload finished files to the bucket's Xet storage, one by one, then delete them (`task.Upload`)."""
    out = []
    try:
        for i, f in enumerate(files):
            what = f"upload of a {f.size}-byte file to bucket {options.repo} (task {partition_id}, file {first + i})"
            done = upload_to_bucket(options.client, options.repo, f.local_path, sha256=f.sha256, job_id=job_id,
                                    what=what)
            out.append(UploadedFile(done, f.sha256, f.size, f.rows, f.row_groups, first + i))
        return out
    finally:
        for f in files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f.local_path)


def write_bucket_task(batches: Iterable[pa.RecordBatch], schema: pa.Schema, options: WriteOptions, *, job_id: str,
                      partition_id: int, attempt_id: int = 0, tmp_dir: str | None = None,
                      at_least_one_file: bool = False) -> TaskMessage:
    """`write_task` for a bucket (`options.repo` is the bucket id): the same rolled files, uploaded on a background
    thread as each closes (see `SplitFileWriter`), to the bucket's Xet storage."""
    upload = functools.partial(_upload_files, options, job_id=job_id, partition_id=partition_id)
    writer = SplitFileWriter(schema, options, split="", job_id=job_id, partition_id=partition_id,
                             attempt_id=attempt_id, tmp_dir=tmp_dir, upload=upload)
    return run_split_writer(writer, batches, schema, job_id=job_id, partition_id=partition_id, attempt_id=attempt_id,
                            at_least_one_file=at_least_one_file)


class BucketParallelWriter(ParallelFileWriter):
    """`ParallelFileWriter` whose files go to a bucket's Xet storage (Daft's native runner)."""

    _task = staticmethod(write_bucket_task)
