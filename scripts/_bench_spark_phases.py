"""Spark's read path phase by phase (bench_read.py section (f)): what a user waits for on a first query.

Why: Spark's Python data source path costs fixed time before a single row moves (separate Python processes
for lookup_data_sources, create_data_source, plan_data_source_read, each importing our modules), and the
shards' count decides per-task overhead. Those are only visible phase by phase, in a fresh session AND warm
(the same query again), against ceilings that read the same files from local disk: a minimal Python data source
("pyds-local"), the same reader on `mapInArrow` ("mapinarrow-local") and `spark.read.parquet`.

Each run is a fresh process (bench_read.py `--phase-child CASE:READER`): Spark session start and a warm-up job
are excluded; then the timed phases, driver-side wall time:
    lookup  - (Python sources) registration + Spark's scan of installed `pyspark_*` modules (dataSourceExists)
    load    - `.load()`: create_data_source (+ schema()), or the local readers' driver-side listing
    plan    - the query's executedPlan (plan_data_source_read: reader + partitions)
    run     - the action itself (task reads, Arrow -> rows)
Cases: `small` (8 files, 400k rows: first count(), then count() and count+sum(f) warm), `empty` (one 0-row
file: the fixed cost alone), `main` (the main dataset: count+sum(f) and an all-columns read, both warm).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

READERS = ("hfconnect", "hfconnect-fn", "pyds-local", "mapinarrow-local", "parquet")
CASES = ("small", "empty", "main")
PYTHON_SOURCES = ("hfconnect", "pyds-local")
SMALL_FILES = 8
SMALL_ROWS = 400_000
SCHEMA_DDL = "id long, text string, label long, f double, emb array<float>, flag boolean"
PHASES = ("lookup", "load", "plan", "run")


BASE = "@base"  # a variant run against another hfconnect source tree (bench_read.py --baseline-src)


def variant_names(baseline: bool = False) -> list[tuple[str, str]]:
    """(variant name, case:reader) for every phase run; with `baseline`, hfconnect's format reader again on the
    baseline source (`...-hfconnect@base`), so before/after figures come from the same run."""
    out = []
    for case in CASES:
        for reader in READERS:
            out.append((f"phase-{case}-{reader}", f"{case}:{reader}"))
            if baseline and reader == "hfconnect":
                out.append((f"phase-{case}-{reader}{BASE}", f"{case}:{reader}"))
    return out


# ---- readers ---------------------------------------------------------------------------------------------------

def _local_row_groups(local_dir: str) -> list[tuple[str, int]]:
    import pyarrow.parquet as pq

    return [(str(p), i) for p in sorted(Path(local_dir).glob("*.parquet"))
            for i in range(pq.ParquetFile(p).num_row_groups)]


def register_pyds_local(spark: Any, local_dir: str) -> None:
    """The minimal Python data source: one partition per row group, pyarrow on the LOCAL files."""
    from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

    class RowGroup(InputPartition):
        def __init__(self, path: str, index: int) -> None:
            super().__init__(index)
            self.path = path

    class LocalReader(DataSourceReader):
        def __init__(self, columns: list[str]) -> None:
            self.columns = columns

        def partitions(self) -> list[RowGroup]:
            return [RowGroup(p, i) for p, i in _local_row_groups(local_dir)]

        def read(self, partition: RowGroup) -> Any:
            import pyarrow.parquet as pq

            yield from pq.ParquetFile(partition.path).iter_batches(batch_size=65_536, row_groups=[partition.value],
                                                                   columns=self.columns)

    class LocalParquetSource(DataSource):
        @classmethod
        def name(cls) -> str:
            return "bench_local_parquet"

        def schema(self) -> str:
            return SCHEMA_DDL

        def reader(self, schema: Any) -> LocalReader:
            return LocalReader(schema.fieldNames())  # `.schema("f double")` reads that column only

    spark.dataSource.register(LocalParquetSource)


def mapinarrow_local(spark: Any, local_dir: str, columns: list[str] | None = None) -> Any:
    """The same reader on mapInArrow: a row per row group, listed on the driver, read in the tasks."""
    parts = _local_row_groups(local_dir)
    ddl = ", ".join(f for f in SCHEMA_DDL.split(", ") if not columns or f.split()[0] in columns)

    def read(batches: Any) -> Any:
        import pyarrow.parquet as pq

        for b in batches:
            for i in b.column(0).to_pylist():
                path, rg = parts[i]
                yield from pq.ParquetFile(path).iter_batches(batch_size=65_536, row_groups=[rg], columns=columns)

    n = max(1, len(parts))
    return spark.range(0, len(parts), 1, n).mapInArrow(read, ddl)


def _dataframe(spark: Any, reader: str, ctx: dict[str, Any], repo: str, local_dir: str,
               columns: list[str] | None = None) -> Any:
    """The reader's DataFrame; `columns` projected the way each documents it (`.schema(...)` for Python sources,
    `columns=` for the function, Spark's own pruning for spark.read.parquet)."""
    ddl = ", ".join(f for f in SCHEMA_DDL.split(", ") if f.split()[0] in columns) if columns else None
    if reader == "hfconnect":  # auto-registered through pyspark_hfconnect, as a new user has it
        r = spark.read.format("huggingface").option("endpoint", ctx["endpoint"]).option("token", ctx["token"])
        return (r.schema(ddl) if ddl else r).load(repo)
    if reader == "hfconnect-fn":
        import hfconnect.spark as hs

        if not hasattr(hs, "read"):
            raise SystemExit("hfconnect.spark.read does not exist in this version")
        return hs.read(spark, repo, endpoint=ctx["endpoint"], token=ctx["token"],
                       **({"columns": columns} if columns else {}))
    if reader == "pyds-local":
        r = spark.read.format("bench_local_parquet")
        return (r.schema(ddl) if ddl else r).load()
    if reader == "mapinarrow-local":
        return mapinarrow_local(spark, local_dir, columns)
    if reader == "parquet":
        return spark.read.parquet(local_dir)
    raise SystemExit(f"unknown reader {reader!r}")


