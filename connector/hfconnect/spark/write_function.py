"""`hfconnect.spark.write(df, repo, ...)`: the same one-commit write as `df.write.format("huggingface")`, run
through `mapInArrow`.

Why it exists: Spark hands a Python data source writer its rows more slowly than it hands them to a
`mapInArrow` function (the same pyarrow writer measured ~0.8x on the data source path; scripts/bench_write.py
prints both). Here every task writes and uploads its files exactly as the format's tasks do (`write_task`), and
returns its message as one binary row; the driver collects them and makes the ONE commit through the same
`WriteJob` (mode checks before any row is computed, conflict detection, landed check, card). Spark keeps one
result per partition, from the attempt that succeeded, and `WriteJob` keeps one message per partition: a
retried or speculative task never reaches the commit twice. A failed job commits nothing.

Spark prints the function's name in explain(), never its closure (where the token travels).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

__all__ = ["write"]


def write(df: Any, repo: str, *, mode: str = "append", **options: Any) -> Any:
    """Write `df` to the dataset `repo` in one commit; returns the `CommitResult` (its `commit_sha` is None when
    nothing was committed: mode ignore on existing data, or split_column with no rows).

    Keyword options as for `df.write.format("huggingface")` (split, config, data_dir, revision, token, endpoint,
    max_file_size, row_group_bytes, compression, cdc, split_column, create_pr, commit_message, ...); `mode` is
    append, overwrite, error/errorifexists or ignore."""
    from pyspark.sql.pandas.types import to_arrow_schema

    from ..options import WriteOptions
    from ..write import WriteJob

    write_options = WriteOptions.build(repo=repo, mode=mode, engine="spark", **options)
    schema = to_arrow_schema(df.schema, timezone="UTC")  # what the format's writer is given too
    job = WriteJob(write_options)
    schema = job.begin(schema)  # errors here come before any row is computed or uploaded
    if job.skip:
        return job.commit([], schema)
    job_id = job.job_id

    def write_partition(batches: Iterator[Any]) -> Iterator[Any]:
        # absolute imports: Spark ships this function by value to the tasks
        import pickle

        import pyarrow as pa
        from pyspark import TaskContext

        from hfconnect.write import write_task

        ctx = TaskContext.get()
        message = write_task(batches, schema, write_options, job_id=job_id,
                             partition_id=ctx.partitionId() if ctx else 0,
                             attempt_id=ctx.attemptNumber() if ctx else 0)
        yield pa.record_batch({"message": pa.array([pickle.dumps(message)], pa.binary())})

    try:
        rows = df.mapInArrow(write_partition, "message binary").collect()
    except BaseException:
        job.abort([])
        raise
    return job.commit([pickle.loads(row.message) for row in rows], schema)
