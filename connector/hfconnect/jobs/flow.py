"""The one shape every job has: start the engine, prepare the target, run the write (ONE commit, or for a Storage
Bucket prefix ONE published manifest), then report what landed; on failure, put the target back as it was and
say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .engines import (
    describe_spark,
    hfconnect_on_ray_workers,
    hfconnect_on_spark_executors,
    spark_session,
    start_daft,
    stop_daft,
)
from .runner import Job, Summary, human_bytes
from .target import BucketJobTarget, NothingCommitted, RepoJobTarget

__all__ = ["write_once"]


def write_once(job: Job, *, target: RepoJobTarget | BucketJobTarget, config: str, dataset_bytes: int,
               spark_write: Callable[[Any], None] | None = None, daft_write: Callable[[], None] | None = None,
               extra: dict[str, str] | None = None) -> Summary:
    """Run the job's write on the chosen engine and return what landed on the Hub. The target is prepared first
    (a missing token fails before any engine starts); from then on a failure puts it back as it was."""
    a = job.args
    spark = None
    ray_address = getattr(a, "ray_address", None)
    target.prepare(a.endpoint, a.retry_budget)
    try:
        if a.engine == "spark":
            assert spark_write is not None
            spark = spark_session(f"hfconnect-{job.name}", debug=a.debug)
            job.say(f"engine {describe_spark(spark)}")
        else:
            assert daft_write is not None
            job.say(f"engine {start_daft(ray_address)}")
        if a.debug:
            import hfconnect

            where = hfconnect_on_spark_executors(spark) if spark is not None else \
                hfconnect_on_ray_workers() if ray_address else ["(the driver process)"]
            job.say(f"hfconnect on the driver: {hfconnect.__file__}; on the workers: {', '.join(where)}")
        job.say(target.writing_line())
        spark_write(spark) if spark is not None else daft_write()  # type: ignore[misc]
    except BaseException:
        job.say(target.failed_line(target.rollback()))
        raise
    finally:
        if spark is not None:
            spark.stop()
        elif a.engine != "spark":
            stop_daft(ray_address)
    after = job.hub_bytes_served()
    fetched = after - job.served_at_start if after is not None and job.served_at_start is not None else None
    try:
        landed = target.landed(config)
    except NothingCommitted:
        undone = target.rollback()  # the repo or branch it created holds nothing of the job's
        if undone:
            job.say(f"removed what the job had created ({', '.join(undone)})")
        raise
    job.say(target.landed_line(landed))
    job.say(f"fetched {human_bytes(fetched)} of {human_bytes(dataset_bytes)} dataset bytes")
    return Summary(landed.rows, landed.split_rows, landed.commits, landed.commit, target.summary_target(landed),
                   fetched, dataset_bytes, extra or {})