def _lookup(spark: Any, reader: str, local_dir: str) -> None:
    """Registration and Spark's one-off scan of the installed `pyspark_*` data sources (a Python process)."""
    if reader == "pyds-local":
        register_pyds_local(spark, local_dir)
    if reader in PYTHON_SOURCES:
        # The same check `format(name).load()` starts with; the first call runs lookup_data_sources.
        spark._jsparkSession.sessionState().dataSourceManager().dataSourceExists("huggingface")


# ---- queries ---------------------------------------------------------------------------------------------------

def _count(df: Any) -> Any:
    from pyspark.sql import functions as F

    return df.agg(F.count(F.lit(1)).alias("n"))


def _count_sum(df: Any) -> Any:
    from pyspark.sql import functions as F

    return df.select("f").agg(F.count(F.lit(1)).alias("n"), F.sum("f").alias("s"))


def phased(spark: Any, reader: str, ctx: dict[str, Any], repo: str, local_dir: str,
           query: Callable[[Any], Any], lookup: bool) -> dict[str, Any]:
    """One query, timed phase by phase (driver wall time); `lookup` only on the session's first query. A
    count+sum query reads column `f` alone, projected as each reader documents it."""
    columns = ["f"] if query is _count_sum else None
    out: dict[str, Any] = {}
    t = time.perf_counter()
    if lookup:
        _lookup(spark, reader, local_dir)
    out["lookup"] = time.perf_counter() - t
    t = time.perf_counter()
    df = _dataframe(spark, reader, ctx, repo, local_dir, columns)
    out["load"] = time.perf_counter() - t
    t = time.perf_counter()
    q = query(df)
    q._jdf.queryExecution().executedPlan()  # planning: plan_data_source_read for Python sources
    out["plan"] = time.perf_counter() - t
    t = time.perf_counter()
    rows = q.collect()
    out["run"] = time.perf_counter() - t
    out["total"] = sum(out[p] for p in PHASES)
    row = rows[0].asDict()
    out["rows"] = int(row["n"])
    if "s" in row:
        out["sum"] = float(row["s"] or 0.0)
    return out


def _noop_all(df: Any) -> Any:
    """An all-columns read, as a DataFrame whose collect() reads every column (write to noop is not one query)."""
    from pyspark.sql import functions as F

    # max over each column forces every column to be read and converted; one row comes back.
    return df.agg(F.count(F.lit(1)).alias("n"), F.max("id"), F.max(F.length("text")), F.max("label"),
                  F.sum("f").alias("s"), F.max(F.size("emb")), F.max(F.col("flag").cast("int")))


def child(spec: str, ctx: dict[str, Any], spark: Any) -> dict[str, Any]:
    """Run one `case:reader` in this fresh process (session already started); figures for the parent."""
    case, reader = spec.split(":", 1)
    if case == "main":
        repo, local_dir = ctx["repo"], ctx["local_dir"]
    else:
        repo, local_dir = ctx[f"{case}_repo"], ctx[f"{case}_dir"]
    out: dict[str, Any] = {"case": case, "reader": reader}
    if case == "main":
        phased(spark, reader, ctx, repo, local_dir, _count_sum, lookup=True)  # warms the session's path
        out["warm_narrow"] = phased(spark, reader, ctx, repo, local_dir, _count_sum, lookup=False)
        out["warm_wide"] = phased(spark, reader, ctx, repo, local_dir, _noop_all, lookup=False)
        out["seconds"] = out["warm_narrow"]["total"]
        return out
    out["fresh"] = phased(spark, reader, ctx, repo, local_dir, _count, lookup=True)
    out["warm"] = phased(spark, reader, ctx, repo, local_dir, _count, lookup=False)
    out["warm_narrow"] = phased(spark, reader, ctx, repo, local_dir, _count_sum, lookup=False)
    out["seconds"] = out["fresh"]["total"]
    return out


