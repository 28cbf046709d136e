"""The benchmarks' machine-readable results (`--json PATH`), shared by bench_read.py, bench_write.py,
bench_localhub.py (and bench_stream.py): scripts/bench_report.py renders charts and bench/REPORT.md from them,
so a report can be re-drawn without re-running an hour of benchmarks.

The contract (schema 1), one JSON object per benchmark run:

    {"schema": 1, "benchmark": "read" | "write" | "localhub" | "stream",
     "created": ISO-8601 UTC time, "commit": `git describe --always --dirty` of hfconnect's source,
     "machine": machine_info(), "load_at_start": 1-minute load average when the benchmark started (noise),
     "params": {"size": bytes requested, "rounds": n, "files": n, ...: what the run was asked to do},
     "variants": [{"name", "label", "kind": "hfconnect" | "peer" | "limit", "section",
                   "seconds": {"min", "median", "max"} | null, "mb_per_s": number | null (10**6 bytes/s),
                   "runs": n, "errors": [str], "unavailable": str | null, ...benchmark-specific fields}],
     "goals": [goal(): {"id", "section", "description", "value", "unit", "threshold",
                        "direction": ">=" | "<=" | "==", "verdict": "PASS" | "MISS" | "n/a",
                        "metric", "variant", "baseline"}],
     "info": {...: the benchmark's other printed figures}}

A goal's `metric` says how to draw it on a chart: "throughput" (value = variant's MB/s / baseline's MB/s, the
threshold a multiple of the baseline), or the name of the variant's own field the threshold applies to. A
streaming benchmark gets its charts by following the same contract: one bar chart per `section` of its
variants' `mb_per_s` (or `rows_per_s` when no variant there has MB/s), titled by `info["sections"][section]`.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

SCHEMA = 1
# Imported as the benchmark starts: what else the machine was doing then (figures on a loaded machine are noisy).
LOAD_AT_START = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
HERE = Path(__file__).resolve().parent
PACKAGES = ("pyspark", "daft", "pyarrow", "huggingface_hub", "hfconnect")
# Variant names that measure a limit or a ceiling (local files, a sink that does nothing), not a peer.
LIMIT_MARKERS = ("limit", "null-sink", "parquet", "pyds-local", "mapinarrow", "pyarrow", "disk", "tcp")


def git_commit() -> str:
    """The hfconnect source the benchmark ran: `git describe --always`, with `-dirty` when a file outside bench/
    differs from it (bench_report.py writes its outputs into bench/ while the benchmarks run)."""
    root = HERE.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "describe", "--always"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
        changed = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", ".", ":(exclude)bench"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if head and changed else head or "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def machine_info() -> dict[str, Any]:
    """What the figures depend on: CPU, cores, memory, OS, Python and the engines' versions (read from package
    metadata: nothing is imported)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "memory_bytes": _memory_bytes(),
            "os": platform.platform(), "python": sys.version.split()[0], "packages": versions}


def kind_of(name: str) -> str:
    """hfconnect, a peer, or a limit/ceiling (what the chart colours tell apart)."""
    if "hfconnect" in name:
        return "hfconnect"
    return "limit" if any(m in name for m in LIMIT_MARKERS) else "peer"


def seconds_stats(times: Iterable[float]) -> dict[str, float] | None:
    import statistics

    values = list(times)
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def verdict(value: float | None, threshold: float, direction: str) -> str:
    if value is None:
        return "n/a"
    ok = {">=": value >= threshold, "<=": value <= threshold, "==": value == threshold}[direction]
    return "PASS" if ok else "MISS"


def goal(goal_id: str, description: str, value: float | None, unit: str, threshold: float, direction: str,
         *, section: str = "", metric: str = "", variant: str | None = None, baseline: str | None = None,
         verdict_: str | None = None) -> dict[str, Any]:
    """One goal line; `verdict_` overrides the computed verdict where the printed line decides otherwise."""
    return {"id": goal_id, "section": section, "description": description, "value": value, "unit": unit,
            "threshold": threshold, "direction": direction,
            "verdict": verdict_ or verdict(value, threshold, direction),
            "metric": metric, "variant": variant, "baseline": baseline}


def _clean(obj: Any) -> Any:
    """NaN and infinities are not JSON: they become null (a figure that could not be computed)."""
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def document(benchmark: str, params: dict[str, Any], variants: list[dict[str, Any]], goals: list[dict[str, Any]],
             info: dict[str, Any] | None = None) -> dict[str, Any]:
    return _clean({"schema": SCHEMA, "benchmark": benchmark,
                   "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": git_commit(),
                   "machine": machine_info(), "load_at_start": LOAD_AT_START, "params": params,
                   "variants": variants, "goals": goals, "info": info or {}})


def write(path: str | Path, doc: dict[str, Any]) -> None:
    """Write atomically (temp file + rename): a report never reads half a result."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    tmp.replace(target)
    print(f"results written to {target}", file=sys.stderr, flush=True)
