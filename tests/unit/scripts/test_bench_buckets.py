"""scripts/bench_buckets.py's helpers and report, on synthetic results: the variants and where each writes or
reads, the Hub's counters turned into requests per route class, the bucket/repo ratios, the goals on the writes'
publishing requests, the checks, and the --json document. Nothing runs a benchmark or starts an engine or a hub."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import bench_buckets as bb
import pytest
from _bench_order import round_order

# The shape of LocalHub.counters(): a row per route class, the rate-limit buckets, repo commits, the CAS's figures.
COUNTERS: dict[str, Any] = {
    "api": {"requests": 6, "bytes_sent": 900, "bytes_received": 0, "errors": 0, "faults": 0, "authorized": 6},
    "resolve": {"requests": 0, "bytes_sent": 0, "bytes_received": 0, "errors": 0, "faults": 0, "authorized": 0},
    "commit": {"requests": 2, "bytes_sent": 40, "bytes_received": 300, "errors": 0, "faults": 0, "authorized": 2},
    "xet-token": {"requests": 2, "bytes_sent": 0, "bytes_received": 0, "errors": 0, "faults": 0, "authorized": 2},
    "cas": {"requests": 10, "bytes_sent": 0, "bytes_received": 7_000_000, "errors": 0, "faults": 0, "authorized": 10},
    "rate_limits": {"api": {"requests": 6, "limited": 1, "anonymous_requests": 0, "anonymous_limited": 0},
                "resolvers": {"requests": 0, "limited": 2, "anonymous_requests": 0, "anonymous_limited": 0},
                "commits": {"requests": 0, "limited": 0, "anonymous_requests": 0, "anonymous_limited": 0}},
    "commits": 0,
    "cas_routes": {"POST /v1/xorbs": {"requests": 3, "errors": 0, "authorized": 3}},
    "xet": {"xorb_bytes_received": 7_000_000, "xorb_bytes_new": 7_000_000},
    "unknown_routes": [],
}


def test_every_measurement_runs_against_a_repo_and_a_bucket() -> None:
    names = bb.variant_names()
    assert len(names) == 2 * len(bb.MEASURES) == 10
    assert {bb.split_variant(n) for n in names} == {(m, t) for m in bb.MEASURES for t in ("repo", "bucket")}
    assert bb.split_variant("daft-native-read-bucket") == ("daft-native-read", "bucket")
    for bad in ("daft-write", "daft-write-lake", "pyarrow-read-repo"):
        with pytest.raises(ValueError, match="unknown variant"):
            bb.split_variant(bad)


def test_a_shuffled_round_holds_every_variant_once() -> None:
    names = bb.variant_names()
    rounds = [round_order(names, r, seed=20240601) for r in range(3)]
    assert all(sorted(r) == sorted(names) for r in rounds)
    assert len({tuple(r) for r in rounds}) == 3


def test_writes_go_to_a_fresh_target_per_round_and_reads_to_the_read_hubs_repo_and_bucket() -> None:
    assert bb.target_of("daft-write-repo", 0) == "bench/daft-write-repo-0"
    assert bb.target_of("spark-write-bucket", 2) == "buckets/bench/spark-write-bucket-2/data"
    assert bb.target_of("daft-native-read-repo", 1) == bb.target_of("spark-read-repo", 2) == "bench/read"
    assert bb.target_of("daft-hfconnect-read-bucket", 0) == "buckets/bench/read/data"


def test_requests_per_route_class_with_repo_commits_and_rate_limited_requests() -> None:
    counts = bb.request_counts(COUNTERS)
    assert counts == {"api": 6, "resolve": 0, "commit": 2, "xet-token": 2, "cas": 10, "commits": 0, "limited": 3}
    assert list(counts)[:5] == ["api", "resolve", "commit", "xet-token", "cas"]  # the hub's order
    assert bb.request_counts({"api": {"requests": 1}}) == {"api": 1, "commits": 0, "limited": 0}


def test_median_counts_treats_a_missing_key_as_zero() -> None:
    runs = [{"api": 6, "commit": 2}, {"api": 8, "commit": 2}, {"api": 7}]
    assert bb.median_counts(runs) == {"api": 7, "commit": 2}


def test_ratio_is_bucket_throughput_over_the_repos_from_median_seconds() -> None:
    times = {"daft-write-repo": [4.0, 5.0, 6.0], "daft-write-bucket": [2.0, 2.5, 9.0], "spark-read-repo": [3.0]}
    assert bb.ratio(times, "daft-write") == pytest.approx(2.0)  # 5.0 s / 2.5 s: the bucket is twice as fast
    assert bb.ratio(times, "spark-read") is None  # no bucket run
    assert bb.ratio({"daft-write-repo": [], "daft-write-bucket": [1.0]}, "daft-write") is None
    assert bb.mb_per_s(500_000_000, [4.0, 5.0, 6.0]) == pytest.approx(100.0)
    assert bb.mb_per_s(500_000_000, []) is None
    assert bb.fmt_seconds([1.234, 10.0]) == "1.23, 10.00" and bb.fmt_seconds([]) == "n/a"


def test_the_request_goals_show_the_job_that_missed() -> None:
    counts = {
        "daft-write-bucket": [{"commit": 2, "commits": 0}, {"commit": 3, "commits": 0}],
        "spark-write-bucket": [{"commit": 2, "commits": 0}],
        "daft-write-repo": [{"commit": 1, "commits": 1}],
        "spark-write-repo": [{"commit": 1, "commits": 1}, {"commit": 2, "commits": 2}],
        "daft-native-read-bucket": [{"commit": 0, "commits": 0}],  # reads are not judged
    }
    goals = {gid: (value, expected) for gid, _, value, expected in bb.request_goals(counts)}
    assert goals == {"bucket-write-batches": (3, 2), "bucket-write-no-commit": (0, 0),
                     "repo-write-one-commit": (2, 1)}
    assert all(v is None for _, _, v, _ in bb.request_goals({}))


def test_checks_name_wrong_row_counts_rate_limits_and_empty_targets() -> None:
    results = {
        "daft-native-read-bucket": [{"seconds": 1.0, "rows": 99, "requests": {"limited": 0}}],
        "spark-read-repo": [{"seconds": 1.0, "requests": {"limited": 2}}],
        "daft-write-bucket": [{"seconds": 1.0, "written": {"files": 0, "bytes": 0}, "requests": {}},
                              {"error": "boom"}],
        "daft-write-repo": [{"seconds": 1.0, "written": {"files": 1, "bytes": 10}, "requests": {"limited": 0}}],
    }
    assert bb.counter_checks(results, rows=100) == [
        "daft-native-read-bucket run 1: read 99 rows, the data has 100",
        "spark-read-repo run 1: 2 request(s) rate-limited (429)",
        "daft-write-bucket run 1: no Parquet file at the target after the write",
    ]


def _results() -> dict[str, list[dict[str, Any]]]:
    """Two rounds of every variant; one bucket read failed once; the repo reads are faster than the bucket's."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in bb.variant_names():
        measure, target = bb.split_variant(name)
        base = {"daft-write": 4.0, "spark-write": 10.0}.get(measure, 1.0)
        runs = []
        for r in range(2):
            seconds = base * (1.25 if target == "bucket" and measure in bb.READS else 1.0) * (1 + 0.1 * r)
            requests = {"api": 6, "commit": 2 if target == "bucket" else 1, "commits": int(target == "repo"),
                        "limited": 0} if measure in bb.WRITES else {"api": 2, "resolve": 8, "bridge": 17,
                                                                      "commits": 0, "limited": 0}
            res: dict[str, Any] = {"seconds": seconds, "requests": requests}
            if measure in bb.WRITES:
                res["written"] = {"files": 2, "bytes": 300_000_000}
            elif measure.startswith("daft"):
                res["rows"] = 1000
            runs.append(res)
        out[name] = runs
    out["spark-read-bucket"][1] = {"error": "RuntimeError: synthetic", "requests": {"api": 1}}
    return out


