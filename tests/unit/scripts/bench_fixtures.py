"""Small synthetic benchmark results in the --json contract (scripts/_bench_json.py), shaped like real runs of
bench_read.py, bench_write.py and bench_localhub.py, plus a streaming benchmark that follows the contract: the
report is drawn from these without running anything. They include what a real run may hold: a variant that could
not run, a missed goal, a goal with no value."""

from __future__ import annotations

from typing import Any

import _bench_json

MB = 1_000_000
MACHINE = {"cpu": "Synthetic CPU 9000", "cores": 2, "memory_bytes": 24 * 2**30, "os": "Linux-6.1-x86_64",
           "python": "3.11.7", "packages": {"pyspark": "4.3.0", "daft": "0.7.26", "pyarrow": "25.0.1",
                                             "huggingface_hub": "2.4.0", "hfconnect": "0.1.0"}}


def _doc(benchmark: str, params: dict[str, Any], variants: list[dict[str, Any]], goals: list[dict[str, Any]],
         info: dict[str, Any]) -> dict[str, Any]:
    return {"schema": 1, "benchmark": benchmark, "created": "2026-11-27T12:00:00Z", "commit": "abc1234",
            "machine": MACHINE, "params": params, "variants": variants, "goals": goals, "info": info}


def _variant(name: str, section: str, median: float | None, data_bytes: int | None, *, mbps: bool = True,
             unavailable: str | None = None, **extra: Any) -> dict[str, Any]:
    seconds = None if median is None else {"min": median * 0.95, "median": median, "max": median * 1.1}
    return {"name": name, "label": extra.pop("label", name), "kind": _bench_json.kind_of(name), "section": section,
            "runs": 3, "seconds": seconds,
            "mb_per_s": data_bytes / MB / median if mbps and median and data_bytes else None,
            "errors": [] if unavailable is None else [unavailable], "unavailable": unavailable, **extra}


