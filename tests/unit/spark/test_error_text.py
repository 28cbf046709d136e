"""hfconnect.spark.error_text: in a Spark worker with simplified tracebacks, an hfconnect error leaving a method
Spark calls is reported by its message alone; anywhere else, and any other error, keeps its traceback."""

from __future__ import annotations

import sys
import traceback

import pytest

from hfconnect.errors import OptionError
from hfconnect.spark.error_text import message_first, spark_facing


@pytest.fixture(autouse=True)
def _restore_tracebacklimit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The module sets sys.tracebacklimit for the (exiting) Spark worker: give this process its own back."""
    if hasattr(sys, "tracebacklimit"):
        monkeypatch.setattr(sys, "tracebacklimit", sys.tracebacklimit)
    else:
        monkeypatch.setattr(sys, "tracebacklimit", 1000, raising=False)
        monkeypatch.delattr(sys, "tracebacklimit")


def _reported(fn) -> str:  # noqa: ANN001
    try:
        fn()
    except Exception:  # noqa: BLE001 - what Spark's worker prints for it
        return traceback.format_exc()
    raise AssertionError("no error")


def _ours() -> None:
    try:
        raise KeyError("inner")
    except KeyError as exc:
        raise OptionError("unknown option 'splt'; did you mean 'split'?") from exc


def test_in_a_simplifying_spark_worker_our_error_is_its_message_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_SIMPLIFIED_TRACEBACK", "1")

    def method() -> None:
        with message_first():
            _ours()

    assert _reported(method) == "hfconnect.errors.OptionError: unknown option 'splt'; did you mean 'split'?\n"


def test_outside_a_spark_worker_and_for_other_errors_the_traceback_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARK_SIMPLIFIED_TRACEBACK", raising=False)
    text = _reported(spark_facing(_ours))
    assert text.startswith("Traceback") and "KeyError: 'inner'" in text
    monkeypatch.setenv("SPARK_SIMPLIFIED_TRACEBACK", "1")

    @spark_facing
    def bug() -> None:
        raise ZeroDivisionError("a bug")

    before = getattr(sys, "tracebacklimit", None)
    assert _reported(bug).startswith("Traceback") and "ZeroDivisionError: a bug" in _reported(bug)
    assert getattr(sys, "tracebacklimit", None) == before  # not touched for a bug


def test_a_generator_method_is_covered_for_its_whole_iteration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_SIMPLIFIED_TRACEBACK", "1")

    @spark_facing
    def read() -> object:
        yield 1
        _ours()

    rows = read()
    assert next(rows) == 1
    assert _reported(lambda: next(rows)).startswith("hfconnect.errors.OptionError: unknown option 'splt'")
