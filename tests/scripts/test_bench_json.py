"""The benchmarks' `--json` output, from real (tiny) runs: it holds what the printed tables and goal lines say,
in the contract scripts/bench_report.py reads, and the report draws from it. Each benchmark runs as a script, in
its own process, as the report runs it (about a minute in all)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
VARIANT_KEYS = {"name", "label", "kind", "section", "runs", "seconds", "mb_per_s", "errors", "unavailable"}
GOAL_KEYS = {"id", "section", "description", "value", "unit", "threshold", "direction", "verdict", "metric",
             "variant", "baseline"}


def run(script: str, *args: str, json_path: Path) -> tuple[str, dict[str, Any]]:
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    proc = subprocess.run([sys.executable, str(SCRIPTS / script), *args, "--json", str(json_path)],
                          capture_output=True, text=True, timeout=600, env=env, cwd=SCRIPTS.parent)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(json_path.read_text())
    assert doc["schema"] == 1
    assert set(doc) == {"schema", "benchmark", "created", "commit", "machine", "load_at_start", "params", "variants",
                        "goals", "info"}
    assert doc["load_at_start"] >= 0
    assert doc["commit"] != "unknown" and doc["machine"]["cores"] and doc["machine"]["packages"]["pyarrow"]
    for v in doc["variants"]:
        assert set(v) >= VARIANT_KEYS, v
        assert v["kind"] in ("hfconnect", "peer", "limit")
    for g in doc["goals"]:
        assert set(g) == GOAL_KEYS, g
        assert g["verdict"] in ("PASS", "MISS", "n/a")
    return proc.stdout, doc


def printed_line(stdout: str, start: str) -> str:
    found = [ln for ln in stdout.splitlines() if ln.startswith(start)]
    assert found, f"no printed line starts with {start!r}"
    return found[0]


def assert_goals_as_printed(stdout: str, doc: dict[str, Any]) -> None:
    """Every goal line printed has its JSON goal, with the same verdict."""
    lines = stdout.splitlines()
    for g in doc["goals"]:
        line = next((ln for ln in lines if g["description"] in ln and ("goal" in ln or "PASS" in ln or "MISS" in ln
                                                                        or "n/a" in ln)), None)
        assert line is not None, g["description"]
        assert g["verdict"] in line, (g, line)
        assert not {"PASS", "MISS"} - {g["verdict"]} & set(line.replace("(", " ").split()), (g, line)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-json")


def test_bench_read_json(results: Path) -> None:
    stdout, doc = run("bench_read.py", "--size", "8MB", "--files", "2", "--rounds", "1", "--many-files", "20",
                      "--only", "pyarrow-all|plan-hfconnect-many|daft-native-all$|daft-hfconnect-sel",
                      json_path=results / "read.json")
    assert doc["benchmark"] == "read"
    assert {k: doc["params"][k] for k in ("size", "files", "rounds", "many_files")} == \
        {"size": 8_000_000, "files": 2, "rounds": 1, "many_files": 20}
    by = {v["name"]: v for v in doc["variants"]}
    assert set(by) == {"pyarrow-all", "plan-hfconnect-many", "daft-native-all", "daft-hfconnect-sel"}
    for name, v in by.items():
        cells = printed_line(stdout, f"{name} ").split()
        assert cells[1:4] == [f"{v['seconds'][k]:.2f}" for k in ("min", "median", "max")], (name, cells)
    assert by["pyarrow-all"]["kind"] == "limit" and by["pyarrow-all"]["served_bytes"] is None
    assert by["daft-native-all"]["mb_per_s"] == pytest.approx(doc["params"]["data_bytes"] / 1e6
                                                              / by["daft-native-all"]["seconds"]["median"])
    sel = by["daft-hfconnect-sel"]
    assert sel["served_bytes"] > 0 and sel["gets"] > 0 and sel["checked"]
    assert sel["served_pct"] == pytest.approx(100 * sel["served_bytes"] / doc["params"]["data_bytes"])
    goals = {g["id"]: g for g in doc["goals"]}
    assert goals["plan-api-calls"]["value"] == by["plan-hfconnect-many"]["api_calls"]
    assert goals["spark-vs-psh"]["verdict"] == "n/a"  # not run
    assert_goals_as_printed(stdout, doc)


def test_bench_write_json(results: Path) -> None:
    stdout, doc = run("bench_write.py", "--size", "8MB", "--files", "2", "--rounds", "1", "--skip-peer",
                      "--cdc-size", "4MB", "--only", "limit|daft-hfconnect", json_path=results / "write.json")
    by = {v["name"]: v for v in doc["variants"]}
    assert set(by) == {"limit", "daft-hfconnect"}
    for name, v in by.items():
        cells = printed_line(stdout, f"{name} ").split()
        assert cells[1:4] == [f"{v['seconds'][k]:.2f}" for k in ("min", "median", "max")], (name, cells)
    assert by["daft-hfconnect"]["commits"] == [1]
    goals = {g["id"]: g for g in doc["goals"]}
    assert goals["daft-vs-limit"]["value"] == pytest.approx(by["limit"]["seconds"]["median"]
                                                            / by["daft-hfconnect"]["seconds"]["median"])
    assert goals["one-commit"]["verdict"] == "PASS"
    cdc = doc["info"]["cdc"]
    assert set(cdc) == {"append", "runs", "interleaved"}
    on = cdc["append"]["new_share_pct"]["on"]
    assert f"new bytes {on:.1f}% with CDC on" in stdout
    assert all("peak_rss" in r for r in doc["info"]["rss"].values())
    for g in doc["goals"]:
        if g["id"] != "cdc-append":  # printed inside the dedup line, checked above
            assert g["description"] in stdout and g["verdict"] in printed_line(stdout, f"  {g['description']}")


def test_bench_localhub_json(results: Path) -> None:
    stdout, doc = run("bench_localhub.py", "--size", "16MB", "--rounds", "1", "--api-seconds", "0.5",
                      json_path=results / "localhub.json")
    for v in doc["variants"]:
        cells = printed_line(stdout, v["label"])[len(v["label"]):].split()
        assert cells[1] == f"{v['mb_per_s']:.0f}", (v["name"], cells)
    assert doc["info"]["api"]["requests"] > 0
    assert_goals_as_printed(stdout, doc)


def test_the_report_draws_from_them(results: Path) -> None:
    missing = {"read.json", "write.json", "localhub.json"} - {p.name for p in results.iterdir()}
    if missing:
        pytest.skip(f"the benchmark tests above did not run: {sorted(missing)}")
    out = results / "report"
    proc = subprocess.run([sys.executable, str(SCRIPTS / "bench_report.py"), "--from-json", str(results),
                           "--out", str(out), "--no-page"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (out / "REPORT.md").read_text()
    assert "**Smoke run, not reference figures**" in report
    assert {p.name for p in out.glob("*.png")} == {"read_all.png", "read_selective.png", "write.png", "dedup.png",
                                                   "localhub.png"}