def read_doc(data_bytes: int = 2_150_000_000) -> dict[str, Any]:
    times = {"spark-hfconnect-all": 6.1, "spark-psh-all": 38.0, "spark-parquet-all": 5.0,
             "spark-pyds-local-all": 5.6, "daft-hfconnect-all": 3.4, "daft-native-all": 3.5, "pyarrow-all": 2.9}
    agg = {"spark-hfconnect-agg": 1.9, "spark-psh-agg": 30.0, "spark-parquet-agg": 0.8, "daft-hfconnect-agg": 0.7,
           "daft-native-agg": 0.75, "pyarrow-agg": 0.5}
    sel = {"spark-hfconnect-sel": 1.3, "spark-psh-sel": 100.4, "daft-hfconnect-sel": 1.1, "daft-native-sel": 2.4}
    variants = [_variant(n, "a-all", t, data_bytes, remote="hfconnect" in n or "psh" in n or "native" in n)
                for n, t in times.items()]
    variants += [_variant(n, "a-agg", t, data_bytes, mbps=False) for n, t in agg.items()]
    variants += [_variant(n, "b", 2.0, data_bytes, mbps=False, remote=True, served_pct=p,
                          served_bytes=int(p / 100 * data_bytes), api_calls=4, gets=40) for n, p in sel.items()]
    variants += [_variant("plan-hfconnect-many", "c", 1.8, None, remote=True, api_calls=6, gets=0,
                          notes=["64 shards"]),
                 _variant("spark-hfconnect-first", "c", 2.5, None, mbps=False),
                 _variant("daft-hfconnect-first", "c", 1.9, None, mbps=False)]
    lat = {"spark-hfconnect-all@50ms": 7.3, "daft-hfconnect-all@50ms": 4.4}
    variants += [_variant(n, "d", t, data_bytes) for n, t in lat.items()]
    hub = {"spark-hfconnect-all@hub": 7.9, "daft-hfconnect-all@hub": 4.9, "daft-native-all@hub": 6.5}
    variants += [_variant(n, "e", t, data_bytes, real={"resolvers": 18, "api": 6}) for n, t in hub.items()]
    variants.append(_variant("spark-psh-all@hub", "e", None, data_bytes, unavailable="timeout after 900s"))
    t = {**times, **agg, **lat, **hub}

    def ratio(ours: str, peer: str) -> float:
        return t[peer] / t[ours]

    g = _bench_json.goal
    goals = [
        g("spark-vs-psh", "hfconnect-Spark all-columns vs pyspark_huggingface", ratio("spark-hfconnect-all",
          "spark-psh-all"), "x", 4.0, ">=", metric="throughput", variant="spark-hfconnect-all",
          baseline="spark-psh-all", section="a-all"),
        g("spark-vs-parquet", "hfconnect-Spark all-columns vs spark.read.parquet (local)",
          ratio("spark-hfconnect-all", "spark-parquet-all"), "x", 0.8, ">=", metric="throughput",
          variant="spark-hfconnect-all", baseline="spark-parquet-all", section="a-all"),
        g("daft-vs-native", "hfconnect-Daft all-columns vs Daft native read_parquet",
          ratio("daft-hfconnect-all", "daft-native-all"), "x", 1.0, ">=", metric="throughput",
          variant="daft-hfconnect-all", baseline="daft-native-all", section="a-all"),
        g("daft-agg-vs-native", "hfconnect-Daft count+sum(f) vs Daft native read_parquet",
          ratio("daft-hfconnect-agg", "daft-native-agg"), "x", 1.0, ">=", metric="throughput",
          variant="daft-hfconnect-agg", baseline="daft-native-agg", section="a-agg"),
        g("daft-vs-pyarrow", "hfconnect-Daft all-columns vs pyarrow read_table (local)",
          ratio("daft-hfconnect-all", "pyarrow-all"), "x", 0.8, ">=", metric="throughput",
          variant="daft-hfconnect-all", baseline="pyarrow-all", section="a-all"),
        g("spark-sel-served", "(b) hfconnect-Spark selective: bytes served", sel["spark-hfconnect-sel"], "%", 3.0,
          "<=", metric="served_pct", variant="spark-hfconnect-sel", section="b"),
        g("daft-sel-served", "(b) hfconnect-Daft selective: bytes served", sel["daft-hfconnect-sel"], "%", 3.0,
          "<=", metric="served_pct", variant="daft-hfconnect-sel", section="b"),
        g("plan-api-calls", "(c) planning: API calls (max over rounds)", 6, "", 15, "<=", metric="api_calls",
          variant="plan-hfconnect-many", section="c"),
        g("plan-seconds", "(c) planning: seconds (median)", 1.8, "s", 5.0, "<=", metric="seconds",
          variant="plan-hfconnect-many", section="c"),
        g("spark-latency", "(d) hfconnect-Spark throughput @50ms vs 0 ms",
          ratio("spark-hfconnect-all@50ms", "spark-hfconnect-all"), "x", 0.6, ">=", metric="throughput",
          variant="spark-hfconnect-all@50ms", baseline="spark-hfconnect-all", section="d"),
        g("daft-latency", "(d) hfconnect-Daft throughput @50ms vs 0 ms",
          ratio("daft-hfconnect-all@50ms", "daft-hfconnect-all"), "x", 0.6, ">=", metric="throughput",
          variant="daft-hfconnect-all@50ms", baseline="daft-hfconnect-all", section="d"),
    ]
    per_gb = {"spark-hfconnect-all@hub": (8.4, 2.8), "daft-hfconnect-all@hub": (8.4, 2.8),
              "daft-native-all@hub": (310.0, 0.0)}
    for ours in ("spark-hfconnect-all@hub", "daft-hfconnect-all@hub"):
        short = ours.split("-")[0]
        goals.append(g(f"{short}-hub-resolvers", f"{ours}: resolver requests per GB, x fewer than Daft native",
                       per_gb["daft-native-all@hub"][0] / per_gb[ours][0], "x", 10.0, ">=", section="e",
                       metric="resolvers_fewer", variant=ours, baseline="daft-native-all@hub"))
        plain = ours.replace("@hub", "@50ms")
        goals.append(g(f"{short}-hub-throughput", f"{ours}: throughput vs {plain} (no redirects)",
                       ratio(ours, plain), "x", 0.8, ">=", section="e", metric="throughput", variant=ours,
                       baseline=plain))
    info = {"served_pct_peers": {"daft-native-sel": 2.4, "spark-psh-sel": 100.4},
            "spark_vs_python_source_ceiling": 0.92,
            "time_to_first_row_s": {"spark-hfconnect-first": 2.5, "daft-hfconnect-first": 1.9},
            "real_hub": {"per_gb": {n: {"resolvers": r, "api": a} for n, (r, a) in per_gb.items()},
                         "gb_per_window": {n: {"anonymous": 3000 / r, "free": 5000 / r} for n, (r, _) in
                                           per_gb.items()},
                         "plans": {"anonymous": {"resolvers": 3000, "api": 500}}}}
    params = {"size": 2 << 30, "data_bytes": data_bytes, "rows": 7_000_000, "files": 16, "rounds": 3,
              "quick": False, "many_files": 10_000, "latency_ms": 50, "real_hub": True, "real_window": 60.0,
              "only": None}
    return _doc("read", params, variants, goals, info)


