"""The benchmark report's charts: 900x500 PNGs of hfconnect against each peer and the limit, goals drawn as
dashed marks where a bar must reach, labels placed so none overlaps another or leaves the image. One function per
benchmark (CHARTS) draws its charts into the output folder and returns them with their captions."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a display; before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402
from _report_data import Result, gb, num, threshold  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

WIDTH_PX, HEIGHT_PX, DPI = 900, 500, 100
COLORS = {"hfconnect": "#f08c00", "peer": "#4c6a86", "limit": "#b9c4ce"}
KIND_LEGEND = {"hfconnect": "hfconnect", "peer": "peer", "limit": "limit / ceiling (no hub, or no work)"}
GOAL_COLOR = "#b3261e"

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
