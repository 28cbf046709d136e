"""The benchmark report's data: which benchmarks there are, their JSON results (contract: scripts/_bench_json.py)
loaded and looked up by variant, whether they are reference figures or a smoke run, and figures formatted for
people. No charts, no markdown, nothing run (scripts/_report_charts.py, scripts/_report_markdown.py,
scripts/_report_run.py; scripts/bench_report.py is the command line)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BENCHMARKS = {"read": "bench_read.py", "write": "bench_write.py", "localhub": "bench_localhub.py",
              "stream": "bench_stream.py"}
TITLES = {"read": "Read", "write": "Write", "localhub": "Local hub", "stream": "Streaming"}
MB = 1_000_000
# The sizes a reference run uses (the benchmarks' defaults, 2GB and 1GB in scripts/_bench_common.py's units:
# 1GB = 10**9 bytes) and its 3 rounds; anything less is a smoke run.
REFERENCE = {"read": 2 * 10**9, "write": 10**9, "localhub": 10**9}


# ---- numbers ---------------------------------------------------------------------------------------------------

def num(x: float | None, unit: str = "") -> str:
    """A figure for people, with the precision the benchmarks print: ratios to 2 decimals, counts whole, other
    figures to 3 significant digits or whole above 100, thousands separated."""
    if x is None:
        return "n/a"
    if unit == "x":
        return f"{x:.2f}×"
    if float(x).is_integer() and unit in ("", "s") and abs(x) < 10_000:
        text = f"{int(x)}"
    elif abs(x) >= 100:
        text = f"{x:,.0f}"
    elif abs(x) >= 10:
        text = f"{x:.1f}"
    else:
        text = f"{x:.2f}"
    return f"{text}{'' if unit in ('', '%') else ' '}{unit}"


def threshold(x: float, unit: str) -> str:
    """A goal's threshold as it is written in the goal: 4×, 0.8×, 3%, 500 MB/s."""
    text = f"{x:,g}"
    return f"{text}×" if unit == "x" else f"{text}{'' if unit in ('', '%') else ' '}{unit}"


def gb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


# ---- results -----------------------------------------------------------------------------------------------------

@dataclass
class Result:
    """One benchmark's JSON document, with lookups by variant name."""

    name: str
    doc: dict[str, Any]
    log: Path | None = None
    by: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.by = {v["name"]: v for v in self.doc.get("variants", [])}

    @property
    def params(self) -> dict[str, Any]:
        return self.doc.get("params", {})

    @property
    def goals(self) -> list[dict[str, Any]]:
        return self.doc.get("goals", [])

    def goal(self, goal_id: str) -> dict[str, Any] | None:
        return next((g for g in self.goals if g.get("id") == goal_id), None)

    def median(self, name: str) -> float | None:
        v = self.by.get(name)
        return (v.get("seconds") or {}).get("median") if v else None

    def metric(self, name: str, metric: str) -> float | None:
        """A variant's figure by the name goals use: its own field, or one derived from the data size."""
        v = self.by.get(name)
        if metric == "throughput" or metric == "mb_per_s":
            if v and v.get("mb_per_s") is not None:
                return float(v["mb_per_s"])
            med, size = self.median(name), self.params.get("data_bytes")
            return size / MB / med if med and size else None  # the dataset's size over the time: agg, sel
        if metric in ("resolvers_per_gb", "api_per_gb", "resolvers_fewer"):
            per_gb = self.doc.get("info", {}).get("real_hub", {}).get("per_gb", {}).get(name)
            key = "api" if metric == "api_per_gb" else "resolvers"
            return per_gb.get(key) if per_gb else None
        if v is None:
            return None
        if metric == "seconds":
            return self.median(name)
        value = v.get(metric)
        return float(value) if isinstance(value, int | float) else None

    def ran(self, name: str) -> bool:
        v = self.by.get(name)
        if not v or v.get("errors") or v.get("unavailable"):
            return False  # a variant timed in rounds has seconds; one measured over a run (stream) has its rate
        return bool(v.get("seconds")) or v.get("mb_per_s") is not None or v.get("rows_per_s") is not None

    def why_not(self, name: str) -> str:
        v = self.by.get(name)
        if v is None:
            return "not run"
        return v.get("unavailable") or "; ".join(v.get("errors") or []) or "no result"


def load_results(folder: Path) -> dict[str, Result]:
    out: dict[str, Result] = {}
    for name in BENCHMARKS:
        path = folder / f"{name}.json"
        if path.exists():
            doc = json.loads(path.read_text())
            if doc.get("schema") != 1:
                raise SystemExit(f"{path}: schema {doc.get('schema')!r}, this report reads schema 1")
            log = folder / f"{name}.txt"
            out[name] = Result(name, doc, log if log.exists() else None)
    return out


def is_smoke(results: dict[str, Result]) -> list[str]:
    """Why these are not reference figures, per benchmark (empty if they are)."""
    why = []
    for name, res in results.items():
        p, reasons = res.params, []
        if name in REFERENCE and p.get("size") is not None and p["size"] < REFERENCE[name]:
            reasons.append(f"{gb(p['size'])} (reference {gb(REFERENCE[name])})")
        if p.get("rounds") is not None and p["rounds"] < 3 and name != "stream":  # a stream runs once, for a time
            reasons.append(f"{p['rounds']} round(s)")
        if p.get("quick"):
            reasons.append("--quick")
        if p.get("only"):
            reasons.append(f"only the variants matching {p['only']!r}")
        if reasons:
            why.append(f"{name}: {', '.join(reasons)}")
    return why