# ---- data ------------------------------------------------------------------------------------------------------

def generate_small(out: Path, make_table: Callable[[Any, int, int], Any], seed: int) -> list[Path]:
    """8 files of 50k rows, one row group each (the issue's small dataset: 400k rows)."""
    import numpy as np
    import pyarrow.parquet as pq

    out.mkdir(parents=True)
    per = SMALL_ROWS // SMALL_FILES
    for i in range(SMALL_FILES):
        table = make_table(np.random.default_rng([seed, 7000 + i]), i * per, per)
        pq.write_table(table, out / f"train-{i:05d}-of-{SMALL_FILES:05d}.parquet", row_group_size=per)
    return sorted(out.glob("*.parquet"))


def generate_empty(out: Path, make_table: Callable[[Any, int, int], Any]) -> list[Path]:
    """One Parquet file of the same schema with no rows: a read of it is Spark's fixed cost alone."""
    import numpy as np
    import pyarrow.parquet as pq

    out.mkdir(parents=True)
    table = make_table(np.random.default_rng(0), 0, 1).slice(0, 0)
    pq.write_table(table, out / "train-00000-of-00001.parquet")
    return sorted(out.glob("*.parquet"))


# ---- parent side: table and goals --------------------------------------------------------------------------------

def _median(values: list[float]) -> float | None:
    import statistics

    return statistics.median(values) if values else None


