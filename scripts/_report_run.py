"""Running the benchmarks for the report: each one's command line (sizes, rounds, `--json` into the output
folder), run with its printed output shown and kept next to its JSON."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from _report_data import BENCHMARKS, HERE, ROOT


def accepts(script: Path, flag: str) -> bool:
    """Whether a script's --help mentions `flag` (how a benchmark being written elsewhere is detected)."""
    try:
        proc = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and flag in proc.stdout


def bench_command(name: str, args: argparse.Namespace, out: Path) -> list[str] | str:
    """The command line of one benchmark, or why it cannot run."""
    script = HERE / BENCHMARKS[name]
    if not script.exists():
        return f"scripts/{script.name} does not exist"
    extra = shlex.split(getattr(args, f"{name}_args") or "")
    rounds = ["--rounds", str(args.rounds)]
    if name == "read":
        cmd = ["--size", args.size_read, *rounds] + (["--quick"] if args.quick else []) \
            + ([] if args.no_real_hub else ["--real-hub"])
    elif name == "write":
        cmd = ["--size", args.size_write, *rounds] + (["--cdc-size", "64MB"] if args.quick else [])
    elif name == "localhub":
        cmd = ["--size", args.size_localhub, *rounds] + (["--api-seconds", "2"] if args.quick else [])
    else:
        if not accepts(script, "--json"):
            return f"scripts/{script.name} does not take --json yet"
        cmd = (rounds if accepts(script, "--rounds") else []) \
            + (["--quick"] if args.quick and accepts(script, "--quick") else [])
    return [sys.executable, str(script), *cmd, *extra, "--json", str(out / f"{name}.json")]


def run_benchmark(name: str, cmd: list[str], out: Path) -> str | None:
    """Run one benchmark, its output shown and kept in out/<name>.txt; None if it wrote its JSON, else why not."""
    target = out / f"{name}.json"
    target.unlink(missing_ok=True)  # a failed run must not leave the last run's figures looking current
    print(f"== {' '.join(shlex.quote(c) for c in cmd)}", flush=True)
    with open(out / f"{name}.txt", "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
        code = proc.wait()
    if code != 0 or not target.exists():
        return f"exit {code}, no {target.name}: see {name}.txt"
    return None
