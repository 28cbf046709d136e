"""What `hfconnect` prints when a command cannot run: usage errors as click prints them (typer >= 0.29 raises its
own copies of click's exceptions), and a failed command's hfconnect error under whatever engine wrapped it.
(The console script itself, in a process of its own: tests/cli.)"""

from __future__ import annotations

import pytest

from hfconnect.cli import main, report
from hfconnect.errors import OptionError, RepoNotFoundError


@pytest.mark.parametrize(("args", "error"), [
    (["inspect", "me/reviews", "--splt", "test"], "Error: No such option: --splt (Possible options: "),
    (["inspekt", "x"], "Error: No such command 'inspekt'. Did you mean 'inspect'?"),
    (["inspect"], "Error: Missing argument 'repo'."),
    (["plan", "x", "--limit", "abc"], "Error: Invalid value for '--limit': "),
    (["--debug", "copy", "a/b"], "Error: Missing argument 'dst'."),
])
def test_a_usage_error_is_the_usage_line_and_one_error_line(args: list[str], error: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert err.splitlines()[0].startswith("Usage: hfconnect ")
    assert [line for line in err.splitlines() if line.startswith("Error: ")][0].startswith(error), err


def test_a_bare_command_shows_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2  # click's no_args_is_help
    out, err = capsys.readouterr()
    assert "Usage: hfconnect [OPTIONS] COMMAND [ARGS]..." in out + err and "Traceback" not in out + err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["copy", "--help"]) == 0
    assert "into DST in ONE commit" in " ".join(capsys.readouterr().out.split())  # rich wraps the help


def wrapped(inner: Exception) -> RuntimeError:
    """`inner` as a Daft task raises it: inside the engine's own exception."""
    try:
        try:
            raise inner
        except Exception as exc:
            raise RuntimeError("DaftError::External task failed\n  at the sink's write()") from exc
    except RuntimeError as outer:
        return outer


def test_a_wrapped_hfconnect_error_prints_its_own_line_and_hint(capsys: pytest.CaptureFixture[str]) -> None:
    report(wrapped(RepoNotFoundError("dataset a/b@main: not found on the Hub")))
    assert capsys.readouterr().err.splitlines() == [
        "hfconnect: error: dataset a/b@main: not found on the Hub",
        "hint: check the repo id and --endpoint (HF_ENDPOINT), or pass a token that can read it"]


def test_any_other_error_is_one_line_and_debug_prints_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    report(RuntimeError("DaftError::CorruptFile Failed to decode parquet column\nmore\nand more"))
    lines = capsys.readouterr().err.splitlines()  # the line is jobs.runner.one_line's, whose wording is its own
    assert len(lines) == 2 and lines[1] == "hint: run with --debug for the traceback"
    assert lines[0].startswith("hfconnect: error: ") and "DaftError::CorruptFile Failed to decode" in lines[0]
    report(wrapped(OptionError("mode='apend': use append, overwrite, error or ignore")), debug=True)
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last)") and "hfconnect.errors.OptionError: mode=" in err
