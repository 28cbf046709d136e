"""scripts/bench_media.py's helpers and report, on synthetic results and a tiny generated dataset: variant names,
the hub's counters as requests, the data in both layouts (same rows, the Image feature in the Parquet), and the
table with its checks and --json document. Nothing starts an engine or a hub."""

from __future__ import annotations

import argparse
import json
import tarfile
from pathlib import Path

import bench_media as bm
import pyarrow.parquet as pq


def test_variants_split_into_reader_and_layout() -> None:
    assert bm.split_variant("daft-read-webdataset-wds") == ("daft-read-webdataset", "wds")
    assert bm.split_variant("spark-parquet") == ("spark", "parquet")
    assert {bm.split_variant(v)[1] for v in bm.VARIANTS} == set(bm.REPOS)


def test_requests_count_every_route_class_and_the_resolver() -> None:
    counters = {"api": {"requests": 3}, "resolve": {"requests": 2}, "cdn": {"requests": 10}, "commits": 1,
                "rate_limits": {"api": {"requests": 3, "limited": 0}}, "unknown_routes": []}
    assert bm.requests_of(counters) == {"all": 15, "resolve": 2}


def test_the_data_is_the_same_rows_in_both_layouts(tmp_path: Path) -> None:
    made = bm.make_data(tmp_path, 600_000, 2)
    keys = []
    for tar_path in sorted((tmp_path / "wds" / "data").glob("*.tar")):
        with tarfile.open(tar_path) as tar:
            keys += sorted({m.name.split(".")[0] for m in tar.getmembers()})
    table = pq.read_table(sorted((tmp_path / "parquet" / "data").glob("*.parquet")))
    assert table.column("__key__").to_pylist() == keys and made["rows"] == len(keys) > 0
    assert json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]["jpg"] == {"_type": "Image"}
    assert pq.ParquetFile(sorted((tmp_path / "parquet" / "data").glob("*.parquet"))[0]).metadata.row_group(0) \
        .num_rows <= bm.ROW_GROUP_ROWS


def test_the_report_prints_ratios_checks_and_json(tmp_path: Path, capsys) -> None:
    made = {"rows": 100, "bytes": {"wds": 10**9, "parquet": 9 * 10**8}}
    ok = {"seconds": 5.0, "rows": 100, "requests": {"all": 50, "resolve": 8}}
    results = {("local", "datasets-wds"): [ok], ("local", "spark-wds"): [{**ok, "seconds": 10.0, "rows": 99}],
               ("local", "daft-wds"): [{"error": "boom"}]}
    args = argparse.Namespace(rounds=1, size="1GB", tars=8, json=str(tmp_path / "out.json"))
    bm.report(args, ["local"], ["datasets-wds", "spark-wds", "daft-wds"], results, made, 1.0)
    out = capsys.readouterr().out
    assert "0.50x" in out and "ERROR boom" in out and "spark-wds run 1: 99 rows, the data has 100" in out
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["benchmark"] == "media" and {v["name"] for v in doc["variants"]} >= {"local-spark-wds"}
