"""What the driver learns of a session's Python workers before a job: whether the Python Spark starts them with
can import hfconnect (`check_worker_python`), and how many run at once (`cluster_parallelism`).

In a module of its own (re-exported by `hfconnect.spark`) so that the package's `__init__` and the `read`/`write`
functions it exposes lazily do not import each other. Standard library only at module level.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

__all__ = ["check_worker_python", "cluster_parallelism"]


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
