"""A job's driver-side life without an engine: exit codes, the one-line error under any wrapping, the summary
line, byte counts."""

from __future__ import annotations

import pytest

from hfconnect.errors import HubRequestError, OptionError
from hfconnect.jobs import Job, JobFailed, Summary, one_line
from hfconnect.jobs.runner import human_bytes


def _wrapped(inner: BaseException) -> BaseException:
    """How Daft and Ray hand a task's error back: a RuntimeError whose cause (or `.cause`) is ours."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise RuntimeError("Exception occurred while writing to HuggingFaceSink(...)") from exc
    except RuntimeError as outer:
        return outer


class _RayTaskError(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__("ray::Task() failed")
        self.cause = cause


def test_one_line_finds_hfconnects_error_under_any_wrapping() -> None:
    err = HubRequestError("upload of a 10-byte file to o/n: giving up after 8 failed attempt(s)\nmore detail")
    assert one_line(err) == "HubRequestError: upload of a 10-byte file to o/n: giving up after 8 failed attempt(s)"
    assert one_line(_wrapped(err)).startswith("HubRequestError: upload of a 10-byte file")
    assert one_line(_RayTaskError(OptionError("split_column 'x' is not a column"))) == \
        "OptionError: split_column 'x' is not a column"


def test_one_line_reads_hfconnects_error_out_of_sparks_text() -> None:
    spark_text = ("An exception was thrown from the Python worker. Please see the stack trace below.\n"
                  "Traceback (most recent call last):\n  File \"/x.py\", line 1, in write\n"
                  "hfconnect.errors.OptionError: split_column 'split' holds 'a b', which is not a valid split name\n")
    assert one_line(Exception(spark_text)) == \
        "OptionError: split_column 'split' holds 'a b', which is not a valid split name"
    assert one_line(ValueError("\n\n  first line\nsecond")) == "ValueError: first line"
    assert one_line(KeyError()) == "KeyError"


def test_summary_line_is_key_value() -> None:
    summary = Summary(10, [("train", 7), ("test", 3)], 1, "abc", "o/n@main", 1234, 5678, {"columns_read": "2"})
    assert summary.line(3.14159) == ("done: rows=10 splits=train:7,test:3 commits=1 commit=abc target=o/n@main "
                                     "fetched_bytes=1234 dataset_bytes=5678 columns_read=2 wall_s=3.1")
    assert "fetched_bytes=n/a" in Summary(0, [], 0, None, "o/n@main", None, 0).line(0)


@pytest.mark.parametrize(("n", "text"), [(None, "n/a"), (999, "999 B"), (1_500, "1.5 KB"), (2_500_000, "2.5 MB"),
                                         (3 * 10**12, "3000.0 GB")])
def test_human_bytes(n: int | None, text: str) -> None:
    assert human_bytes(n) == text


def _job() -> Job:
    job = Job("demo", "a demo job", engines=("spark", "daft"))
    job.parser.add_argument("name")
    return job


def test_run_returns_0_and_prints_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    job = _job()
    code = job.run(lambda j: Summary(1, [("train", 1)], 1, "c0ffee", f"{j.args.name}@main", None, 10),
                   ["o/n", "--endpoint", "http://127.0.0.1:9"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("demo: done: rows=1 splits=train:1 commits=1 commit=c0ffee target=o/n@main")


def test_a_failure_is_one_line_on_stderr_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def fail(job: Job) -> Summary:
        raise _wrapped(HubRequestError("commit to o/n failed"))

    assert _job().run(fail, ["o/n", "--endpoint", "http://127.0.0.1:9"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "demo: error: HubRequestError: commit to o/n failed\n" and captured.out == ""


def test_debug_adds_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    def fail(job: Job) -> Summary:
        raise JobFailed("say where the files go")

    assert _job().run(fail, ["o/n", "--debug", "--endpoint", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.endswith("demo: error: JobFailed: say where the files go\n")


def test_bad_arguments_exit_2_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _job().run(lambda j: None, ["o/n", "--engine", "flink"])  # type: ignore[arg-type, return-value]
    assert exit_info.value.code == 2
    assert "argument --engine: invalid choice: 'flink'" in capsys.readouterr().err


def test_bytes_served_is_none_where_the_hub_does_not_count(capsys: pytest.CaptureFixture[str]) -> None:
    job = _job()
    job.args = job.parser.parse_args(["o/n", "--endpoint", "http://127.0.0.1:9"])  # nothing listens on port 9
    assert job.hub_bytes_served() is None