def summarize(results: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """variant -> {query: {phase: median seconds}} over the runs that succeeded."""
    out: dict[str, dict[str, Any]] = {}
    for name, runs in results.items():
        queries: dict[str, Any] = {}
        for q in ("fresh", "warm", "warm_narrow", "warm_wide"):
            got = [r[q] for r in runs if q in r]
            if got:
                queries[q] = {p: _median([g[p] for g in got]) for p in (*PHASES, "total")}
                queries[q]["rows"] = got[0].get("rows")
                queries[q]["sum"] = got[0].get("sum")
                queries[q]["runs"] = [g["total"] for g in got]
                queries[q]["min_total"] = min(g["total"] for g in got)
        out[name] = queries
    return out


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def print_section(results: dict[str, list[dict[str, Any]]], errors: dict[str, list[str]],
                  unavailable: dict[str, str], expected: dict[str, dict[str, Any]], load: list[str],
                  rounds: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Print (f): phases per variant, then the goals. Returns (variant records, goal records, info) for --json."""
    import _bench_json

    summary = summarize(results)
    print()
    print(f"(f) Spark phases (median of {rounds} fresh process(es) per variant; seconds of driver wall time; "
          f"load averages seen: {', '.join(load) or '?'})")
    head = (f"{'variant':<30} {'query':<12} {'lookup':>7} {'load':>6} {'plan':>6} {'run':>6} {'total':>6}  "
            f"{'runs':<18} check")
    print(head)
    records: list[dict[str, Any]] = []
    for name, spec in variant_names(baseline=any(n.endswith(BASE) for n in results)):
        case = spec.split(":")[0]
        if name not in results and name not in unavailable and name not in errors:
            continue
        q = summary.get(name, {})
        record: dict[str, Any] = {
            "name": name, "label": name, "kind": _bench_json.kind_of(name), "section": f"f-{case}",
            "section_title": f"(f) Spark phases, {case} dataset", "runs": len(results.get(name, [])),
            "seconds": _bench_json.seconds_stats([r["seconds"] for r in results.get(name, [])]),
            "mb_per_s": None, "errors": errors.get(name, []),
            "unavailable": unavailable.get(name) or (None if results.get(name) else
                                                     (errors.get(name) or ["no run"])[0]),
            "phases": q}
        records.append(record)
        if not q:
            print(f"{name:<30} n/a ({record['unavailable']})")
            continue
        for query, figures in q.items():
            exp = expected.get(case, {})
            bad = []
            if figures.get("rows") is not None and exp.get("rows") is not None and figures["rows"] != exp["rows"]:
                bad.append(f"WRONG rows {figures['rows']} != {exp['rows']}")
            if figures.get("sum") is not None and exp.get("sum") is not None and \
                    abs(figures["sum"] - exp["sum"]) > 1e-6 * max(1.0, abs(exp["sum"])):
                bad.append("WRONG sum")
            runs = ",".join(f"{t:.1f}" for t in figures["runs"])
            print(f"{name:<30} {query:<12} {_fmt(figures['lookup']):>7} {_fmt(figures['load']):>6} "
                  f"{_fmt(figures['plan']):>6} {_fmt(figures['run']):>6} {_fmt(figures['total']):>6}  "
                  f"{runs:<18} {'; '.join(bad) or 'ok'}")
            record.setdefault("checked", True)
            record["checked"] = record["checked"] and not bad
        if errors.get(name):
            print(f"{'':<30} {len(errors[name])} run(s) failed: {errors[name][0]}")

    def total(name: str, query: str) -> float | None:
        return summary.get(name, {}).get(query, {}).get("total")

    def cost(ours: str, base: str, query: str) -> float | None:
        a, b = total(ours, query), total(base, query)
        return None if a is None or b is None or not b else a / b

    # (id, description, value, threshold, direction, variant, baseline)
    goals = [
        ("phase-small-fresh", "(f) fresh session, first count() of 8 files/400k rows: hfconnect vs minimal "
         "Python source (local files), cost", cost("phase-small-hfconnect", "phase-small-pyds-local", "fresh"),
         1.1, "<=", "phase-small-hfconnect", "phase-small-pyds-local"),
        ("phase-main-warm-agg", "(f) warm count+sum(f), main dataset: hfconnect vs spark.read.parquet (local), "
         "cost", cost("phase-main-hfconnect", "phase-main-parquet", "warm_narrow"), 2.0, "<=",
         "phase-main-hfconnect", "phase-main-parquet"),
        ("phase-fn-vs-format", "(f) function API hfconnect.spark.read vs format('huggingface'), fresh first "
         "count(): speed-up", None if cost("phase-small-hfconnect-fn", "phase-small-hfconnect", "fresh") is None
         else 1 / cost("phase-small-hfconnect-fn", "phase-small-hfconnect", "fresh"), 1.3, ">=",
         "phase-small-hfconnect-fn", "phase-small-hfconnect"),
    ]
    def cost_min(ours: str, base: str, query: str) -> float | None:
        a = summary.get(ours, {}).get(query, {}).get("min_total")
        b = summary.get(base, {}).get(query, {}).get("min_total")
        return None if a is None or b is None or not b else a / b

    print("Goals (f) (cost = hfconnect's median time / the baseline's, same run; [min] = ratio of the fastest runs, "
          "less sensitive to other load on the machine)")
    out = []
    for gid, desc, value, threshold, direction, variant, baseline in goals:
        rec = _bench_json.goal(gid, desc, value, "x", threshold, direction, section=f"f-{variant.split('-')[1]}",
                               metric="phase_ratio", variant=variant, baseline=baseline)
        out.append(rec)
        shown = "n/a" if value is None else f"{value:.2f}x"
        query = {"phase-small-fresh": "fresh", "phase-main-warm-agg": "warm_narrow"}.get(gid, "fresh")
        low = cost_min(variant, baseline, query)
        if gid == "phase-fn-vs-format" and low:
            low = 1 / low
        rec["value_min_runs"] = low
        print(f"  {rec['verdict']:<4}  {desc:<100} {shown:>7}  (goal {direction} {threshold:g}x) "
              f"[min {'n/a' if low is None else f'{low:.2f}x'}]")
    info: dict[str, Any] = {"load_averages": load}
    lines = {
        "empty_fresh_s": {r: total(f"phase-empty-{r}", "fresh") for r in READERS},
        "small_fresh_vs_mapinarrow": cost("phase-small-hfconnect", "phase-small-mapinarrow-local", "fresh"),
        "small_warm_vs_pyds": cost("phase-small-hfconnect", "phase-small-pyds-local", "warm"),
        "main_warm_agg_vs_pyds": cost("phase-main-hfconnect", "phase-main-pyds-local", "warm_narrow"),
        "main_warm_wide_vs_parquet": cost("phase-main-hfconnect", "phase-main-parquet", "warm_wide"),
        "main_warm_wide_vs_pyds": cost("phase-main-hfconnect", "phase-main-pyds-local", "warm_wide"),
    }
    if any(n.endswith(BASE) for n in results):
        for case, query in (("small", "fresh"), ("small", "warm"), ("empty", "fresh"), ("main", "warm_narrow"),
                            ("main", "warm_wide")):
            lines[f"{case}_{query}_now_vs_base"] = cost(f"phase-{case}-hfconnect", f"phase-{case}-hfconnect{BASE}",
                                                        query)
    info.update(lines)
    print("  info  empty read, fresh session (fixed cost), s: " + ", ".join(
        f"{r} {_fmt(v)}" for r, v in lines["empty_fresh_s"].items()))
    for key in list(lines)[1:]:
        print(f"  info  {key}: {'n/a' if lines[key] is None else f'{lines[key]:.2f}x'}")
    return records, out, info
