"""Spark adapter: `spark.read.format("huggingface")` (registered automatically through pyspark_hfconnect).

If pyspark_huggingface is installed as well, both register the name "huggingface" and Spark keeps the one it
finds last on sys.path; `register(spark)` makes hfconnect the one that answers (explicit registration wins).

Writes from another Python thread (orchestrators run actions from worker threads): Spark 4.3 looks Python data
sources up, for a write, through the calling thread's ACTIVE session, and a new Python thread has none (PySpark
pins each Python thread to a new JVM thread; the active session is a thread-local there). The write then fails
with `[DATA_SOURCE_NOT_FOUND] huggingface`; reads pass their session explicitly and work. No code of hfconnect
runs in that thread before Spark's lookup, so it cannot be fixed from here: call `activate(spark)` at the start
of a thread that writes.

A Python without hfconnect: Spark starts its Python workers with PYSPARK_PYTHON as it was when the session was
created, else `python3` from PATH, whatever Python runs the driver. With hfconnect installed in a virtualenv that
is not activated, the format is then `[DATA_SOURCE_NOT_FOUND]` (the lookup runs in that Python) or, once
registered, `No module named 'hfconnect'` from a worker. `register`, `read` and `write` check that Python first
on a local master (`check_worker_python`) and say what to set.

`HuggingFaceDataSource` is imported on first use, so that the pure-Arrow `hfconnect.spark.types` imports
without pyspark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .workers import check_worker_python, cluster_parallelism

if TYPE_CHECKING:
    from .read_function import read
    from .source import HuggingFaceDataSource
    from .write_function import write

__all__ = ["HuggingFaceDataSource", "activate", "check_worker_python", "read", "register", "write"]


def __getattr__(name: str) -> Any:
    if name == "HuggingFaceDataSource":
        from .source import HuggingFaceDataSource

        return HuggingFaceDataSource
    if name == "read":
        from .read_function import read

        return read
    if name == "write":
        from .write_function import write

        return write
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def activate(spark: Any) -> None:
    """Make `spark` the calling thread's active session, so `df.write.format("huggingface")` works from it.

    PySpark has no public setter for the JVM-side active session: this reaches through `spark._jvm`, the one
    place hfconnect does (checked on pyspark 4.3; tests/spark/test_threads.py fails if Spark changes). On a
    Spark Connect session it does nothing: writes from any client thread work there (tests/connect).
    """
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        return  # a Spark Connect client: the server runs each plan in its session, whatever the client thread
    spark._jvm.SparkSession.setActiveSession(spark._jsparkSession)


def register(spark: Any) -> None:
    """Make `format("huggingface")` hfconnect's in this session, whatever else is installed, and size its reads
    to this cluster.

    Spark hands its planning processes no session conf: auto-registered, hfconnect cuts one shard per core of the
    driver machine. Registered here, the source carries `spark.sparkContext.defaultParallelism` (the executors'
    cores on a standalone cluster) in the class Spark pickles to those processes.
    """
    from .source import HuggingFaceDataSource

    check_worker_python(spark)
    cores = cluster_parallelism(spark)
    source = HuggingFaceDataSource if cores is None else type(
        "HuggingFaceDataSourceSized", (HuggingFaceDataSource,),
        {"parallelism": cores, "__doc__": HuggingFaceDataSource.__doc__})
    spark.dataSource.register(source)
