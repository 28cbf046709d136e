"""The engines a job runs on: a Spark session (whatever spark-submit set up) or Daft, natively or on a Ray
cluster, with hfconnect shipped to the Ray workers.

Spark: `--py-files hfconnect.zip` puts hfconnect on the executors' path, but Spark looks for `pyspark_*` data
sources (auto-registration) in a worker started without those files, so a job registers the source itself.
Ray: the workers get the hfconnect package directory through `runtime_env={"py_modules": [...]}`, the
driver's `HF_HUB_*` settings (e.g. HF_HUB_DISABLE_XET, for a hub without Xet) and the `HF_XET_*` settings the
user gave hf_xet (not those hfconnect set itself, nor HF_XET_CACHE); tokens travel inside the tasks.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .runner import JobFailed

__all__ = ["hfconnect_on_ray_workers", "hfconnect_on_spark_executors", "ray_runtime_env", "spark_session",
           "start_daft", "worker_env"]


def spark_session(app: str, debug: bool = False) -> Any:
    """The session spark-submit configured (or local[*] under plain python), with hfconnect's source registered
    and filter pushdown on. Without `debug`, PySpark's own log lines of a failed query (its whole JVM stack as
    JSON) are silenced: the job prints one line."""
    from pyspark.logger import PySparkLogger
    from pyspark.sql import SparkSession

    from ..spark import register

    # Under plain `python jobs/x.py` (no spark-submit) Spark starts here: its workers run this very Python.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.appName(app)
             .config("spark.sql.python.filterPushdown.enabled", "true")
             .config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    if not debug:
        for name in ("DataFrameQueryContextLogger", "SQLQueryContextLogger"):
            PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    register(spark)
    return spark


def describe_spark(spark: Any) -> str:
    sc = spark.sparkContext
    return f"spark {spark.version} on {sc.master} (default parallelism {sc.defaultParallelism})"


def _where_imported() -> str:
    import hfconnect

    return str(hfconnect.__file__)


def hfconnect_on_spark_executors(spark: Any) -> list[str]:
    """Where the executors' Python workers import hfconnect from (one tiny task per default-parallelism slot)."""
    n = max(1, spark.sparkContext.defaultParallelism)
    return sorted(set(spark.sparkContext.parallelize(range(n), n).map(lambda _: _where_imported()).collect()))


def ray_runtime_env() -> dict[str, Any]:
    """What Ray workers need to run hfconnect's tasks: the package itself and the driver's settings (`worker_env`)."""
    import hfconnect

    package = Path(hfconnect.__file__).parent
    if not package.is_dir():
        raise JobFailed(f"hfconnect was imported from {hfconnect.__file__}: Ray ships a package from a directory, "
                        "so run Daft jobs with hfconnect installed (pip install) on the machine that submits them")
    return {"py_modules": [str(package)], "env_vars": worker_env(os.environ)}


def worker_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The driver's settings Ray workers get: every HF_HUB_* variable, and the HF_XET_* ones the user set. Not
    those hfconnect set itself (listed in HFCONNECT_XET_SET: each worker derives its own from the job's retry
    policy), nor HF_XET_CACHE (a worker's cache is its own: hfconnect's per job, or wherever the worker's own
    environment says)."""
    from ..hub.xet import CACHE, OURS

    ours = set(filter(None, environ.get(OURS, "").split(",")))
    return {k: v for k, v in environ.items()
            if k.startswith("HF_HUB_") or (k.startswith("HF_XET_") and k not in ours and k != CACHE)}


def start_daft(ray_address: str | None) -> str:
    """Daft's native runner, or its Ray runner on the cluster at `ray_address` (hfconnect shipped to it)."""
    if not ray_address:
        return "daft (native runner)"
    import daft
    import ray

    ray.init(address=ray_address, runtime_env=ray_runtime_env(), log_to_driver=False)
    daft.set_runner_ray(address=ray_address)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    cpus = sum(n.get("Resources", {}).get("CPU", 0) for n in nodes)
    return f"daft on ray {ray_address} ({len(nodes)} nodes, {cpus:.0f} CPUs)"


def stop_daft(ray_address: str | None) -> None:
    if ray_address:
        import ray

        ray.shutdown()


def hfconnect_on_ray_workers() -> list[str]:
    import ray

    where = ray.remote(num_cpus=0)(_where_imported)
    return sorted(set(ray.get([where.remote() for _ in range(4)])))
