"""bench_read.py's per-connection CDN rate (issue 23): `--cdn-rates 0,25MB` runs the real-Hub variants against one
real-Hub hub per rate (`HubMode.cdn_connection_rate`: each connection to the signed-URL/Xet-bridge host served at
most that many bytes per second, as a CDN edge serves one connection), and prints every reader's throughput capped
and uncapped side by side, with what each task of hfconnect's reader held (its read-ahead's own accounting,
HFCONNECT_READ_STATS) and the peak RSS of the processes that ran tasks.

Why its own module: bench_read.py is shared with other work; it only names these functions.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from _bench_common import parse_size

MB = 1_000_000
STATS_ENV = "HFCONNECT_READ_STATS"  # hfconnect.read.ahead.STATS_ENV (not imported: a peer's venv has no hfconnect)


def parse_rates(text: str) -> list[float]:
    """`0,25MB` -> [0.0, 25e6]: bytes per second per connection, 0 for uncapped (argparse `type=`)."""
    rates: list[float] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        rates.append(0.0 if part in ("0", "0MB", "off", "none") else float(parse_size(part)))
    if not rates:
        raise argparse.ArgumentTypeError("--cdn-rates needs at least one rate, e.g. 0,25MB")
    return list(dict.fromkeys(rates))


def label(rate: float) -> str:
    """A variant name's suffix for a rate: "" uncapped (the plain `@hub` names), `-cap25MB` capped."""
    if not rate:
        return ""
    return f"-cap{rate / MB:g}MB" if rate >= MB else f"-cap{rate / 1000:g}kB"


def stats_path(logs: Path, name: str, rnd: int) -> Path:
    return logs / f"{name}-r{rnd}.tasks.jsonl"


def task_stats(path: Path) -> dict[str, Any]:
    """One run's per-task read-ahead lines, summed up: tasks, the most one task held, budget, peak RSS seen."""
    if not path.exists():
        return {}
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    if not lines:
        return {}
    return {"tasks": len(lines), "peak_task_bytes": max(x["peak_bytes"] for x in lines),
            "budget": max(x["budget"] for x in lines), "over_budget": sum(x["over_budget"] for x in lines),
            "peak_rss_bytes": max(x.get("peak_rss_bytes", 0) for x in lines),
            "worker_processes": len({x.get("pid") for x in lines})}


