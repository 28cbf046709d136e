"""Benchmark report: runs the read, write and local-hub benchmarks (and the streaming one once
scripts/bench_stream.py exists and takes `--json PATH`), each with `--json`, then writes bench/REPORT.md with
PNG charts (hfconnect against each peer and the limit, goals drawn), the machine it ran on, the goal tables, and
the headline figures into README.md's Benchmarks section (between `<!-- bench:start -->` and `<!-- bench:end -->`).

Why: a benchmark's printed table is seen once, by whoever ran it; the report keeps the figures with the machine and
the commit they belong to, and shows at a glance where hfconnect stands against its peers and the limits.

    .venv/bin/python scripts/bench_report.py [--size-read 2GB] [--size-write 1GB] [--rounds 3] [--quick] [--out bench/]
    .venv/bin/python scripts/bench_report.py --from-json bench/      # re-draw from saved results, run nothing
    .venv/bin/python scripts/bench_report.py --benchmarks write --write-args=--skip-peer   # one benchmark again

Each benchmark's JSON (contract: scripts/_bench_json.py) and printed output land in the output folder as
`<name>.json` and `<name>.txt`; the report is drawn from every `<name>.json` there, so a benchmark can be re-run
alone (`--benchmarks write`) and the report re-drawn with the others' last results. Runs below the default sizes,
with fewer than 3 rounds or `--quick` are labelled smoke runs in the report and the README.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a display; before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BENCHMARKS = {"read": "bench_read.py", "write": "bench_write.py", "localhub": "bench_localhub.py",
              "stream": "bench_stream.py"}
TITLES = {"read": "Read", "write": "Write", "localhub": "Local hub", "stream": "Streaming"}
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
WIDTH_PX, HEIGHT_PX, DPI = 900, 500, 100
COLORS = {"hfconnect": "#f08c00", "peer": "#4c6a86", "limit": "#b9c4ce"}
KIND_LEGEND = {"hfconnect": "hfconnect", "peer": "peer", "limit": "limit / ceiling (no hub, or no work)"}
GOAL_COLOR = "#b3261e"
MB = 1_000_000
# The sizes and rounds a reference run uses; anything less is a smoke run.
REFERENCE = {"read": 2 << 30, "write": 10**9, "localhub": 1 << 30}

# Human names of the benchmarks' variants (a name not here is shown as it is).
LABELS = {
    "spark-hfconnect": "Spark · hfconnect", "spark-psh": "Spark · pyspark_huggingface",
    "spark-parquet": "Spark · spark.read.parquet (local files)",
    "spark-pyds-local": "Spark · minimal Python source (local files)",
    "daft-hfconnect": "Daft · hfconnect", "daft-native": "Daft · native read_parquet",
    "pyarrow": "pyarrow · read_table (local files)", "plan-hfconnect": "planner · hfconnect",
}
WRITE_LABELS = {
    "spark-hfconnect": "Spark · hfconnect format", "spark-hfconnect-fn": "Spark · hfconnect.spark.write",
    "spark-psh200": "Spark · pyspark_huggingface 2.0.0",
    "spark-mapinarrow-pyarrow": "Spark · mapInArrow + pyarrow → local disk",
    "spark-null-sink": "Spark · Python sink that only counts rows", "daft-hfconnect": "Daft · hfconnect",
    "daft-native": "Daft · write_huggingface", "limit": "pyarrow → local disk + sha256 (the limit)",
}
# Short names of the baselines in goal marks.
SHORT = {
    "spark-psh-all": "pyspark_huggingface", "spark-parquet-all": "spark.read.parquet", "daft-native-all": "Daft native",
    "daft-native-agg": "Daft native", "pyarrow-all": "pyarrow", "spark-hfconnect-all": "0 ms",
    "daft-hfconnect-all": "0 ms", "daft-native-all@hub": "Daft native", "spark-psh200": "pyspark_huggingface",
    "daft-native": "write_huggingface", "limit": "the limit", "disk_8": "disk",
    "spark-mapinarrow-pyarrow": "mapInArrow + pyarrow",
}
GOALS_READ_ALL = ("spark-vs-psh", "spark-vs-parquet", "daft-vs-native", "daft-vs-pyarrow")
GOALS_LATENCY = ("spark-latency", "daft-latency", "spark-hub-throughput", "daft-hub-throughput")
CDC_LABELS = {"append": "1% rows appended", "runs": "1% inserted as 10 runs", "interleaved": "1% copies interleaved"}


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


# ---- running the benchmarks ----------------------------------------------------------------------------------------

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


# ---- charts --------------------------------------------------------------------------------------------------------

@dataclass
class Bar:
    label: str
    value: float | None
    kind: str
    missing: str = ""  # why there is no value


@dataclass
class Mark:
    """A goal drawn on one bar: the value the bar must reach (or stay under)."""

    bar: int
    value: float
    text: str
    verdict: str


def _figure(title: str, subtitle: str) -> tuple[Any, Any, Any, Any]:
    """900x500 px; the title at the figure's left edge (however long the bar labels), details below it."""
    fig, ax = plt.subplots(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    head = fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold")
    sub = ax.set_title(subtitle, loc="left", fontsize=9, color="#555555")
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax, head, sub


def _fit_subtitle(fig: Any, text: Any) -> None:
    """Wrap the subtitle (it starts where the axes start, after the bar labels) until it ends inside the figure."""
    words = text.get_text()
    width = len(words)
    for _ in range(4):
        fig.canvas.draw()
        box = text.get_window_extent(fig.canvas.get_renderer())
        room = fig.bbox.x1 - 6 - box.x0
        if box.x1 <= fig.bbox.x1 - 4 or width <= 20:
            return
        width = max(20, min(width - 1, int(width * room / box.width)))
        text.set_text(textwrap.fill(words, width))


def _log_ticks(axis: Any, unit: str) -> None:
    """Log axes in plain numbers (1%, 10%, 100%), not powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,g}{unit}"))
    axis.set_minor_formatter(NullFormatter())


def _legend(fig: Any, kinds: Iterable[str], goals: bool, extra: list[Any] | None = None) -> None:
    handles = [Patch(color=COLORS[k], label=KIND_LEGEND[k]) for k in ("hfconnect", "peer", "limit") if k in kinds]
    if goals:
        handles.append(Line2D([], [], color=GOAL_COLOR, linestyle="--", lw=2, label="goal"))
    handles += extra or []
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=9)


def _overlaps(box: Any, others: list[Any], pad: float = 2.0) -> bool:
    return any(box.x0 < o.x1 + pad and o.x0 < box.x1 + pad and box.y0 < o.y1 + pad and o.y0 < box.y1 + pad
               for o in others)


def hbar_chart(path: Path, title: str, subtitle: str, xlabel: str, bars: list[Bar], marks: list[Mark],
               fmt: Callable[[float], str], log: bool = False,
               unit: str = "") -> list[tuple[float, float, float, float]]:
    """Horizontal bars (labels stay readable however long), value at each bar's end, goals as dashed marks; labels
    are moved until none overlaps another or leaves the plot. Returns the text boxes drawn (pixels), for tests."""
    fig, ax, head, sub = _figure(title, subtitle)
    ys = list(range(len(bars)))
    values = [b.value if b.value is not None else 0.0 for b in bars]
    ax.barh(ys, values, height=0.56, color=[COLORS[b.kind] for b in bars], zorder=2)
    ax.set_yticks(ys, [b.label for b in bars], fontsize=10)
    ax.invert_yaxis()
    ax.set_ylim(len(bars) - 0.5, -0.75)  # room above the first bar for its goal label
    ax.set_xlabel(xlabel, fontsize=10)
    ax.grid(axis="x", color="#e3e3e3", zorder=0)
    top = max([v for v in values if v > 0] + [m.value for m in marks if m.value > 0] + [1e-9])
    if log:
        low = min([v for v in values if v > 0] + [m.value for m in marks if m.value > 0] + [top])
        ax.set_xscale("log")
        ax.set_xlim(low / 2, top * 4)
        _log_ticks(ax.xaxis, unit)
    else:
        ax.set_xlim(0, top * 1.3)
    for m in marks:
        ax.vlines(m.value, m.bar - 0.4, m.bar + 0.4, colors=GOAL_COLOR, linestyles=(0, (3, 1.5)), lw=2, zorder=4)
    value_texts = []
    for y, b in zip(ys, bars, strict=True):
        if b.value is None:
            x0 = ax.get_xlim()[0] if log else 0
            value_texts.append(ax.annotate(f"n/a: {b.missing[:70]}", (x0, y), xytext=(4, 0),
                                           textcoords="offset points", va="center", fontsize=9, color="#666666",
                                           style="italic"))
        else:
            value_texts.append(ax.annotate(fmt(b.value), (b.value, y), xytext=(4, 0), textcoords="offset points",
                                           va="center", fontsize=9, fontweight="bold" if b.kind == "hfconnect"
                                           else "normal"))
    mark_texts = [ax.annotate(f"{m.text} ({m.verdict})", (m.value, m.bar - 0.4), xytext=(3, 1),
                              textcoords="offset points", va="bottom", ha="left", fontsize=8, color=GOAL_COLOR)
                  for m in marks]
    kinds = {b.kind for b in bars}
    _legend(fig, kinds, bool(marks))
    _fit_subtitle(fig, sub)
    _place_labels(fig, ax, bars, marks, value_texts, mark_texts)
    fig.savefig(path, dpi=DPI)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in [*value_texts, *mark_texts, *ax.get_yticklabels(), sub, head]]
    plt.close(fig)
    return [(float(b.x0), float(b.y0), float(b.x1), float(b.y1)) for b in boxes]


def _place_labels(fig: Any, ax: Any, bars: list[Bar], marks: list[Mark], value_texts: list[Any],
                  mark_texts: list[Any]) -> None:
    """A value label crossed by a goal mark moves just past that mark (then past the next one it crosses); a goal
    label that would overlap another label or a bar, or start left of the plot, tries the other side of its mark,
    then below its bar. Labels that leave the plot widen the x range. The figure was just drawn (_fit_subtitle);
    an annotation's extent follows its moves without another draw."""
    for attempt in range(3):
        if attempt:
            fig.canvas.draw()  # the x range changed
        renderer = fig.canvas.get_renderer()
        for i, (b, text) in enumerate(zip(bars, value_texts, strict=True)):
            if b.value is None:
                continue
            mine = [m.value for m in marks if m.bar == i]
            for _ in range(len(mine)):  # past the mark it crosses, then the next one if it crosses that
                box = text.get_window_extent(renderer)
                crossing = [v for v in mine if box.x0 - 3 <= ax.transData.transform((v, i))[0] <= box.x1 + 3]
                if not crossing:
                    break
                text.xy = (max(max(crossing), b.value), i)
                text.set_position((6, 0))
        placed = [t.get_window_extent(renderer) for t in value_texts]
        bar_boxes = [p.get_window_extent(renderer) for p in ax.patches]
        inside = ax.get_window_extent(renderer)
        for m, text in zip(marks, mark_texts, strict=True):
            options = [((3, 1), "left", "bottom", m.bar - 0.4), ((-3, 1), "right", "bottom", m.bar - 0.4),
                       ((3, -1), "left", "top", m.bar + 0.4), ((-3, -1), "right", "top", m.bar + 0.4)]
            for offset, ha, va, y in options:
                text.xy = (m.value, y)
                text.set_position(offset)
                text.set_ha(ha)
                text.set_va(va)
                box = text.get_window_extent(renderer)
                if box.x0 >= inside.x0 and not _overlaps(box, placed + bar_boxes, pad=1.0):
                    break
            placed.append(text.get_window_extent(renderer))
        axes_box = ax.get_window_extent(renderer)
        right = max(t.get_window_extent(renderer).x1 for t in value_texts + mark_texts)
        if right <= axes_box.x1:
            return
        lo, hi = ax.get_xlim()
        if ax.get_xscale() == "log":
            ax.set_xlim(lo, hi * (right / axes_box.x1) ** 2 * 1.5)
        else:
            ax.set_xlim(lo, hi * (1 + (right - axes_box.x1) / axes_box.width) * 1.05)


def throughput_marks(res: Result, names: list[str], metric: str = "throughput",
                     goal_ids: Iterable[str] | None = None) -> list[Mark]:
    """Goals on the charted variants: a throughput ratio is drawn where the variant's bar must reach (the ratio
    times its baseline's figure); a count or share is drawn at its threshold."""
    marks = []
    for g in res.goals:
        if goal_ids is not None and g["id"] not in goal_ids:
            continue
        if g.get("variant") not in names:
            continue
        sign = "≥" if g["direction"] == ">=" else "≤" if g["direction"] == "<=" else "="
        if g["metric"] == "throughput" and metric in ("throughput", "mb_per_s"):
            base = res.metric(g["baseline"], metric)
            if base is None:
                continue
            value = g["threshold"] * base
            text = f"{sign}{g['threshold']:g}× {short(g['baseline'], res)}"
        elif g["metric"] == "resolvers_fewer" and metric == "resolvers_per_gb":
            base = res.metric(g["baseline"], "resolvers_per_gb")
            if not base:
                continue
            value = base / g["threshold"]
            text = f"{g['threshold']:g}× fewer than {short(g['baseline'], res)}"
        elif g["metric"] == metric:
            value = g["threshold"]
            text = f"{sign}{threshold(g['threshold'], g['unit'])}"
        else:
            continue
        marks.append(Mark(names.index(g["variant"]), value, text, g["verdict"]))
    return marks


def short(name: str, res: Result) -> str:
    """A baseline's name in a goal mark: `≥4× pyspark_huggingface`, `≥0.6× 0 ms`."""
    if name in SHORT:
        return SHORT[name]
    at = name.partition("@")[2]
    if at.endswith("ms"):
        return f"{at.removesuffix('ms')} ms"
    if at == "hub":
        return "real-Hub mode"
    return str(res.by.get(name, {}).get("label") or name)


def variant_label(name: str, labels: dict[str, str] = LABELS) -> str:
    base, _, at = name.partition("@")
    for suffix in ("-all", "-agg", "-sel", "-first", "-many"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    label = labels.get(base, base)
    if at == "hub":
        label += ", real-Hub mode"
    elif at:
        label += f", {at.removesuffix('ms')} ms latency"
    return label


def bars_for(res: Result, names: list[str], metric: str, labels: dict[str, str] = LABELS,
             label: Callable[[str], str] | None = None) -> list[Bar]:
    out = []
    for n in names:
        kind = res.by[n]["kind"] if n in res.by else _kind(n)
        text = label(n) if label else variant_label(n, labels)
        value = res.metric(n, metric) if res.ran(n) else None
        out.append(Bar(text, value, kind, "" if value is not None else res.why_not(n)))
    return out


def _kind(name: str) -> str:
    if "hfconnect" in name or name.startswith("srv"):
        return "hfconnect"
    return "limit" if any(k in name for k in ("limit", "null-sink", "parquet", "pyds", "pyarrow", "disk", "tcp")) \
        else "peer"


def mbps(x: float) -> str:
    return num(x, "MB/s")


@dataclass
class Chart:
    file: str
    title: str
    caption: str


def read_charts(res: Result, out: Path) -> list[Chart]:
    charts: list[Chart] = []
    p = res.params
    lat = p.get("latency_ms", 50)
    size = f"{gb(p.get('data_bytes'))}, {p.get('files')} files, median of {p.get('rounds')} round(s)"
    names = [n for n in ("spark-hfconnect-all", "spark-psh-all", "spark-parquet-all", "spark-pyds-local-all",
                         "daft-hfconnect-all", "daft-native-all", "pyarrow-all") if n in res.by]
    if names:
        hbar_chart(out / "read_all.png", "Read throughput, all 6 columns", size, "MB/s (higher is better)",
                   bars_for(res, names, "throughput"),
                   throughput_marks(res, names, goal_ids=GOALS_READ_ALL), mbps)
        charts.append(Chart("read_all.png", "Read throughput, all columns",
                            "Full scans of the dataset: hfconnect through the local hub against pyspark_huggingface "
                            "(same hub), Daft's native reader (same files by URL) and the engines' own readers of the "
                            "local files; dashed marks: where hfconnect's bar must reach for each goal."))
    names = [n for n in ("spark-hfconnect-agg", "spark-psh-agg", "spark-parquet-agg", "daft-hfconnect-agg",
                         "daft-native-agg", "pyarrow-agg") if n in res.by]
    if names:
        hbar_chart(out / "read_agg.png", "Read throughput, count(*) + sum(f)", f"{size}; one float column of six",
                   "dataset MB per second (dataset size / median time; higher is better)",
                   bars_for(res, names, "throughput"), throughput_marks(res, names), mbps)
        charts.append(Chart("read_agg.png", "Read throughput, projected aggregate",
                            "count(*) and sum(f) over one float column of six, as the dataset's size over the time: "
                            "what column projection saves each reader."))
    names = [n for n in ("spark-hfconnect-sel", "spark-psh-sel", "daft-hfconnect-sel", "daft-native-sel")
             if n in res.by]
    if names:
        bars = bars_for(res, names, "served_pct")
        vals = [b.value for b in bars if b.value]
        hbar_chart(out / "read_selective.png", "Selective read: bytes served",
                   f"1% of the rows by id range, 2 of 6 columns; {size}",
                   "bytes the hub served, % of the dataset (lower is better)", bars,
                   throughput_marks(res, names, "served_pct"), lambda x: num(x, "%"),
                   log=bool(vals) and max(vals) / min(vals) > 30, unit="%")
        charts.append(Chart("read_selective.png", "Selective read, bytes served",
                            "How much of the dataset each reader fetched from the hub for a 1% id range of two "
                            "columns (statistics pruning and projection); the goal is at most 3%."))
    names = [n for n in ("spark-hfconnect-all@hub", "daft-hfconnect-all@hub", "daft-native-all@hub",
                         "spark-psh-all@hub") if n in res.by]
    if names:
        bars = bars_for(res, names, "resolvers_per_gb")
        vals = [b.value for b in bars if b.value]
        window = p.get("real_window")
        hbar_chart(out / "read_realhub.png", "Real-Hub mode: resolver requests per GB read",
                   f"302 to signed URLs, rate limits ({window or 300:g} s windows), {lat} ms latency; {size}",
                   "/resolve/ requests per GB (rate-limited on the Hub; lower is better)", bars,
                   throughput_marks(res, names, "resolvers_per_gb"), lambda x: num(x),
                   log=bool(vals) and max(vals) / min(vals) > 30)
        charts.append(Chart("read_realhub.png", "Real-Hub mode, resolver requests per GB",
                            "Resolver requests each reader made per GB against the local hub in real-Hub mode "
                            f"(302 to signed CDN URLs, a free user's quotas scaled to a {window:g} s window); the Hub "
                            "allows a free user 5,000 per 5 minutes." if window else
                            "Resolver requests each reader made per GB against the local hub in real-Hub mode."))
    names = [n for n in (f"spark-hfconnect-all{s}" for s in ("", f"@{lat}ms", "@hub"))] + \
            [n for n in (f"daft-hfconnect-all{s}" for s in ("", f"@{lat}ms", "@hub"))]
    names = [n for n in names if n in res.by]
    if any("@" in n for n in names):
        hbar_chart(out / "read_latency.png", "hfconnect read throughput under latency",
                   f"all columns: 0 ms, {lat} ms on every request, real-Hub mode; {size}",
                   "MB/s (higher is better)", bars_for(res, names, "throughput"),
                   throughput_marks(res, names, goal_ids=GOALS_LATENCY), mbps)
        charts.append(Chart("read_latency.png", "Throughput under latency",
                            f"hfconnect's full scans with {lat} ms added to every API and resolve request, and in "
                            "real-Hub mode (redirects, rate limits, the same latency on the CDN): concurrency and "
                            "prefetch should hide most of it."))
    return charts


def write_charts(res: Result, out: Path) -> list[Chart]:
    charts: list[Chart] = []
    p = res.params
    names = [n for n in ("spark-hfconnect", "spark-hfconnect-fn", "spark-psh200", "spark-mapinarrow-pyarrow",
                         "spark-null-sink", "daft-hfconnect", "daft-native", "limit") if n in res.by]
    if names:
        hbar_chart(out / "write.png", "Write throughput",
                   f"{gb(p.get('data_bytes'))} of Parquet input written as one Hub commit; median of "
                   f"{p.get('rounds')} round(s)", "input MB per second, to one Hub commit (higher is better)",
                   bars_for(res, names, "throughput", WRITE_LABELS), throughput_marks(res, names), mbps)
        charts.append(Chart("write.png", "Write throughput",
                            "The same rows written to the local hub as one commit by hfconnect, pyspark_huggingface "
                            "2.0.0 and Daft's write_huggingface, against a Spark sink that only counts rows (Spark's "
                            "own cost) and pyarrow writing the same optimized Parquet to local disk (the limit)."))
    cdc = res.doc.get("info", {}).get("cdc", {})
    if cdc:
        dedup_chart(out / "dedup.png", cdc, res.goal("cdc-append"))
        charts.append(Chart("dedup.png", "Dedup after a re-write",
                            "Share of a re-written dataset's bytes that a content-defined chunk store (Xet-like, "
                            "~64 KiB chunks) has not seen before, after adding 1% rows three ways, with hfconnect's "
                            "content-defined chunking on and off; the goal is at most 10% after an append."))
    return charts


def dedup_chart(path: Path, cdc: dict[str, Any], goal: dict[str, Any] | None) -> None:
    """Grouped vertical bars: per pattern, new bytes with CDC on and off."""
    fig, ax, _, sub = _figure("Dedup after re-writing a dataset with 1% more rows",
                              "new bytes a content-defined chunk store (Xet-like, ~64 KiB chunks) has not seen before")
    patterns = list(cdc)
    width = 0.36
    for k, (mode, color) in enumerate((("on", COLORS["hfconnect"]), ("off", COLORS["peer"]))):
        xs = [i + (k - 0.5) * width for i in range(len(patterns))]
        vals = [(cdc[p].get("new_share_pct") or {}).get(mode) for p in patterns]
        ax.bar(xs, [v or 0 for v in vals], width, color=color, zorder=2)
        for x, v in zip(xs, vals, strict=True):
            ax.annotate("n/a" if v is None else num(v, "%"), (x, v or 0), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=9, fontweight="bold" if mode == "on" else "normal")
    ax.set_xticks(range(len(patterns)), [CDC_LABELS.get(p, p) for p in patterns], fontsize=10)
    ax.set_ylim(0, 112)
    ax.set_ylabel("new bytes, % of the re-written dataset\n(lower is better)", fontsize=10)
    ax.grid(axis="y", color="#e3e3e3", zorder=0)
    extra = [Patch(color=COLORS["hfconnect"], label="hfconnect, CDC on (default)"),
             Patch(color=COLORS["peer"], label="hfconnect, CDC off")]
    label = None
    if goal and "append" in patterns:
        # Over the CDC-on bar only (the goal is for CDC on), its label above the line, or below if that is taken.
        i = patterns.index("append")
        ax.hlines(goal["threshold"], i - width - 0.08, i + 0.02, colors=GOAL_COLOR, linestyles=(0, (3, 1.5)), lw=2,
                  zorder=4)
        label = ax.annotate(f"≤{threshold(goal['threshold'], '%')} ({goal['verdict']})",
                            (i - width - 0.08, goal["threshold"]), xytext=(0, 2), textcoords="offset points",
                            va="bottom", fontsize=8, color=GOAL_COLOR)
        extra.append(Line2D([], [], color=GOAL_COLOR, linestyle="--", lw=2, label="goal"))
    fig.legend(handles=extra, loc="outside lower center", ncol=len(extra), frameon=False, fontsize=9)
    _fit_subtitle(fig, sub)
    if label is not None:
        renderer = fig.canvas.get_renderer()
        others = [t.get_window_extent(renderer) for t in ax.texts if t is not label]
        if _overlaps(label.get_window_extent(renderer), others):
            label.set_position((0, -2))
            label.set_va("top")
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def localhub_charts(res: Result, out: Path) -> list[Chart]:
    names = [n for n in ("srv_full", "srv_8", "disk_seq", "disk_8", "tcp_1", "tcp_8") if n in res.by]
    if not names:
        return []
    p = res.params
    hbar_chart(out / "localhub.png", "Local hub vs local disk",
               f"one {gb(p.get('size'))} file, hot page cache, median of {p.get('rounds')} round(s)",
               "MB/s (higher is better)",
               bars_for(res, names, "mb_per_s", label=lambda n: res.by[n].get("label", n)),
               throughput_marks(res, names, "mb_per_s"), mbps)
    return [Chart("localhub.png", "Local hub throughput",
                  "The local hub serving one file (one GET, 8 ranged readers) against reading it from disk and a bare "
                  "sendfile loop over TCP: the hub must never be what limits the read benchmarks (goal: 8 readers "
                  ">= 500 MB/s and >= 50% of disk).")]


def stream_charts(res: Result, out: Path) -> list[Chart]:
    """The streaming benchmark's charts, from the contract alone: one per section of its variants."""
    charts = []
    sections: dict[str, list[str]] = {}
    for v in res.doc.get("variants", []):
        sections.setdefault(v.get("section") or "stream", []).append(v["name"])
    titles = res.doc.get("info", {}).get("sections", {})
    for k, (section, names) in enumerate(sections.items()):
        metric = "mb_per_s" if any(res.by[n].get("mb_per_s") is not None for n in names) else "rows_per_s"
        unit = "MB/s" if metric == "mb_per_s" else "rows/s"
        file = f"stream_{k + 1}.png"
        title = titles.get(section, f"Streaming: {section}")
        run = f"one {res.params['seconds']:g} s run" if res.params.get("seconds") else \
            f"median of {res.params.get('rounds')} round(s)"
        hbar_chart(out / file, title, run,
                   f"{unit} (higher is better)",
                   bars_for(res, names, metric, label=lambda n: res.by[n].get("label", n)),
                   throughput_marks(res, names, metric), lambda x, u=unit: num(x, u))
        charts.append(Chart(file, title, f"{title}: {unit} per variant, {run}; dashed marks: goals."))
    return charts


CHARTS: dict[str, Callable[[Result, Path], list[Chart]]] = {
    "read": read_charts, "write": write_charts, "localhub": localhub_charts, "stream": stream_charts}


# ---- markdown ------------------------------------------------------------------------------------------------------

def md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return lines + ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]


def machine_section(results: dict[str, Result]) -> list[str]:
    machines = {json.dumps(r.doc.get("machine", {}), sort_keys=True) for r in results.values()}
    first = next(iter(results.values())).doc.get("machine", {})
    pk = first.get("packages", {})
    mem = first.get("memory_bytes")
    rows = [["CPU", f"{first.get('cpu', '?')}, {first.get('cores', '?')} cores"],
            ["memory", "n/a" if mem is None else f"{mem / 2**30:.1f} GiB"], ["OS", first.get("os", "?")],
            ["Python", first.get("python", "?")]]
    rows += [[name, pk.get(name) or "not installed"] for name in ("pyspark", "daft", "pyarrow", "huggingface_hub")]
    rows += [[f"{TITLES[n].lower()} benchmark", f"commit `{r.doc.get('commit')}`, {r.doc.get('created')}"
              + ("" if r.doc.get("load_at_start") is None else f", load average {r.doc['load_at_start']:.1f} at start")]
             for n, r in results.items()]
    lines = ["## The machine", ""] + table(["", ""], rows)
    if len(machines) > 1:
        lines += ["", "The benchmarks did not all run on this machine (or with these versions): "
                  + "; ".join(f"{n}: {json.dumps(r.doc.get('machine'))}" for n, r in results.items())]
    return lines


def goals_table(res: Result) -> list[str]:
    rows = []
    for g in res.goals:
        sign = {">=": "≥", "<=": "≤"}.get(g["direction"], "exactly")
        target = f"{sign} {threshold(g['threshold'], g['unit'])}"
        rows.append([g["description"], num(g["value"], g["unit"]), target, f"**{g['verdict']}**"])
    return table(["goal", "measured", "target", "result"], rows) if rows else ["(no goals)"]


def variants_table(res: Result) -> list[str]:
    """Every variant's figures, as the benchmark printed them."""
    rows = []
    has = {k: any(v.get(k) is not None for v in res.doc.get("variants", []))
           for k in ("served_bytes", "api_calls", "gets", "commits", "server_cpu", "rows_per_s")}
    head = ["variant", "min s", "median s", "max s", "MB/s"] + (["served MB", "API", "GETs"] if has["served_bytes"]
                                                                   else []) \
        + (["commits per job"] if has["commits"] else []) + (["server CPU"] if has["server_cpu"] else []) \
        + (["rows/s"] if has["rows_per_s"] else []) + ["notes"]
    for v in res.doc.get("variants", []):
        s = v.get("seconds") or {}
        ran = bool(s)
        row = [f"`{v['name']}`", secs(s.get("min")), secs(s.get("median")), secs(s.get("max")),
               num(v["mb_per_s"]) if v.get("mb_per_s") is not None else "-" if ran else "n/a"]
        if has["served_bytes"]:
            served = v.get("served_bytes")
            row += [num(served / MB) if served is not None else "-",
                    num(v.get("api_calls")) if v.get("api_calls") is not None else "-",
                    num(v.get("gets")) if v.get("gets") is not None else "-"]
        if has["commits"]:
            commits = v.get("commits")  # per round (write), or one count (stream)
            row.append(", ".join(map(str, commits)) if isinstance(commits, list) and commits
                       else "-" if commits is None or commits == [] else str(commits))
        if has["server_cpu"]:
            row.append("-" if v.get("server_cpu") is None else f"{100 * v['server_cpu']:.0f}%")
        if has["rows_per_s"]:
            row.append(num(v.get("rows_per_s")) if v.get("rows_per_s") is not None else "-")
        notes = list(v.get("notes") or [])
        if v.get("unavailable"):
            notes.insert(0, f"n/a: {v['unavailable']}")
        elif v.get("errors"):
            notes.append(f"{len(v['errors'])} failed run(s): {v['errors'][0]}")
        row.append("; ".join(notes))
        rows.append(row)
    return table(head, rows)


def secs(x: float | None) -> str:
    """Seconds as the benchmarks print them."""
    return "n/a" if x is None else f"{x:.2f}"


def params_line(res: Result) -> str:
    p = res.params
    parts = []
    if p.get("data_bytes") is not None:
        parts.append(f"data {gb(p['data_bytes'])}" + (f", {p['rows']:,} rows" if p.get("rows") else ""))
    elif p.get("size") is not None:
        parts.append(f"size {gb(p['size'])}")
    for key, text in (("files", "{} file(s)"), ("rounds", "{} round(s)"), ("many_files", "planning repo {:,} files"),
                      ("latency_ms", "latency {} ms"), ("cdc_size", "CDC data {}"), ("api_seconds", "API test {} s"),
                      ("only", "only {!r}")):
        if p.get(key) not in (None, False, ""):
            value = gb(p[key]) if key == "cdc_size" else p[key]
            parts.append(text.format(value))
    if p.get("real_hub"):
        parts.append(f"real-Hub window {p.get('real_window'):g} s")
    return f"Parameters: {', '.join(parts)}; commit `{res.doc.get('commit')}`, {res.doc.get('created')}."


def info_lines(res: Result) -> list[str]:
    """The benchmark's other printed figures."""
    info = res.doc.get("info", {})
    out: list[str] = []
    if res.name == "read":
        ceiling = info.get("spark_vs_python_source_ceiling")
        out.append(f"- hfconnect-Spark against a minimal Python data source reading the local files (the ceiling of "
                   f"Spark's Python data source path): {num(ceiling, 'x')}")
        peers = info.get("served_pct_peers", {})
        out.append("- bytes served by the peers on the selective read: "
                   + ", ".join(f"`{n}` {num(v, '%')}" for n, v in peers.items()))
        ttfr = info.get("time_to_first_row_s", {})
        out.append("- time to the first row of a many-file repo: "
                   + ", ".join(f"`{n}` {num(v, 's')}" for n, v in ttfr.items()))
        window = info.get("real_hub", {}).get("gb_per_window", {})
        if window:
            plans = list(next(iter(window.values())))
            out += ["", "GB each reader could read per 5-minute window of each Hub plan (real-Hub mode):", ""]
            out += table(["variant", *plans], [[f"`{n}`", *(num(v) if v is not None else "unbounded"
                                                           for v in w.values())] for n, w in window.items()])
    elif res.name == "write":
        out.append("- hfconnect-Spark against a Python sink that only counts rows (the ceiling of Spark's Python "
                   f"data source write path): {num(info.get('ceiling_vs_null_sink'), 'x')}")
        limit = info.get("rss_limit_bytes")
        for label, r in info.get("rss", {}).items():
            if "peak_rss" in r:
                out.append(f"- peak RSS of one write task, 64 MiB row groups, {label}: {r['peak_rss'] / 2**20:.0f} "
                           f"MiB (after imports {r['base_rss'] / 2**20:.0f} MiB; limit "
                           f"{(limit or 0) / 2**20:.0f} MiB)")
            else:
                out.append(f"- peak RSS, {label}: error {r}")
        for pattern, c in info.get("cdc", {}).items():
            share = c.get("new_share_pct") or {}
            out.append(f"- dedup, {c.get('description', pattern)}: new bytes {num(share.get('on'), '%')} with CDC "
                       f"on, {num(share.get('off'), '%')} off")
    elif res.name == "localhub":
        api = info.get("api", {})
        out.append(f"- API `GET revision/main`, concurrency {api.get('concurrency')}: {num(api.get('rps'))} "
                   f"requests/s, p50 {num(api.get('p50_ms'), 'ms')}, p99 {num(api.get('p99_ms'), 'ms')}, "
                   f"{api.get('errors')} errors")
        for key, value in info.get("ratios", {}).items():
            out.append(f"- ratio {key.replace('_', ' ')}: {num(value)}")
        out.append(f"- server byte counters: {info.get('counters')}; load average at start "
                   f"{num(info.get('load_average_at_start'))}")
    return out


@dataclass
class Headline:
    bench: str
    what: str
    metric: str
    ours: list[str]
    peers: list[str]
    goal_ids: list[str]
    unit: str = "MB/s"


HEADLINES = [
    Headline("read", "Spark read, all columns", "throughput", ["spark-hfconnect-all"],
             ["spark-psh-all", "spark-parquet-all"], ["spark-vs-psh", "spark-vs-parquet"]),
    Headline("read", "Daft read, all columns", "throughput", ["daft-hfconnect-all"], ["daft-native-all", "pyarrow-all"],
             ["daft-vs-native", "daft-vs-pyarrow", "daft-agg-vs-native"]),
    Headline("read", "Selective read (1% of rows, 2 of 6 columns): bytes served", "served_pct",
             ["spark-hfconnect-sel", "daft-hfconnect-sel"], ["spark-psh-sel", "daft-native-sel"],
             ["spark-sel-served", "daft-sel-served"], "%"),
    Headline("read", "Real-Hub mode: resolver requests per GB", "resolvers_per_gb",
             ["spark-hfconnect-all@hub", "daft-hfconnect-all@hub"], ["daft-native-all@hub", "spark-psh-all@hub"],
             ["spark-hub-resolvers", "daft-hub-resolvers"], ""),
    Headline("write", "Spark write", "throughput", ["spark-hfconnect", "spark-hfconnect-fn"],
             ["spark-psh200", "spark-mapinarrow-pyarrow", "spark-null-sink", "limit"],
             ["spark-vs-psh200", "spark-fn-vs-psh200", "spark-fn-vs-mapinarrow", "spark-vs-limit"]),
    Headline("write", "Daft write", "throughput", ["daft-hfconnect"], ["daft-native", "limit"],
             ["daft-vs-native", "daft-vs-limit"]),
    Headline("localhub", "Local hub, 8 ranged readers", "mb_per_s", ["srv_8"], ["disk_8"], ["ranged-vs-disk"]),
]


HEADLINE_NAMES = {
    "spark-hfconnect-sel": "Spark", "daft-hfconnect-sel": "Daft", "spark-psh-sel": "pyspark_huggingface",
    "daft-native-sel": "Daft native", "spark-hfconnect-all@hub": "Spark", "daft-hfconnect-all@hub": "Daft",
    "daft-native-all@hub": "Daft native", "spark-psh-all@hub": "pyspark_huggingface",
    "spark-psh-all": "pyspark_huggingface", "spark-parquet-all": "spark.read.parquet (local)",
    "daft-native-all": "Daft native", "pyarrow-all": "pyarrow (local)", "spark-psh200": "pyspark_huggingface 2.0.0",
    "spark-null-sink": "null sink", "limit": "pyarrow limit", "spark-hfconnect": "format",
    "spark-hfconnect-fn": "hfconnect.spark.write", "spark-mapinarrow-pyarrow": "mapInArrow + pyarrow (local)",
    "daft-native": "write_huggingface",
    "disk_8": "disk, 8 threads",
}


def headline_rows(results: dict[str, Result]) -> list[list[str]]:
    rows = []
    for h in HEADLINES:
        res = results.get(h.bench)
        if res is None or not any(n in res.by for n in h.ours):
            continue

        def cell(names: list[str], res: Result = res, h: Headline = h) -> str:
            shown = [n for n in names if n in res.by]
            if len(shown) == 1 and names is h.ours:
                return num(res.metric(shown[0], h.metric), h.unit)
            return ", ".join(f"{HEADLINE_NAMES.get(n, n)} {num(res.metric(n, h.metric), h.unit)}" for n in shown)

        rows.append([h.what, cell(h.ours), cell(h.peers) or "-", verdicts(res, h.goal_ids)])
    write = results.get("write")
    if write and write.doc.get("info", {}).get("cdc", {}).get("append"):
        share = write.doc["info"]["cdc"]["append"].get("new_share_pct") or {}
        rows.append(["New bytes after re-writing with 1% rows appended", f"CDC on {num(share.get('on'), '%')}",
                     f"CDC off {num(share.get('off'), '%')}", verdicts(write, ["cdc-append"])])
    stream = results.get("stream")
    if stream:
        ours = [n for n in stream.by if stream.by[n].get("kind") == "hfconnect"]
        cells = [f"{stream.by[n].get('label', n)} " + (num(stream.metric(n, "mb_per_s"), "MB/s")
                                                       if stream.by[n].get("mb_per_s") is not None
                                                       else num(stream.metric(n, "rows_per_s"), "rows/s"))
                 for n in ours]
        rows.append(["Streaming", ", ".join(cells) or "-", "-", verdicts(stream, [g["id"] for g in stream.goals])])
    return rows


def verdicts(res: Result, goal_ids: list[str]) -> str:
    found = [g for g in (res.goal(i) for i in goal_ids) if g]
    if not found:
        return "-"
    passed = sum(g["verdict"] == "PASS" for g in found)
    others = [f"{n} {v}" for v in ("MISS", "n/a") if (n := sum(g["verdict"] == v for g in found))]
    return f"{passed}/{len(found)} PASS" + (f" ({', '.join(others)})" if others else "")


def headline_block(results: dict[str, Result], report: Path, readme: Path) -> str:
    first = next(iter(results.values())).doc
    m = first.get("machine", {})
    link = os.path.relpath(report, readme.parent)
    smoke = is_smoke(results)
    lines = [START, ""]
    if smoke:
        lines += [f"**Smoke run, not reference figures** ({'; '.join(smoke)}).", ""]
    lines += [f"Latest figures (`scripts/bench_report.py`, {first.get('created', '?')[:10]}, commit "
              f"`{first.get('commit')}`, {m.get('cpu', '?')} with {m.get('cores', '?')} cores; charts, goals and "
              f"every figure in [{link}]({link})):", ""]
    lines += table(["", "hfconnect", "peers and limits", "goals"], headline_rows(results))
    lines += ["", END]
    return "\n".join(lines)


def update_readme(readme: Path, block: str) -> bool:
    """Replace what is between the markers (markers included) with `block`; True if the file changed."""
    text = readme.read_text()
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{readme}: no {START} ... {END} block to fill (add the two markers where the figures go)")
    new = text[:start] + block + text[end + len(END):]
    if new == text:
        return False
    readme.write_text(new)
    return True


def render(results: dict[str, Result], out: Path, readme: Path | None, skipped: dict[str, str]) -> Path:
    """Charts and REPORT.md in `out` from the results; the README block too. Deterministic: the same JSON gives the
    same files."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()  # a chart whose data is gone must not stay behind looking current
    report = out / "REPORT.md"
    lines = ["# hfconnect benchmark report", ""]
    smoke = is_smoke(results)
    if smoke:
        lines += [f"> **Smoke run, not reference figures**: {'; '.join(smoke)}. The reference run uses the "
                  "defaults (`scripts/bench_report.py` with no size options) on a quiet machine.", ""]
    lines += ["Written by `scripts/bench_report.py` from the benchmarks' JSON results in this folder "
              f"({', '.join(f'`{n}.json`' for n in results)}); `scripts/bench_report.py --from-json "
              f"{out.name}/` draws it again. MB = 10^6 bytes.", ""]
    lines += machine_section(results) + [""]
    lines += ["## Headline figures", ""] + table(["", "hfconnect", "peers and limits", "goals"],
                                                 headline_rows(results)) + [""]
    for name in BENCHMARKS:
        res = results.get(name)
        lines += [f"## {TITLES[name]} (`scripts/{BENCHMARKS[name]}`)", ""]
        if res is None:
            lines += [f"Not in this report: {skipped.get(name, f'no {name}.json')}.", ""]
            continue
        lines += [params_line(res) + (f" Printed output: [{res.log.name}]({res.log.name})." if res.log else ""), ""]
        for chart in CHARTS[name](res, out):
            lines += [f"![{chart.title}]({chart.file})", "", f"*{chart.caption}*", ""]
        lines += ["Goals:", ""] + goals_table(res) + [""]
        info = info_lines(res)
        if info:
            lines += info + [""]
        lines += ["<details><summary>Every variant</summary>", ""] + variants_table(res) + ["", "</details>", ""]
    report.write_text("\n".join(lines))
    if readme is not None:
        changed = update_readme(readme, headline_block(results, report, readme))
        print(f"{readme}: headline block {'updated' if changed else 'unchanged'}")
    print(f"report written to {report}")
    return report


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
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md", help="README whose bench block is updated")
    ap.add_argument("--no-readme", action="store_true", help="leave the README alone")
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
    render(results, out, None if args.no_readme else args.readme, skipped)
    missed = [f"{n}: {g['description']}" for n, r in results.items() for g in r.goals if g["verdict"] == "MISS"]
    if missed:
        print(f"{len(missed)} goal(s) missed:\n  " + "\n  ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
