"""hfconnect's errors as Spark shows them: our one line first, not last after ~17 lines of our stack.

Spark's Python workers report an exception as text (`traceback.TracebackException`: the frames, then the
`module.Class: message` line), and Spark builds the AnalysisException / PythonException the user catches from
that text. The only public lever on that text is the exception itself and the worker's traceback settings.

An hfconnect error is deliberate: its message says what is wrong and what to do, its frames say nothing to the
user. So where one of our methods hands an hfconnect error to Spark, in a Spark Python worker that simplifies
tracebacks (SPARK_SIMPLIFIED_TRACEBACK: spark.sql.execution.pyspark.udf.simplifiedTraceback.enabled, on by
default), `spark_facing` sets `sys.tracebacklimit = 0` and drops the error's chained causes: Spark then reports
`hfconnect.errors.OptionError: unknown option ...` alone. That worker exits right after reporting the error
(pyspark.sql.worker.utils.worker_run, pyspark.worker.main and the streaming runners end with sys.exit(-1)), so
the setting dies with it. With that Spark conf set to false, the full traceback is back, as Spark documents.
Other exceptions (bugs) keep their traceback.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ..errors import HfConnectError

__all__ = ["message_first", "spark_facing"]

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def message_first() -> Iterator[None]:
    """Around code that Spark's worker runs: an hfconnect error leaving it is reported by its message alone."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, HfConnectError) and os.environ.get("SPARK_SIMPLIFIED_TRACEBACK"):
            sys.tracebacklimit = 0
            exc.__cause__ = None  # what Spark's simplified traceback drops too; a cause would print first
            exc.__suppress_context__ = True
        raise


def spark_facing(fn: F) -> F:
    """`message_first` around a method Spark calls (a generator's whole iteration included)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Any:
            with message_first():
                yield from fn(*args, **kwargs)

        return generator  # type: ignore[return-value]

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        with message_first():
            return fn(*args, **kwargs)

    return call  # type: ignore[return-value]
