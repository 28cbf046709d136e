"""The `hfconnect` command."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hfconnect", description="Hugging Face Hub datasets for Spark and Daft.")
    sub = parser.add_subparsers(dest="command", required=True)
    hub = sub.add_parser("localhub", help="the offline Hub-compatible server")
    hub_sub = hub.add_subparsers(dest="hub_command", required=True)
    srv = hub_sub.add_parser("serve", help="serve a hub rooted at a local directory")
    srv.add_argument("--root", required=True, help="directory holding the hub's state (created if missing)")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    srv.add_argument("--token", action="append", default=[], metavar="TOKEN:ROLE[:USER]",
                     help="accept this bearer token; ROLE is read or write (repeatable). With no token at all "
                          "the hub is a single-user dev server where anyone may write.")
    srv.add_argument("--token-file", action="append", default=[], metavar="PATH",
                     help="read more TOKEN:ROLE[:USER] lines from this file (blank lines and # comments skipped), so "
                          "tokens stay out of process listings")
    srv.add_argument("--fault", action="append", default=[], metavar="SPEC",
                     help="fault rule, e.g. route=resolve,action=status,status=429,retry_after=1,every=3")
    srv.add_argument("--seed", type=int, default=0, help="seed for probabilistic faults")
    srv.add_argument("--ready-file", help="write {endpoint, port, pid} here once listening")
    srv.add_argument("--log-level", default="WARNING")
    real = srv.add_argument_group("real-Hub mode", "behave as huggingface.co does (all off by default)")
    real.add_argument("--real-hub", action="store_true", help="--redirects and --rate-limits with a free user's "
                      "quotas: what a client meets on the real Hub")
    real.add_argument("--redirects", action="store_true", help="answer /resolve/ of LFS files with 302 to an "
                      "expiring signed URL on another host (--cdn-host)")
    real.add_argument("--cdn-host", default="127.0.0.2", help="address of the signed-URL listener (default "
                      "127.0.0.2: another loopback address, so clients see another host)")
    real.add_argument("--cdn-port", type=int, default=0, help="its port (0 picks a free one)")
    real.add_argument("--url-expiry", type=float, default=3600.0, help="seconds a signed URL is valid (then 403)")
    real.add_argument("--rate-limits", action="store_true", help="per-token (anonymous: per-IP) fixed-window "
                      "limits on API calls, resolver requests and commits per repo, answered with 429 + RateLimit")
    real.add_argument("--rate-window", type=float, default=300.0, help="window length in seconds (Hub: 300)")
    real.add_argument("--quota", default="api=1000,resolvers=5000", metavar="BUCKET=N,...",
                      help="requests per window per token (Hub, free user: api=1000,resolvers=5000)")
    real.add_argument("--anonymous-quota", default="api=500,resolvers=3000", metavar="BUCKET=N,...",
                      help="requests per window per IP without a token (Hub: api=500,resolvers=3000)")
    real.add_argument("--commit-quota", type=int, default=100, help="commits per repo per --commit-window")
    real.add_argument("--commit-window", type=float, default=3600.0)
    return parser


def _mode(args: argparse.Namespace) -> Any:
    from .localhub.mode import HubMode, parse_quotas

    return HubMode(redirects=args.redirects or args.real_hub, cdn_host=args.cdn_host, url_expiry=args.url_expiry,
                   rate_limits=args.rate_limits or args.real_hub, window=args.rate_window,
                   quotas=parse_quotas(args.quota), anonymous_quotas=parse_quotas(args.anonymous_quota),
                   commit_quota=args.commit_quota, commit_window=args.commit_window)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "localhub" and args.hub_command == "serve":
        from .localhub import serve

        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
        try:
            tokens = args.token + [line for path in args.token_file for line in _token_lines(path)]
            serve(args.root, host=args.host, port=args.port, tokens=tokens, faults=args.fault,
                  seed=args.seed, ready_file=args.ready_file, mode=_mode(args), cdn_port=args.cdn_port)
        except (ValueError, OSError) as exc:
            print(f"hfconnect localhub: {exc}", file=sys.stderr)
            return 2
    return 0


def _token_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]


if __name__ == "__main__":
    sys.exit(main())
