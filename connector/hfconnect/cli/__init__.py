"""The `hfconnect` command: the local hub, and a look at Hub datasets as hfconnect sees them.

    hfconnect localhub serve --root DIR        the offline Hub-compatible server
    hfconnect inspect REPO                     commit, configs/splits, files, rows, row groups, schema, optimized?
    hfconnect plan REPO [--filter ...]         the shards a read would use, and what statistics prune
    hfconnect copy SRC DST                     read -> write in ONE commit through Daft's native runner

A usage error (unknown command or option, missing argument, bad value) prints click's usage line and one
`Error:` line, exit 2; a bare `hfconnect` prints the help, exit 2 (click's no_args_is_help). Any other error
prints one line and a hint, exit 1; `--debug` (before the command) prints the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Protocol, cast

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command and return its exit code; with no argv (the console script, `python -m hfconnect.cli`)
    this process is the command's own, and a failed Daft run ends it without finalization (`_exit_now`)."""
    code = _run(list(sys.argv[1:] if argv is None else argv))
    if argv is None and code != 0 and "daft" in sys.modules:
        _exit_now(code)
    return code


def _run(args: list[str]) -> int:
    import typer

    from .app import app

    try:
        # Not standalone: typer would print a usage error as a rich panel and exit; here it is click's two lines.
        # Returned: an int when the command exited (--help, typer.Exit, Ctrl-C is 130), else the command's None.
        returned = app(args=args, prog_name="hfconnect", standalone_mode=False)
    except _usage_errors() as caught:
        exc = cast(_UsageError, caught)
        if exc.format_message():  # a bare `hfconnect` is a usage error whose help rich has already printed
            show = getattr(exc, "show", None)  # every click exception has it; typer.TyperException itself not
            show() if show is not None else print(f"Error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except typer.Abort:
        print("hfconnect: aborted", file=sys.stderr)
        return 130
    except Exception as exc:  # whatever raised it, a user reads one line (Daft wraps a task's error in its own)
        report(exc, debug="--debug" in args)
        return 1
    return returned if isinstance(returned, int) else 0


def report(exc: BaseException, *, debug: bool = False) -> None:
    """A failed command on stderr: hfconnect's error under any wrapper (else the exception's first line) and a
    hint, or with `debug` the traceback."""
    from ..errors import find_hfconnect_error
    from ..jobs.runner import one_line

    if debug:
        import traceback

        traceback.print_exception(exc)
        return
    ours = find_hfconnect_error(exc)
    print(f"hfconnect: error: {ours.message if ours is not None else one_line(exc)}", file=sys.stderr)
    print(f"hint: {_hint(ours if ours is not None else exc)}", file=sys.stderr)


class _UsageError(Protocol):
    """What click's and typer's usage exceptions both have."""

    exit_code: int

    def format_message(self) -> str: ...


def _usage_errors() -> tuple[type[Exception], ...]:
    """The exceptions that carry a usage error and can `show()` it. typer >= 0.29 vendors click and raises its
    own copies of click's exceptions, subclasses of the public `typer.TyperException`; older typer (pyproject
    allows >= 0.12) raises click's own. Both, in this one place."""
    import typer

    found: list[type[Exception]] = []
    if hasattr(typer, "TyperException"):
        found.append(typer.TyperException)
    try:
        import click
    except ImportError:  # typer >= 0.29 does not depend on click
        pass
    else:
        found.append(click.ClickException)
    return tuple(found)


def _exit_now(code: int) -> None:
    """Exit without the interpreter's finalization. Daft 0.7's native runner can leave a pipeline thread running
    Python after `write_sink` raised; finalization then kills that thread mid-call and the process aborts
    (SIGABRT, "FATAL: exception not rethrown") instead of exiting with `code`. The failed write was aborted
    already: only stdio and logging are left to flush."""
    import contextlib
    import logging
    import os

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say there
            stream.flush()
    os._exit(code)


def _hint(exc: BaseException) -> str:
    from ..errors import AuthenticationError, HubRequestError, OptionError, RepoNotFoundError

    if isinstance(exc, AuthenticationError):
        return "pass --token, set HF_TOKEN or run `hf auth login`"
    if isinstance(exc, RepoNotFoundError):
        return "check the repo id and --endpoint (HF_ENDPOINT), or pass a token that can read it"
    if isinstance(exc, OptionError):
        return "see `hfconnect COMMAND --help` for the options"
    if isinstance(exc, HubRequestError):
        return "the Hub kept failing: check the endpoint and your network, or try again later"
    return "run with --debug for the traceback"
