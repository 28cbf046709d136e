"""A streaming query's micro-batch -> ONE Hub commit, exactly once across driver crashes and restarts.

Each batch goes through the write path (`WriteJob`: tasks upload, the driver commits once with parent_commit,
412 rebase, the "did it land" check by job id). What streaming adds: the commit description carries the query
id and batch id (`history.batch_marker`), and before committing batch N the driver looks for the query's
newest batch in the branch history: if it is N (or later), the batch landed before a crash that came ahead of
Spark's checkpoint, and it is not committed again. Empty batches commit nothing.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime

import pyarrow as pa

from ..errors import HubRequestError
from ..options import WriteOptions
from ..write.commit import CommitResult, WriteJob
from ..write.task import TaskMessage, schema_fingerprint
from .history import QueryCommit, batch_marker, newest_query_commit

__all__ = ["COMMITS_PER_HOUR", "batch_job_id", "commit_batch", "prepare_target"]

log = logging.getLogger("hfconnect.stream")
COMMITS_PER_HOUR = 100  # the Hub's limit on commits per repo is of this order (not documented exactly)
_warned: set[str] = set()
_warned_lock = threading.Lock()
_prepared: dict[tuple[str | None, ...], pa.Schema] = {}


def prepare_target(options: WriteOptions, schema: pa.Schema) -> pa.Schema:
    """Before a query's first batch runs: the token can write, the repo exists (tasks upload into it) and, when
    the split has files, the stream's schema can be appended to them; errors come here, before any row is
    computed. Once per process and target (Spark makes the writer again for every batch). Returns the schema
    the tasks write (the split's file types where the stream's widen to them)."""
    o = options
    key = (o.endpoint, o.repo, o.revision, o.config, o.split, o.data_dir or "", o.split_column or "",
           schema_fingerprint(schema))
    if key not in _prepared:
        _prepared[key] = WriteJob(replace(options, mode="append")).begin(schema) or schema
    return _prepared[key]


def batch_job_id(query_id: str, batch_id: int) -> str:
    """The write job id of one micro-batch: the same on every attempt of that batch, different for every other."""
    return hashlib.sha256(f"{query_id}/{batch_id}".encode()).hexdigest()[:16]


def commit_batch(options: WriteOptions, query_id: str, batch_id: int, messages: list[TaskMessage],
                 schema: pa.Schema) -> CommitResult | None:
    """Commit batch `batch_id` of query `query_id` once. None when the batch had no rows (no commit); a
    CommitResult with no files when the batch had landed already (its commit sha, as found in the history)."""
    rows = sum(m.rows for m in messages)
    if rows == 0:
        log.debug("hfconnect: streaming batch %d of query %s is empty: no commit", batch_id, query_id)
        return None
    where = f"dataset {options.repo}@{options.revision}"
    newest = newest_query_commit(options.client, options.repo, options.revision, query_id)
    if newest is not None and newest.batch_id >= batch_id:
        log.warning("hfconnect: batch %d of streaming query %s is already on %s (commit %s, batch %d): the query "
                    "stopped after the Hub commit and before its checkpoint; not committing it again", batch_id,
                    query_id, where, newest.sha, newest.batch_id)
        return CommitResult(newest.sha if newest.batch_id == batch_id else None, (), (), 0, 0)
    _warn_if_too_frequent(newest, query_id, batch_id, where)
    message = options.commit_message or f"hfconnect: streaming batch {batch_id} to {options.config}/{options.split}"
    job = WriteJob(replace(options, mode="append", commit_message=message), batch_job_id(query_id, batch_id),
                   description=batch_marker(query_id, batch_id), file_tag=f"{query_id[:8]}-b{batch_id:06d}")
    try:
        return job.commit(messages, job.begin(schema) or schema)
    except HubRequestError as exc:
        raise HubRequestError(
            f"batch {batch_id} of streaming query {query_id} was not committed to {where}: {exc.message}. The query "
            "stops; restarting it from its checkpoint commits this batch exactly once (hfconnect looks for the "
            "batch's marker in the history first)", **exc.details) from None


def _warn_if_too_frequent(newest: QueryCommit | None, query_id: str, batch_id: int, where: str) -> None:
    """A WARNING, once per query, when this query commits more often than the Hub allows per repo."""
    if newest is None or newest.created_at is None or query_id in _warned:
        return
    gap = (datetime.now(UTC) - newest.created_at).total_seconds()
    least = 3600 / COMMITS_PER_HOUR
    if gap >= least:
        return
    with _warned_lock:
        if query_id in _warned:
            return
        _warned.add(query_id)
    log.warning("hfconnect: streaming query %s commits batch %d to %s %.0fs after batch %d: the Hub takes about %d "
                "commits per hour per repo (one per %.0fs), and a commit refused for its rate fails the batch. Use "
                "a longer trigger, e.g. trigger(processingTime='%d seconds'), or fewer queries per repo",
                query_id, batch_id, where, max(0.0, gap), newest.batch_id, COMMITS_PER_HOUR, least, least)
