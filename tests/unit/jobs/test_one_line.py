"""one_line under the engines' real wrappings: the messages below were captured from Daft 0.7 (native and Ray
runners), Ray 2.60 and Spark 4.3 (tests/jobs/test_job_errors.py checks the same on the live engines). The unit
layer imports no engine, so the exceptions are stand-ins of the engines' classes carrying those texts."""

from __future__ import annotations

import pytest

from hfconnect.errors import OptionError
from hfconnect.jobs import JobFailed, one_line


class DaftCoreException(ValueError):
    """daft.exceptions.DaftCoreException: a ValueError whose message is the Rust error's text."""


class InvalidSQLException(Exception):
    pass


DaftCoreException.__module__ = InvalidSQLException.__module__ = "daft.exceptions"


class RayTaskError(Exception):
    """ray.exceptions.RayTaskError: its text is the actor's repr and a traceback; the task's error is `.cause`."""

    def __init__(self, text: str, cause: BaseException | None) -> None:
        super().__init__(text)
        self.cause = cause


RayTaskError.__module__ = "ray.exceptions"

# `df.where(daft.sql_expr("id < 20000"))` with a string `id`.
PLAN_NODE = ("Unable to create logical plan node.\nDue to\n\nCaused by the following errors:\n"
             "  1: DaftError::TypeError Cannot perform comparison on types: String, Int64\nDetails:\n"
             "DaftError::TypeError Cannot perform comparison on DataType::Utf8 and numeric type.\n"
             "types: String, Int64")
# A Python function raising ValueError in a Daft task.
ROWS = ("DaftError::ComputeError Error processing some rows:\n0: DaftError::PyO3Error ValueError: bad value 1\n"
        "1: DaftError::PyO3Error ValueError: bad value x")
CORRUPT = ("DaftError::CorruptFile Failed to decode parquet column for http://127.0.0.1:18765/datasets/u/c/resolve/"
           "0378c46b/data/train-1.parquet: Parquet error: Required field type_ is missing")
# str() of the RayTaskError the Ray runner raises for ROWS.
RAY = ("\x1b[36mray::RemoteFlotillaRunner.get_next_partition()\x1b[39m (pid=5616, ip=192.0.2.2, actor_id=72c9e02203"
       "0be596f7f0323303000000, repr=<daft.runners.flotilla.RemoteFlotillaRunner object at 0x7f4b2ebe7fd0>)\n"
       '  File "/v/lib/python3.11/site-packages/daft/runners/flotilla.py", line 339, in _get_result\n'
       "    task_metadata: SwordfishTaskMetadata = await metadata_ref\n"
       "                                           ^^^^^^^^^^^^^^^^^^\n"
       "ray.exceptions.RayTaskError(DaftCoreException): \x1b[36mray::InMemoryScan->Project->UDFProject()\x1b[39m "
       "(pid=5615, ip=192.0.2.2, actor_id=d1ce6c7d06012461dbd7b42603000000, repr=<daft.runners.flotilla."
       "RaySwordfishActor object at 0x7f1446987390>)\n    stats = await result_handle.try_finish()\n"
       "            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\ndaft.exceptions.DaftCoreException: " + ROWS)
SQL = ("SQL error at Line: 1, Column: 6\nLINE 1: id <<< 3\n             ^\n"
       "REASON: Expected: an expression, found: <")
SPARK_TASK = ("An exception was thrown from the Python worker:\nTraceback (most recent call last):\n"
              '  File "/x/udf.py", line 3, in f\n    raise ValueError("no rating in row 7")\n'
              "ValueError: no rating in row 7")


def test_daft_plan_errors_give_their_reason_not_the_node() -> None:
    assert one_line(DaftCoreException(PLAN_NODE)) == \
        "DaftCoreException: DaftError::TypeError Cannot perform comparison on types: String, Int64"
    assert one_line(DaftCoreException("DaftError::FieldNotFound Column col(nope) not found.")) == \
        "DaftCoreException: DaftError::FieldNotFound Column col(nope) not found."
    assert one_line(InvalidSQLException(SQL)) == \
        "InvalidSQLException: SQL error at Line: 1, Column: 6: Expected: an expression, found: <"


def test_a_python_error_in_a_daft_task_is_that_error() -> None:
    assert one_line(DaftCoreException(ROWS)) == "ValueError: bad value 1"
    assert one_line(DaftCoreException(CORRUPT)) == f"DaftCoreException: {CORRUPT}"


@pytest.mark.parametrize("cause", [DaftCoreException(ROWS), None], ids=["with-cause", "text-only"])
def test_ray_task_errors_give_the_tasks_error_not_the_actor(cause: BaseException | None) -> None:
    line = one_line(RayTaskError(RAY, cause))
    assert line == "ValueError: bad value 1"
    assert "actor_id" not in line and "RemoteFlotillaRunner" not in line
    assert one_line(RayTaskError(RAY.split("\n")[0], DaftCoreException(CORRUPT))) == f"DaftCoreException: {CORRUPT}"


# What daft.io.sink does with a sink's error: a RuntimeError raised in Daft's own code, `from` the error.
DAFT_SINK_WRAPPER = '''
def write(error):
    raise RuntimeError("Exception occurred while writing to HuggingFaceSink(...)") from error
'''


def test_the_innermost_cause_of_an_explicit_chain() -> None:
    daft_code: dict = {"__name__": "daft.io.sink"}
    exec(compile(DAFT_SINK_WRAPPER, "daft/io/sink.py", "exec"), daft_code)  # noqa: S102 - Daft's frame, simulated
    try:
        daft_code["write"](OSError(28, "No space left on device"))
    except RuntimeError as wrapped:
        assert one_line(wrapped) == "OSError: [Errno 28] No space left on device"
    assert one_line(RuntimeError(SPARK_TASK)) == "ValueError: no rating in row 7"


def test_what_was_written_for_the_user_is_left_alone() -> None:
    """A JobFailed ends the walk even when its text quotes Daft; so does an error raised while handling another
    in the user's (or hfconnect's) own code: only the engines' implicit contexts are followed."""
    try:
        try:
            raise DaftCoreException(PLAN_NODE)
        except DaftCoreException as exc:
            raise JobFailed("--where 'id < 2': DaftError::TypeError Cannot compare; id is a string column") from exc
    except JobFailed as failed:
        assert one_line(failed) == "JobFailed: --where 'id < 2': DaftError::TypeError Cannot compare; id is a string " \
                                   "column"
    try:
        try:
            {}["rating"]
        except KeyError:
            raise ValueError("no column rating in the source")  # noqa: B904 - the implicit context on purpose
    except ValueError as plain:
        assert one_line(plain) == "ValueError: no column rating in the source"
    assert one_line(RayTaskError(RAY, OptionError("unknown option 'splt'"))) == "OptionError: unknown option 'splt'"


def test_an_error_that_says_something_is_not_replaced_by_its_cause() -> None:
    """Only an engine's wrapper (or an error whose text says nothing) gives way to what it wraps."""
    try:
        try:
            {}["features"]
        except KeyError as inner:
            raise RuntimeError("could not load the dataset card: no features") from inner
    except RuntimeError as exc:
        assert one_line(exc) == "RuntimeError: could not load the dataset card: no features"
