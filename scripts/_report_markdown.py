"""The benchmark report's markdown: bench/REPORT.md (the machine, the headline figures, per benchmark its
parameters, charts with captions, goal table, other figures and every variant) and the headline block of the
benchmarks page (docs/benchmarks.md, between `<!-- bench:start -->` and `<!-- bench:end -->`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from _report_charts import CHARTS
from _report_data import BENCHMARKS, MB, TITLES, Result, gb, is_smoke, num, threshold

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


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


def headline_block(results: dict[str, Result], report: Path, page: Path) -> str:
    """The page's block: the headline table, the run it is from, and a link to the report (relative to the page)."""
    first = next(iter(results.values())).doc
    m = first.get("machine", {})
    link = os.path.relpath(report, page.parent)
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


def update_page(page: Path, block: str) -> bool:
    """Replace what is between the markers (markers included) with `block`; True if the file changed."""
    text = page.read_text()
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{page}: no {START} ... {END} block to fill (add the two markers where the figures go)")
    new = text[:start] + block + text[end + len(END):]
    if new == text:
        return False
    page.write_text(new)
    return True


def render(results: dict[str, Result], out: Path, page: Path | None, skipped: dict[str, str]) -> Path:
    """Charts and REPORT.md in `out` from the results; the benchmarks page's block too (unless `page` is None).
    Deterministic: the same JSON gives the same files."""
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
    if page is not None:
        changed = update_page(page, headline_block(results, report, page))
        print(f"{page}: headline block {'updated' if changed else 'unchanged'}")
    print(f"report written to {report}")
    return report
