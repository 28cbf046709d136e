"""`hfconnect copy` at the command line, without an engine or a hub (the copy itself: tests/cli/test_copy.py): its
help names every option and the one commit, and arguments it cannot run with are usage errors (exit 2) before
Daft is imported."""

from __future__ import annotations

import sys

import pytest

from hfconnect.cli import main


def test_the_help_names_every_option_and_the_one_commit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["copy", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Copy SRC's split(s) into DST in ONE commit" in out
    for option in ("--config", "--split", "--revision", "--mode", "--endpoint", "--token", "--dst-config",
                   "--private"):
        assert option in out, option


@pytest.mark.parametrize(("args", "error"), [
    (["copy"], "Error: Missing argument 'src'."),
    (["copy", "a/b", "c/d", "--privat"], "Error: No such option: --privat"),
    (["copy", "a/b", "c/d", "e/f"], "Error: Got unexpected extra argument"),
])
def test_arguments_it_cannot_run_with_are_usage_errors(args: list[str], error: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    daft_before = "daft" in sys.modules
    assert main(args) == 2
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("Error: ")][0].startswith(error), err
    assert ("daft" in sys.modules) == daft_before  # refused before the command body ran