def test_report_prints_every_variant_ratio_and_goal_and_writes_the_json_contract(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "out" / "buckets.json"
    args = argparse.Namespace(size="1GB", files=8, rounds=2, seed=1, only=None, json=str(path))
    variants = bb.variant_names()
    bb.report(args, variants, _results(), rows=1000, nbytes=500_000_000, upload={"repo": {"files": 8}},
              phases={"data": 10.0, "runs": 100.0})
    out = capsys.readouterr().out
    for name in variants:
        assert name in out
    assert "daft-write-bucket            4.00, 4.40" in out
    assert "0.80x" in out  # the reads: bucket 1.25x slower
    assert "goal: Spark read (format(\"huggingface\")): bucket throughput >= 0.9x the repo's" in out
    assert "ERROR RuntimeError: synthetic" in out
    assert "time: 110 s in all (data 10 s, runs 100 s)" in out

    doc = json.loads(path.read_text())
    assert doc["schema"] == 1 and doc["benchmark"] == "buckets"
    assert doc["params"]["data_bytes"] == 500_000_000 and doc["params"]["rounds"] == 2
    by = {v["name"]: v for v in doc["variants"]}
    assert set(by) == set(variants)
    for v in by.values():
        for key in ("name", "label", "kind", "section", "seconds", "mb_per_s", "runs", "errors", "unavailable"):
            assert key in v
        assert v["kind"] == "hfconnect"
    assert by["daft-write-repo"]["mb_per_s"] == pytest.approx(500 / 4.2)
    assert by["daft-write-bucket"]["requests"]["commit"] == 2 and by["daft-write-repo"]["requests"]["commits"] == 1
    assert by["spark-read-bucket"]["runs"] == 1 and by["spark-read-bucket"]["errors"] == ["RuntimeError: synthetic"]
    goals = {g["id"]: g for g in doc["goals"]}
    assert goals["daft-write-bucket-vs-repo"]["verdict"] == "PASS"
    assert goals["daft-native-read-bucket-vs-repo"]["value"] == pytest.approx(0.8)
    assert goals["daft-native-read-bucket-vs-repo"]["verdict"] == "MISS"
    assert goals["bucket-write-batches"]["value"] == 2 and goals["bucket-write-batches"]["verdict"] == "PASS"
    assert goals["repo-write-one-commit"]["verdict"] == "PASS"
    assert doc["info"]["bucket_vs_repo"]["spark-write"] == pytest.approx(1.0)


def test_a_report_of_reads_only_has_no_write_goals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variants = [v for v in bb.variant_names() if "read" in v]
    results = {v: r for v, r in _results().items() if v in variants}
    args = argparse.Namespace(size="20MB", files=8, rounds=2, seed=1, only="read", json=str(tmp_path / "b.json"))
    bb.report(args, variants, results, rows=1000, nbytes=10_000_000, upload={}, phases={"runs": 5.0})
    out = capsys.readouterr().out
    assert not [line for line in out.splitlines() if line.startswith(("daft-write", "spark-write"))]
    ids = {g["id"] for g in json.loads((tmp_path / "b.json").read_text())["goals"]}
    assert ids == {f"{m}-bucket-vs-repo" for m in bb.READS}
