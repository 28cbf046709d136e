"""The `hfconnect` command: the local hub, and a look at Hub datasets as hfconnect sees them.

    hfconnect localhub serve --root DIR        the offline Hub-compatible server
    hfconnect inspect REPO                     commit, configs/splits, files, rows, row groups, schema, optimized?
    hfconnect plan REPO [--filter ...]         the shards a read would use, and what statistics prune
    hfconnect copy SRC DST                     read -> write through Daft's native runner, with a progress bar

Errors print one line and a hint; `--debug` (before the command) shows the traceback.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command; an error is one line on stderr (exit 1), a traceback only with --debug."""
    import click

    from ..errors import HfConnectError
    from .app import app

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="hfconnect", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        print("hfconnect: aborted", file=sys.stderr)
        return 130
    except (HfConnectError, ValueError, OSError) as exc:
        if debug:
            raise
        print(f"hfconnect: error: {exc}", file=sys.stderr)
        print(f"hint: {_hint(exc)}", file=sys.stderr)
        return 1
    return 0


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
