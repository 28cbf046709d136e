"""`hfconnect.spark.write(df, repo, ...)`: the same one-commit write as `df.write.format("huggingface")`, run
through `mapInArrow`.

Why it exists: Spark hands a Python data source writer its rows more slowly than it hands them to a
`mapInArrow` function (the same pyarrow writer is slower as a data source: bench/MEASUREMENTS.md; scripts/bench_write.py
prints both). Here every task writes and uploads its files exactly as the format's tasks do (`write_task`), and
returns a row per file it uploaded; the driver collects them and makes the ONE commit through the same
`WriteJob` (mode checks before any row is computed, conflict detection, landed check, card). Spark keeps one
result per partition, from the attempt that succeeded, and `WriteJob` keeps one message per partition: a
retried or speculative task never reaches the commit twice. A failed job commits nothing.

Spark prints the function's name in explain(), never its closure (where the token travels). Over Spark Connect
the closure travels to the server inside the plan, as `.option("token", ...)` does: see docs/writing.md.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

__all__ = ["write"]


def write(df: Any, repo: str, *, mode: str = "append", **options: Any) -> Any:
    """Write `df` to the dataset `repo` in one commit; returns the `CommitResult` (its `commit_sha` is None when
    nothing was committed: mode ignore on existing data, or split_column with no rows). `repo` may name a Storage
    Bucket prefix instead, `buckets/ns/name/some/prefix` (or `hf://buckets/...`): then the files are published
    at once through the prefix's manifest (see `hfconnect.write.bucket_job`) and a `BucketWriteResult` returned.

    Keyword options as for `df.write.format("huggingface")` (split, config, data_dir, revision, token, endpoint,
    max_file_size, row_group_bytes, compression, cdc, split_column, create_pr, commit_message, features, ...); `mode` is
    append, overwrite, error/errorifexists or ignore."""
    from ..features import pop_features_option
    from ..options import WriteOptions
    from ..write import WriteJob
    from ..write.bucket_target import check_repo_only_options, parse_bucket_target
    from .workers import check_worker_python
    from .writer import arrow_schema

    target = parse_bucket_target(repo)  # buckets/ns/name[/prefix]: a Storage Bucket prefix (write.bucket_job)
    if target is not None:
        check_repo_only_options(options, target)
    check_worker_python(df.sparkSession)  # the tasks import hfconnect: a worker Python without it fails here
    options = dict(options)
    features = pop_features_option(options)
    write_options = WriteOptions.build(repo=target.bucket_id if target else repo, mode=mode, engine="spark",
                                       **options)
    schema = arrow_schema(df.schema, features)  # what the format's writer is given too
    job: Any
    if target is not None:
        from ..write.bucket_job import BucketWriteJob

        job = BucketWriteJob(write_options, target)
    else:
        job = WriteJob(write_options)
    schema = job.begin(schema)  # errors here come before any row is computed or uploaded
    to_bucket = target is not None
    if job.skip:
        return job.commit([], schema)
    job_id = job.job_id

    def write_partition(batches: Iterator[Any]) -> Iterator[Any]:
        # absolute imports: Spark ships this function by value to the tasks
        import pickle

        import pyarrow as pa
        from pyspark import TaskContext

        from hfconnect.spark.error_text import message_first
        from hfconnect.write import write_task
        from hfconnect.write.bucket_task import write_bucket_task

        ctx = TaskContext.get()
        task = write_bucket_task if to_bucket else write_task
        with message_first():  # an hfconnect error reaches the user as its message, not after our frames
            message = task(batches, schema, write_options, job_id=job_id,
                                 partition_id=ctx.partitionId() if ctx else 0,
                                 attempt_id=ctx.attemptNumber() if ctx else 0)
        # One row per file (small files carry their bytes): no row nears Arrow's 2 GiB per value, however many
        # files a task rolls; a task that wrote none still says so.
        for file in message.files or [None]:
            yield pa.record_batch({
                "partition": pa.array([message.partition_id], pa.int64()),
                "attempt": pa.array([message.attempt_id], pa.int32()),
                "fingerprint": pa.array([message.schema_fingerprint], pa.string()),
                "file": pa.array([None if file is None else pickle.dumps(file)], pa.binary())})

    try:
        rows = df.mapInArrow(write_partition, RESULT_SCHEMA).collect()
        messages = _task_messages(job_id, rows)
    except BaseException:
        job.abort([])
        raise
    return job.commit(messages, schema)


RESULT_SCHEMA = "partition long, attempt int, fingerprint string, file binary"


def _task_messages(job_id: str, rows: list[Any]) -> list[Any]:
    """The tasks' rows (one per file) back into one TaskMessage per task, as the format's writer hands them over.
    Spark returns each partition's rows from the one attempt that succeeded."""
    from ..write import TaskMessage

    files: dict[tuple[int, int], list[Any]] = {}
    fingerprints: dict[tuple[int, int], str] = {}
    for row in rows:
        key = (row.partition, row.attempt)
        fingerprints[key] = row.fingerprint
        files.setdefault(key, [])
        if row.file is not None:
            files[key].append(pickle.loads(row.file))
    return [TaskMessage(job_id, p, a, fingerprints[(p, a)], tuple(files[(p, a)])) for p, a in sorted(files)]
