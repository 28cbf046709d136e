"""Which worker Python can run hfconnect, decided without Spark: the driver's own Python (no subprocess), a bare
virtualenv (no hfconnect: the message names it and the fix), one that Spark's shipped files make importable, and
a Python that is not there; and the session's parallelism."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import hfconnect
from hfconnect.spark.workers import _cannot_import, cluster_parallelism


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh virtualenv without hfconnect (nor pip: ~0.1 s)."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return str(venv / "bin" / "python")


def test_the_drivers_own_python_needs_no_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "run", None)  # no subprocess may run for it
    assert _cannot_import(sys.executable, []) == ""


def test_a_python_without_hfconnect_is_named_with_the_fix(bare_python: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYSPARK_PYTHON", bare_python)
    message = _cannot_import(bare_python, [])
    assert message.startswith(f"Spark runs its Python workers with PYSPARK_PYTHON={bare_python}, which cannot import "
                              f"hfconnect: set PYSPARK_PYTHON={sys.executable} (the Python hfconnect is installed in) "
                              "before the SparkSession is created"), message
    assert "or activate the virtualenv hfconnect is installed in" in message


def test_python3_from_path_says_so(bare_python: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "python3").symlink_to(bare_python)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    assert _cannot_import("python3", []).startswith(
        f"Spark runs its Python workers with python3 from PATH ({tmp_path / 'python3'}; PYSPARK_PYTHON was unset when "
        "the session started), which cannot import hfconnect: ")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert ", which is not on PATH: set PYSPARK_PYTHON=" in _cannot_import("python3", [])


def test_files_spark_ships_to_its_workers_count(bare_python: str) -> None:
    """--py-files / addPyFile entries are on the workers' path: hfconnect from one of them is importable there."""
    shipped = str(Path(hfconnect.__file__).parents[1])
    assert _cannot_import(bare_python, [shipped]) == ""


def test_cluster_parallelism_is_the_contexts_or_none() -> None:
    """`defaultParallelism` of the session's SparkContext; None where there is none (Spark Connect raises)."""
    class Context:
        defaultParallelism = 12  # noqa: N815 - Spark's name

    class Session:
        sparkContext = Context()  # noqa: N815

    class Connect:
        @property
        def sparkContext(self) -> None:  # noqa: N802
            raise RuntimeError("[NOT_IMPLEMENTED] sparkContext() is not implemented.")

    assert cluster_parallelism(Session()) == 12
    assert cluster_parallelism(Connect()) is None
