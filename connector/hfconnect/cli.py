"""The `hfconnect` command."""

from __future__ import annotations

import argparse
import logging
import sys

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
    srv.add_argument("--fault", action="append", default=[], metavar="SPEC",
                     help="fault rule, e.g. route=resolve,action=status,status=429,retry_after=1,every=3")
    srv.add_argument("--seed", type=int, default=0, help="seed for probabilistic faults")
    srv.add_argument("--ready-file", help="write {endpoint, port, pid} here once listening")
    srv.add_argument("--log-level", default="WARNING")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "localhub" and args.hub_command == "serve":
        from .localhub import serve

        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
        try:
            serve(args.root, host=args.host, port=args.port, tokens=args.token, faults=args.fault,
                  seed=args.seed, ready_file=args.ready_file)
        except ValueError as exc:
            print(f"hfconnect localhub: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