def print_cdn_table(rows: Iterable[Any], data_bytes: int, rates: list[float]) -> tuple[list[dict[str, Any]],
                                                                                      dict[str, Any]]:
    """Every real-Hub reader at every rate: MB/s, capped/uncapped, and hfconnect's memory per task. Returns goal
    records (for --json) and the figures."""
    import _bench_json

    real = [r for r in rows if r.variant.real]
    if not real or len(rates) < 1:
        return [], {}
    by = {r.variant.name: r for r in real}
    bases = list(dict.fromkeys(r.variant.runner for r in real))

    def mbps(base: str, rate: float) -> float | None:
        row = by.get(f"{base}@hub{label(rate)}")
        return None if row is None or row.median is None else data_bytes / MB / row.median

    def mem(base: str, rate: float) -> dict[str, Any]:
        row = by.get(f"{base}@hub{label(rate)}")
        runs = [getattr(r, "tasks", {}) for r in (row.runs if row else []) if getattr(r, "tasks", {})]
        if not runs:
            return {}
        return {"peak_task_bytes": max(r["peak_task_bytes"] for r in runs), "budget": max(r["budget"] for r in runs),
                "over_budget": max(r["over_budget"] for r in runs),
                "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs), "tasks": max(r["tasks"] for r in runs)}

    names = [label(r)[1:] or "uncapped" for r in rates]
    print()
    print("Per-connection CDN rate (real-Hub mode; each connection to the signed-URL/bridge host capped): MB/s per "
          "reader, and what one task of hfconnect's reader held (its read-ahead) / the peak RSS of a task's process")
    head = f"{'reader':<27}" + "".join(f"{n:>16}" for n in names)
    if len(rates) > 1:
        head += "".join(f"{'x ' + n:>16}" for n in names[1:])
    head += f"  {'held/task MB':>14} {'budget MB':>10} {'RSS MB':>8}"
    print(head)
    figures: dict[str, Any] = {"rates": rates, "mb_per_s": {}, "memory": {}}
    for base in bases:
        speeds = [mbps(base, r) for r in rates]
        cells = "".join(f"{('-' if s is None else f'{s:.0f}'):>16}" for s in speeds)
        if len(rates) > 1:
            cells += "".join(f"{('-' if s is None or not speeds[0] else f'{s / speeds[0]:.2f}x'):>16}"
                             for s in speeds[1:])
        memories = [mem(base, r) for r in rates]
        held = max((m.get("peak_task_bytes", 0) for m in memories), default=0)
        budget = max((m.get("budget", 0) for m in memories), default=0)
        rss = max((m.get("peak_rss_bytes", 0) for m in memories), default=0)
        cells += (f"  {(f'{held / MB:.0f}' if held else '-'):>14} {(f'{budget / MB:.0f}' if budget else '-'):>10} "
                  f"{(f'{rss / MB:.0f}' if rss else '-'):>8}")
        print(f"{base:<27}{cells}")
        figures["mb_per_s"][base] = dict(zip(names, speeds, strict=True))
        figures["memory"][base] = dict(zip(names, memories, strict=True))
    records: list[dict[str, Any]] = []
    capped = [r for r in rates if r]
    for rate in capped:
        cap = label(rate)
        goals = []
        peer = mbps("daft-native-all", rate)
        for daft in ("daft-hfconnect-reader-all", "daft-hfconnect-all"):  # hfconnect's reader; Daft's on our plan
            ours = mbps(daft, rate)
            goals.append((f"{daft}@hub{cap}: throughput vs daft-native-all@hub{cap}",
                          None if ours is None or peer is None else ours / peer, 0.9, daft, "daft-native-all"))
        if 0.0 in rates:
            spark, plain = mbps("spark-hfconnect-all", rate), mbps("spark-hfconnect-all", 0.0)
            goals.append((f"spark-hfconnect-all@hub{cap}: throughput vs uncapped",
                          None if spark is None or plain is None else spark / plain, 0.9, "spark-hfconnect-all",
                          "spark-hfconnect-all"))
        for desc, value, threshold, variant, baseline in goals:
            verdict = _bench_json.verdict(value, threshold, ">=")
            shown = "n/a" if value is None else f"{value:.2f}x"
            print(f"  {verdict:<4}  {desc:<75} {shown:>8}  (goal >= {threshold:g}x)")
            records.append(_bench_json.goal(f"cdn{cap}-{variant}-vs-{baseline}", desc, value, "x", threshold, ">=",
                                            section="e", metric="throughput", variant=f"{variant}@hub{cap}",
                                            baseline=f"{baseline}@hub{label(0.0) if variant == baseline else cap}"))
    for base in ("spark-hfconnect-all", "daft-hfconnect-reader-all"):
        memories = [m for m in (mem(base, r) for r in rates) if m]
        if memories:
            held, budget = max(m["peak_task_bytes"] for m in memories), max(m["budget"] for m in memories)
            over = max(m["over_budget"] for m in memories)
            verdict = "PASS" if held <= budget else "MISS"
            print(f"  {verdict:<4}  {base}: bytes one task held at most {held / MB:.0f} MB, budget {budget / MB:.0f} "
                  f"MB ({over} row group(s) alone over it)")
            records.append(_bench_json.goal(f"cdn-{base}-memory", f"{base}: peak bytes held per task", held / MB,
                                            "MB", budget / MB, "<=", section="e", metric="memory", variant=base))
    return records, figures
