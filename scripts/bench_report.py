"""Benchmark report: runs the read, write and local-hub benchmarks (and the streaming one once
scripts/bench_stream.py exists and takes `--json PATH`), each with `--json`, then writes bench/REPORT.md with
PNG charts (hfconnect against each peer and the limit, goals drawn), the machine it ran on, the goal tables, and
the headline figures into docs/benchmarks.md (between `<!-- bench:start -->` and `<!-- bench:end -->`).

Why: a benchmark's printed table is seen once, by whoever ran it; the report keeps the figures with the machine and
the commit they belong to, and shows at a glance where hfconnect stands against its peers and the limits.

    .venv/bin/python scripts/bench_report.py [--size-read 2GB] [--size-write 1GB] [--rounds 3] [--quick] [--out bench/]
    .venv/bin/python scripts/bench_report.py --from-json bench/      # re-draw from saved results, run nothing
    .venv/bin/python scripts/bench_report.py --benchmarks write --write-args=--skip-peer   # one benchmark again

Each benchmark's JSON (contract: scripts/_bench_json.py) and printed output land in the output folder as
`<name>.json` and `<name>.txt`; the report is drawn from every `<name>.json` there, so a benchmark can be re-run
alone (`--benchmarks write`) and the report re-drawn with the others' last results. Runs below the default sizes,
with fewer than 3 rounds or `--quick` are labelled smoke runs in the report and on the benchmarks page.

This file is the command line; the work is in scripts/_report_data.py (results, reference sizes, figures),
scripts/_report_run.py (running the benchmarks), scripts/_report_charts.py (the PNGs) and
scripts/_report_markdown.py (REPORT.md and the page's block).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _report_data import BENCHMARKS, ROOT, load_results
from _report_markdown import render
from _report_run import bench_command, run_benchmark

PAGE = ROOT / "docs" / "benchmarks.md"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-read", default="2GB", help="bench_read.py --size (default 2GB)")
    ap.add_argument("--size-write", default="1GB", help="bench_write.py --size (default 1GB)")
    ap.add_argument("--size-localhub", default="1GB", help="bench_localhub.py --size (default 1GB)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of every benchmark (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: bench_read --quick (1,000-file planning repo), 64MB of CDC data, 2 s API test")
    ap.add_argument("--no-real-hub", action="store_true", help="run bench_read.py without --real-hub")
    ap.add_argument("--benchmarks", default=",".join(BENCHMARKS),
                    help=f"which to run, comma-separated (default {','.join(BENCHMARKS)}); the report still shows "
                    "the last results of the others found in --out")
    for name in BENCHMARKS:
        ap.add_argument(f"--{name}-args", default="", metavar="ARGS",
                        help=f"more arguments for {BENCHMARKS[name]}, as one string (--{name}-args='--x y')")
    ap.add_argument("--from-json", type=Path, default=None, metavar="DIR",
                    help="draw the report from DIR/<benchmark>.json, running nothing")
    ap.add_argument("--out", type=Path, default=ROOT / "bench", help="where REPORT.md and the charts go (bench/)")
    ap.add_argument("--page", type=Path, default=PAGE,
                    help="the page whose bench block gets the headline figures (docs/benchmarks.md)")
    ap.add_argument("--no-page", action="store_true", help="leave the benchmarks page alone")
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    skipped: dict[str, str] = {}
    if args.from_json is not None:
        results = load_results(args.from_json)
        if not results:
            raise SystemExit(f"{args.from_json}: no {', '.join(f'{n}.json' for n in BENCHMARKS)}")
        for name in BENCHMARKS:
            if name not in results:
                skipped[name] = f"no {name}.json in {args.from_json}"
        if args.from_json.resolve() != out.resolve():
            for res in results.values():  # keep the logs next to the report they belong to
                if res.log is not None:
                    (out / res.log.name).write_text(res.log.read_text())
                    res.log = out / res.log.name
    else:
        chosen = [n.strip() for n in args.benchmarks.split(",") if n.strip()]
        unknown = set(chosen) - set(BENCHMARKS)
        if unknown:
            ap.error(f"unknown benchmark(s) {sorted(unknown)}: choose from {', '.join(BENCHMARKS)}")
        for name in chosen:
            cmd = bench_command(name, args, out)
            why = cmd if isinstance(cmd, str) else run_benchmark(name, cmd, out)
            if why:
                print(f"== {name}: not run or failed: {why}", flush=True)
                skipped[name] = why
        results = load_results(out)
        if not results:
            raise SystemExit("no benchmark produced results: nothing to report")
        for name in BENCHMARKS:
            if name not in results:
                skipped.setdefault(name, f"no {name}.json in {out}")
    render(results, out, None if args.no_page else args.page, skipped)
    missed = [f"{n}: {g['description']}" for n, r in results.items() for g in r.goals if g["verdict"] == "MISS"]
    if missed:
        print(f"{len(missed)} goal(s) missed:\n  " + "\n  ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
