"""`hfconnect localhub serve`: the offline Hub-compatible server (what LocalHub runs in a child process)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

__all__ = ["app", "token_lines"]

app = typer.Typer(help="the offline Hub-compatible server", no_args_is_help=True)


@app.command()
def serve(
    root: Annotated[str, typer.Option(help="directory holding the hub's state (created if missing)")],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="0 picks a free port")] = 8000,
    token: Annotated[list[str] | None, typer.Option(
        metavar="TOKEN:ROLE[:USER]", help="accept this bearer token; ROLE is read or write (repeatable). With no "
        "token at all the hub is a single-user dev server where anyone may write.")] = None,
    token_file: Annotated[list[str] | None, typer.Option(
        metavar="PATH", help="read more TOKEN:ROLE[:USER] lines from this file (blank lines and # comments "
        "skipped), so tokens stay out of process listings (repeatable)")] = None,
    fault: Annotated[list[str] | None, typer.Option(
        metavar="SPEC", help="fault rule, e.g. route=resolve,action=status,status=429,retry_after=1,every=3")] = None,
    seed: Annotated[int, typer.Option(help="seed for probabilistic faults")] = 0,
    ready_file: Annotated[str | None, typer.Option(help="write {endpoint, port, pid} here once listening")] = None,
    log_level: Annotated[str, typer.Option(help="the server's log level")] = "WARNING",
    real_hub: Annotated[bool, typer.Option("--real-hub", help="--redirects, --rate-limits with a free user's "
                                           "quotas and --commit-limits: what a client meets on the real Hub")] = False,
    redirects: Annotated[bool, typer.Option("--redirects", help="answer /resolve/ of LFS files with 302 to an "
                                            "expiring signed URL on another host (--cdn-host)")] = False,
    cdn_host: Annotated[str, typer.Option(help="address of the signed-URL listener (another loopback address, so "
                                          "clients see another host)")] = "127.0.0.2",
    cdn_port: Annotated[int, typer.Option(help="its port (0 picks a free one)")] = 0,
    url_expiry: Annotated[float, typer.Option(help="seconds a signed URL is valid (then 403)")] = 3600.0,
    rate_limits: Annotated[bool, typer.Option("--rate-limits", help="per-token (anonymous: per-IP) fixed-window "
                                              "limits on API calls, resolver requests and commits per repo, "
                                              "answered with 429 + RateLimit")] = False,
    rate_window: Annotated[float, typer.Option(help="window length in seconds (Hub: 300)")] = 300.0,
    quota: Annotated[str, typer.Option(metavar="BUCKET=N,...", help="requests per window per token (Hub, free "
                                       "user: api=1000,resolvers=5000)")] = "api=1000,resolvers=5000",
    anonymous_quota: Annotated[str, typer.Option(metavar="BUCKET=N,...", help="requests per window per IP "
                                                 "without a token")] = "api=500,resolvers=3000",
    commit_quota: Annotated[int, typer.Option(help="commits per repo per --commit-window")] = 100,
    commit_window: Annotated[float, typer.Option(help="seconds")] = 3600.0,
    commit_limits: Annotated[bool, typer.Option("--commit-limits", help="a commit request that runs past "
                                                "--commit-timeout answers 504 Gateway Time-out, as the Hub's gateway "
                                                "does (on with --real-hub)")] = False,
    commit_timeout: Annotated[float, typer.Option(help="seconds a commit request may take (Hub: 60)")] = 60.0,
    commit_max_operations: Annotated[int, typer.Option(help="a commit of more operations runs past the timeout "
                                                       "(0: only the clock decides; the Hub recommends <100 files "
                                                       "per commit)")] = 0,
    commit_timeout_lands: Annotated[bool, typer.Option("--commit-timeout-lands", help="a commit that timed out "
                                                       "still lands, as it can on the Hub (default: it does not)")]
    = False,
    lfs_only: Annotated[bool, typer.Option("--lfs-only", help="speak git-LFS only, no Xet: no token endpoints, no "
                                           "CAS (clients then need HF_HUB_DISABLE_XET=1)")] = False,
    xet_token_expiry: Annotated[float, typer.Option(help="seconds a Xet access token is valid")] = 3600.0,
    trust_sha256: Annotated[bool, typer.Option("--trust-sha256", help="take each Xet file's sha256 as its shard "
                                               "claims it (default: checked against the file's bytes first, a "
                                               "guard the protocol does not require)")] = False,
    cdn_connection_rate: Annotated[str, typer.Option(
        metavar="SIZE", help="bytes per second each connection to the signed-URL/Xet-bridge listener is served at, "
        "across its keep-alive requests (e.g. 25MB; 0: uncapped), as a CDN edge serves one connection")] = "0",
    cas_port: Annotated[int, typer.Option(help="port of the Xet CAS listener, which also serves the signed URLs "
                                          "(0 picks a free one; --cdn-port is the same listener)")] = 0,
) -> None:
    """Serve a hub rooted at a local directory until interrupted."""
    from ..localhub import serve as run
    from ..localhub.mode import HubMode, parse_quotas

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    mode = HubMode(redirects=redirects or real_hub, cdn_host=cdn_host, url_expiry=url_expiry,
                   rate_limits=rate_limits or real_hub, window=rate_window, quotas=parse_quotas(quota),
                   anonymous_quotas=parse_quotas(anonymous_quota), commit_quota=commit_quota,
                   commit_window=commit_window, xet=not lfs_only, xet_token_expiry=xet_token_expiry,
                   commit_limits=commit_limits or real_hub, commit_timeout=commit_timeout,
                   commit_max_operations=commit_max_operations, commit_timeout_lands=commit_timeout_lands,
                   check_sha256=not trust_sha256, cdn_connection_rate=_rate(cdn_connection_rate))
    tokens = [*(token or []), *(line for path in token_file or [] for line in token_lines(path))]
    run(root, host=host, port=port, tokens=tokens, faults=fault or [], seed=seed, ready_file=ready_file,
        mode=mode, cdn_port=cdn_port, cas_port=cas_port)


def _rate(value: str) -> float:
    """`25MB`, `25MiB`, `1e6` or `0` -> bytes per second."""
    from ..options.parsers import parse_size

    try:
        return float(value)
    except ValueError:
        pass
    try:
        return float(parse_size("cdn-connection-rate", value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cdn-connection-rate") from None


def token_lines(path: str) -> list[str]:
    """The TOKEN:ROLE[:USER] lines of a token file (blank lines and # comments skipped)."""
    with open(path, encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