def write_doc(data_bytes: int = 1_030_000_000) -> dict[str, Any]:
    times = {"limit": 5.3, "spark-null-sink": 4.2, "spark-hfconnect": 9.8, "daft-hfconnect": 6.1,
             "daft-native": 7.9, "spark-psh200": 41.0, "spark-hfconnect-fn": 7.0, "spark-mapinarrow-pyarrow": 6.5}
    variants = [_variant(n, "write", t, data_bytes, commits=None if n == "limit" else [1, 1, 1])
                for n, t in times.items()]
    g = _bench_json.goal
    pairs = [("spark-vs-psh200", "hfconnect-Spark >= 3x pyspark_huggingface 2.0.0", "spark-hfconnect",
              "spark-psh200", 3.0),
             ("spark-fn-vs-psh200", "hfconnect.spark.write >= 1.2x pyspark_huggingface 2.0.0", "spark-hfconnect-fn",
              "spark-psh200", 1.2),
             ("spark-fn-vs-mapinarrow", "hfconnect.spark.write >= 0.9x mapInArrow + pyarrow", "spark-hfconnect-fn",
              "spark-mapinarrow-pyarrow", 0.9),
             ("daft-vs-native", "hfconnect-Daft >= 1.0x Daft write_huggingface", "daft-hfconnect", "daft-native", 1.0),
             ("spark-vs-limit", "hfconnect-Spark >= 0.7x the pyarrow limit", "spark-hfconnect", "limit", 0.7),
             ("daft-vs-limit", "hfconnect-Daft >= 0.7x the pyarrow limit", "daft-hfconnect", "limit", 0.7)]
    goals = [g(i, d, times[b] / times[a], "x", thr, ">=", section="write", metric="throughput", variant=a,
               baseline=b) for i, d, a, b, thr in pairs]
    goals.append(g("one-commit", "exactly 1 commit per hfconnect job", 1, "", 1, "==", section="write",
                   metric="commits"))
    goals.append(g("cdc-append", "dedup after a 1% append: new bytes with CDC on", 2.1, "%", 10, "<=",
                   section="cdc", metric="new_share_pct", variant="append"))
    shares = {"append": (2.1, 44.8), "runs": (13.9, 46.0), "interleaved": (21.0, 58.0)}
    info = {"ceiling_vs_null_sink": 0.43, "rss_limit_bytes": 328 * 2**20,
            "rss": {"128MB files": {"peak_rss": 250 * 2**20, "base_rss": 170 * 2**20, "files": 9},
                    "512MB files": {"peak_rss": 252 * 2**20, "base_rss": 170 * 2**20, "files": 3}},
            "cdc": {p: {"description": f"1% new rows, {p}", "new_share_pct": {"on": on, "off": off}}
                    for p, (on, off) in shares.items()}}
    params = {"size": 10**9, "data_bytes": data_bytes, "rows": 3_333_333, "files": 8, "rounds": 3,
              "cdc_size": 200 * 10**6, "skip_peer": False, "only": None, "only_rss": False}
    return _doc("write", params, variants, goals, info)


def localhub_doc(size: int = 1 << 30) -> dict[str, Any]:
    mbps = {"disk_seq": 5200.0, "disk_8": 7900.0, "srv_full": 1900.0, "srv_8": 4100.0, "tcp_1": 2300.0,
            "tcp_8": 4800.0}
    labels = {"disk_seq": "disk: sequential read, 1 MiB reads", "disk_8": "disk: 8 threads os.pread, 8 MiB chunks",
              "srv_full": "server: 1 full GET, iter_content(8 MiB)", "srv_8": "server: 8 ranged readers, 64 MiB ranges",
              "tcp_1": "ref: raw sendfile over TCP, 1 conn", "tcp_8": "ref: raw sendfile over TCP, 8 conns"}
    variants = []
    for name, rate in mbps.items():
        v = _variant(name, "throughput", size / MB / rate, size, label=labels[name], server_cpu=0.5, client_cpu=0.9)
        v["kind"] = "hfconnect" if name.startswith("srv") else "limit"
        variants.append(v)
    g = _bench_json.goal
    goals = [g("ranged-vs-disk", "8 readers >= 50% of disk throughput and >= 500 MB/s", 4100.0, "MB/s",
               max(500.0, 0.5 * 7900.0), ">=", section="throughput", metric="mb_per_s", variant="srv_8",
               baseline="disk_8"),
             g("api-rps", ">= 500 API requests/s", 2400.0, "req/s", 500.0, ">=", section="api", metric="rps",
               variant="api")]
    info = {"api": {"concurrency": 8, "rps": 2400.0, "p50_ms": 3.1, "p99_ms": 7.9, "errors": 0},
            "ratios": {"ranged_vs_disk_8": 4100 / 7900}, "counters": "OK", "load_average_at_start": 0.3}
    return _doc("localhub", {"size": size, "rounds": 3, "files": 1, "api_seconds": 5}, variants, goals, info)


def stream_doc() -> dict[str, Any]:
    """A streaming benchmark as the contract lets one be: two sections, one in MB/s, one in rows/s."""
    variants = [
        _variant("spark-stream-hfconnect", "throughput", 10.0, 800 * MB, label="Spark stream · hfconnect"),
        _variant("spark-stream-parquet-limit", "throughput", 6.0, 800 * MB, label="Spark stream · local files"),
        _variant("spark-stream-hfconnect-small", "micro-batches", 5.0, None, label="hfconnect, 1k-row batches",
                 rows_per_s=21_000.0),
        _variant("spark-stream-psh", "micro-batches", None, None, label="pyspark_huggingface",
                 unavailable="no streaming support"),
    ]
    goals = [_bench_json.goal("stream-vs-files", "hfconnect stream >= 0.5x reading the local files", 0.6, "x", 0.5,
                              ">=", section="throughput", metric="throughput", variant="spark-stream-hfconnect",
                              baseline="spark-stream-parquet-limit")]
    info = {"sections": {"throughput": "Streaming read throughput", "micro-batches": "Small micro-batches"}}
    return _doc("stream", {"size": 800 * MB, "rounds": 3}, variants, goals, info)
