"""A streaming query's micro-batch -> ONE published batch of a Storage Bucket prefix, exactly once across restarts.

Each batch goes through the bucket write path (`BucketWriteJob`: tasks upload to the bucket's Xet storage, the
driver adds the files, then switches the prefix's manifest), in mode append. A bucket has no commit history to
look a batch up in, so the manifest that publishes batch N records it (`streams: {query id: N}`,
`hub.bucket_manifest`), and before publishing batch N the driver reads the manifest: if it records N (or later)
for this query, the batch was published before a crash that came ahead of Spark's checkpoint, and it is not
published again. Empty batches publish nothing. A batch whose publishing failed ambiguously (the job's
`maybe_published`: its manifest may have landed) stops the query saying so; the restart settles it the same way,
through the manifest's record.
"""

from __future__ import annotations

import logging

import pyarrow as pa

from ..errors import HubRequestError
from ..options import WriteOptions
from ..write.bucket_job import BucketWriteJob, BucketWriteResult
from ..write.bucket_target import BucketTarget
from ..write.task import TaskMessage, schema_fingerprint

__all__ = ["commit_bucket_batch", "prepare_bucket_target", "published_batch"]

log = logging.getLogger("hfconnect.stream")
_prepared: dict[tuple[str | None, ...], pa.Schema] = {}


def prepare_bucket_target(options: WriteOptions, target: BucketTarget, schema: pa.Schema) -> pa.Schema:
    """Before a query's first batch: Xet, the token, the bucket (created if missing), the manifest and, when the
    prefix has files, the stream's columns are checked, so errors come before any row is computed. Once per
    process and target (Spark makes the writer again for every batch)."""
    key = (options.endpoint, str(target), schema_fingerprint(schema))
    if key not in _prepared:
        _prepared[key] = BucketWriteJob(options, target).begin(schema) or schema
    return _prepared[key]


def published_batch(options: WriteOptions, target: BucketTarget, query_id: str) -> int | None:
    """The newest batch of `query_id` the prefix's manifest records as published; None when it records none."""
    state = BucketWriteJob(options, target).state()
    if state.manifest is None:
        return None
    return state.manifest.streams.get(query_id)


def commit_bucket_batch(options: WriteOptions, target: BucketTarget, query_id: str, batch_id: int,
                        messages: list[TaskMessage], schema: pa.Schema) -> BucketWriteResult | None:
    """Publish batch `batch_id` of query `query_id` once. None when the batch had no rows (nothing published); a
    result with no files when the manifest already records the batch (published before a restart)."""
    rows = sum(m.rows for m in messages)
    if rows == 0:
        log.debug("hfconnect: streaming batch %d of query %s is empty: nothing published", batch_id, query_id)
        return None
    newest = published_batch(options, target, query_id)
    if newest is not None and newest >= batch_id:
        log.warning("hfconnect: batch %d of streaming query %s is already published to %s (its manifest records "
                    "batch %d): the query stopped after publishing and before its checkpoint; not publishing it "
                    "again", batch_id, query_id, target, newest)
        return BucketWriteResult(target.bucket_id, target.prefix, (), (), 0, None)
    job = BucketWriteJob(options, target)  # a fresh job id per attempt: a crashed attempt's names never collide
    job.file_tag = f"{query_id[:8]}-b{batch_id:06d}"
    job.stream = (query_id, batch_id)
    try:
        job.begin(schema)
        return job.commit(messages, schema)
    except HubRequestError as exc:
        if job.maybe_published or job.published:  # its manifest, recording this batch, may be there
            raise HubRequestError(
                f"batch {batch_id} of streaming query {query_id} may have been published to {target}: "
                f"{exc.message}. The query stops; restarting it from its checkpoint settles it: hfconnect reads the "
                "batch's id in the prefix's manifest first and publishes the batch only if it is not there (a "
                "landed manifest records it), so the batch lands exactly once", **exc.details) from None
        raise HubRequestError(
            f"batch {batch_id} of streaming query {query_id} was not published to {target}: {exc.message}. The "
            "query stops; restarting it from its checkpoint publishes this batch exactly once (hfconnect looks for "
            "the batch's id in the prefix's manifest first)", **exc.details) from None
