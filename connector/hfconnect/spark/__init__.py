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

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .function import read
    from .source import HuggingFaceDataSource
    from .write_function import write

__all__ = ["HuggingFaceDataSource", "activate", "check_worker_python", "read", "register", "write"]


def __getattr__(name: str) -> Any:
    if name == "HuggingFaceDataSource":
        from .source import HuggingFaceDataSource

        return HuggingFaceDataSource
    if name == "read":
        from .function import read

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


def cluster_parallelism(spark: Any) -> int | None:
    """`spark.sparkContext.defaultParallelism`, or None where there is no SparkContext (Spark Connect)."""
    try:
        return int(spark.sparkContext.defaultParallelism)
    except Exception:  # noqa: BLE001 - Connect raises its own error types
        return None


# (python, where PATH finds it, extra PYTHONPATH) of the worker Pythons that import hfconnect: a failure is not
# kept, so installing hfconnect there and calling again (in the same notebook) passes
_CHECKED: set[tuple[str, str, str]] = set()


def check_worker_python(spark: Any) -> None:
    """On a local master, raise WorkerPythonError now if the Python Spark starts its workers with cannot import
    hfconnect, instead of a worker's `No module named 'hfconnect'` at the first action.

    At most one subprocess per worker Python (none when it is the driver's own); nothing on Spark Connect (the
    server's Python is not this machine's business) nor on a cluster master (its executors' Python is elsewhere).
    """
    if type(spark).__module__.startswith("pyspark.sql.connect"):
        return
    try:
        sc = spark.sparkContext
        master = str(sc.master)
    except Exception:  # noqa: BLE001 - no SparkContext here (Connect and test doubles raise their own types)
        return
    if not master.startswith("local"):
        return
    python = str(getattr(sc, "pythonExec", None) or os.environ.get("PYSPARK_PYTHON") or "python3")
    paths = _spark_py_files()
    key = (python, str(shutil.which(python)), os.pathsep.join(paths))
    if key in _CHECKED:
        return
    wrong = _cannot_import(python, paths)
    if wrong:
        from ..errors import WorkerPythonError

        raise WorkerPythonError(wrong, python=python)
    _CHECKED.add(key)


def _spark_py_files() -> list[str]:
    """The driver's path entries Spark ships to its workers too (--py-files, addPyFile): they are importable there."""
    try:
        from pyspark import SparkFiles

        root = SparkFiles.getRootDirectory()
    except Exception:  # noqa: BLE001 - no SparkFiles root: nothing was shipped
        return []
    return [p for p in sys.path if p.startswith(root)]


def _cannot_import(python: str, paths: list[str]) -> str:
    """Why the workers' `python` cannot import hfconnect, or "" if it can."""
    resolved = python if os.sep in python else shutil.which(python)
    if resolved is not None and os.path.abspath(resolved) == os.path.abspath(sys.executable):
        return ""  # this very Python, which imported hfconnect (a venv's python and its base differ: no realpath)
    if os.environ.get("PYSPARK_PYTHON") == python:
        who = f"PYSPARK_PYTHON={python}"
    elif python == "python3":
        who = f"python3 from PATH ({resolved or 'not found'}; PYSPARK_PYTHON was unset when the session started)"
    else:
        who = f"{python} (PYSPARK_PYTHON when the session started)"
    fix = (f"set PYSPARK_PYTHON={sys.executable} (the Python hfconnect is installed in) before the SparkSession is "
           "created (stop this one first; in a script: os.environ['PYSPARK_PYTHON'] = sys.executable before "
           f"SparkSession.builder; with spark-submit: --conf spark.pyspark.python={sys.executable}), or activate "
           "the virtualenv hfconnect is installed in")
    if resolved is None:
        return f"Spark runs its Python workers with {who}, which is not on PATH: {fix}"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
    code = "import importlib.util; print(importlib.util.find_spec('hfconnect') is not None)"
    try:
        out = subprocess.run([resolved, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return ""  # cannot tell: let Spark try
    except OSError as exc:
        return f"Spark runs its Python workers with {who}, which cannot run ({exc}): {fix}"
    if out.returncode == 0 and out.stdout.strip() == "True":
        return ""
    return f"Spark runs its Python workers with {who}, which cannot import hfconnect: {fix}"
