"""scripts/bench_report.py draws a report from benchmark JSON (synthetic here, in the --json contract): the
markdown holds the machine, the goal tables and one image per chart, every chart is a real 900x500 PNG, and the
benchmarks page's block (docs/benchmarks.md) is replaced in place, the same way every time. Nothing runs a benchmark
or imports an engine. The report's modules are scripts/_report_data.py, _report_charts.py and _report_markdown.py;
bench_report.py is their command line."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

import _bench_json
import _report_charts as charts
import _report_data as data
import _report_markdown as markdown
import bench_report
import pytest

from tests.unit.scripts import bench_fixtures

ALL_CHARTS = {"read_all.png", "read_agg.png", "read_selective.png", "read_realhub.png", "read_latency.png",
              "write.png", "dedup.png", "localhub.png", "stream_1.png", "stream_2.png"}
PAGE = """# Benchmarks

Intro.

## Latest figures

Some text before.

<!-- bench:start -->
No report yet.
<!-- bench:end -->

- the rest of the section

## After
"""


def write_results(folder: Path, docs: dict[str, dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in docs.items():
        (folder / f"{name}.json").write_text(json.dumps(doc))
    return folder


def all_docs() -> dict[str, dict[str, Any]]:
    return {"read": bench_fixtures.read_doc(), "write": bench_fixtures.write_doc(),
            "localhub": bench_fixtures.localhub_doc(), "stream": bench_fixtures.stream_doc()}


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (signature, then the IHDR chunk)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One full report (four benchmarks, ten charts): drawing takes seconds, so the tests below share it."""
    tmp = tmp_path_factory.mktemp("report")
    results = write_results(tmp / "results", all_docs())
    (results / "read.txt").write_text("the read benchmark's printed table\n")
    page = tmp / "docs" / "benchmarks.md"  # where the block lives: one folder down from bench/
    page.parent.mkdir()
    page.write_text(PAGE)
    out = tmp / "bench"
    assert bench_report.main(["--from-json", str(results), "--out", str(out), "--page", str(page)]) == 0
    return {"out": out, "page": page, "results": results, "report": (out / "REPORT.md").read_text()}


def test_the_report_names_the_machine_and_the_versions(rendered: dict[str, Any]) -> None:
    report = rendered["report"]
    assert "## The machine" in report
    for row in ("| CPU | Synthetic CPU 9000, 2 cores |", "| memory | 24.0 GiB |", "| OS | Linux-6.1-x86_64 |",
                "| Python | 3.11.7 |", "| pyspark | 4.3.0 |", "| daft | 0.7.26 |", "| pyarrow | 25.0.1 |",
                "| huggingface_hub | 2.4.0 |", "| read benchmark | commit `abc1234`, 2026-11-27T12:00:00Z |"):
        assert row in report
    assert "Smoke run" not in report  # reference sizes and 3 rounds


def test_every_goal_is_in_a_goal_table_with_its_verdict(rendered: dict[str, Any]) -> None:
    report = rendered["report"]
    for doc in all_docs().values():
        for goal in doc["goals"]:
            row = next((ln for ln in report.splitlines() if ln.startswith(f"| {goal['description']} |")), None)
            assert row is not None, goal["description"]
            assert row.endswith(f"| **{goal['verdict']}** |"), row
    assert "| hfconnect-Spark >= 0.7x the pyarrow limit | 0.54× | ≥ 0.7× | **MISS** |" in report
    assert "| exactly 1 commit per hfconnect job | 1 | exactly 1 | **PASS** |" in report


def test_every_chart_is_linked_captioned_and_a_900x500_png(rendered: dict[str, Any]) -> None:
    out: Path = rendered["out"]
    lines = rendered["report"].splitlines()
    links = {m.group(1): i for i, ln in enumerate(lines) if (m := re.fullmatch(r"!\[[^\]]+\]\(([^)]+)\)", ln))}
    assert set(links) == ALL_CHARTS
    assert {p.name for p in out.glob("*.png")} == ALL_CHARTS
    for name, i in links.items():
        assert png_size(out / name) == (charts.WIDTH_PX, charts.HEIGHT_PX), name
        caption = lines[i + 2]
        assert caption.startswith("*") and caption.endswith("*") and len(caption) > 30, (name, caption)


def test_the_report_keeps_each_benchmarks_printed_output_and_parameters(rendered: dict[str, Any]) -> None:
    report = rendered["report"]
    assert (rendered["out"] / "read.txt").read_text() == "the read benchmark's printed table\n"
    assert "Printed output: [read.txt](read.txt)." in report
    assert "Parameters: data 2.15 GB, 7,000,000 rows, 16 file(s), 3 round(s)" in report
    assert "| `spark-psh-all@hub` | n/a | n/a | n/a | n/a |" in report  # a variant that could not run says so
    assert "n/a: timeout after 900s" in report


def test_the_page_block_is_replaced_in_place_and_idempotently(rendered: dict[str, Any]) -> None:
    page = rendered["page"].read_text()
    block = markdown.headline_block(data.load_results(rendered["results"]),
                                        rendered["out"] / "REPORT.md", rendered["page"])
    assert not markdown.update_page(rendered["page"], block)  # the same results again: nothing changes
    assert rendered["page"].read_text() == page
    before, block, after = page.partition("<!-- bench:start -->")[0], *page.partition("<!-- bench:start -->")[2] \
        .partition("<!-- bench:end -->")[::2]
    assert before == PAGE.partition("<!-- bench:start -->")[0]
    assert after == PAGE.partition("<!-- bench:end -->")[2]
    assert "No report yet" not in block
    assert "[../bench/REPORT.md](../bench/REPORT.md)" in block  # relative to the page
    assert "| Spark read, all columns | 352 MB/s | pyspark_huggingface 56.6 MB/s, spark.read.parquet (local) " \
           "430 MB/s | 2/2 PASS |" in block
    assert "| Spark write | format 105 MB/s, hfconnect.spark.write 147 MB/s | pyspark_huggingface 2.0.0 25.1 MB/s, " \
        "mapInArrow + pyarrow (local) 158 MB/s, null sink" in block and "3/4 PASS (1 MISS)" in block
    assert "| New bytes after re-writing with 1% rows appended | CDC on 2.10% | CDC off 44.8% | 1/1 PASS |" in block


def test_a_partial_report_says_what_is_missing_and_draws_only_what_it_has(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", {"write": bench_fixtures.write_doc()})
    out = tmp_path / "bench"
    out.mkdir()
    (out / "read_all.png").write_bytes(b"a chart from an older run")
    assert bench_report.main(["--from-json", str(results), "--out", str(out), "--no-page"]) == 0
    report = (out / "REPORT.md").read_text()
    assert {p.name for p in out.glob("*.png")} == {"write.png", "dedup.png"}
    assert "Not in this report: no read.json in" in report
    assert "## Streaming (`scripts/bench_stream.py`)\n\nNot in this report: no stream.json" in report


def test_small_runs_are_labelled_smoke_runs(tmp_path: Path) -> None:
    hub = bench_fixtures.localhub_doc(size=64 << 20)
    write = bench_fixtures.write_doc()
    write["params"]["rounds"] = 1
    results = write_results(tmp_path / "results", {"localhub": hub})
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE)
    bench_report.main(["--from-json", str(results), "--out", str(tmp_path / "bench"), "--page", str(page)])
    assert "**Smoke run, not reference figures**: localhub: 67 MB (reference 1.00 GB)" in \
        (tmp_path / "bench" / "REPORT.md").read_text()
    assert "**Smoke run, not reference figures** (localhub: 67 MB" in page.read_text()
    assert data.is_smoke({"write": data.Result("write", write)}) == ["write: 1 round(s)"]


def test_a_page_without_the_markers_is_an_error_not_a_guess(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", {"localhub": bench_fixtures.localhub_doc()})
    page = tmp_path / "benchmarks.md"
    page.write_text("# no block here\n")
    with pytest.raises(SystemExit, match="no <!-- bench:start --> ... <!-- bench:end --> block"):
        bench_report.main(["--from-json", str(results), "--out", str(tmp_path / "bench"), "--page", str(page)])
    assert page.read_text() == "# no block here\n"


def test_results_of_another_schema_are_refused(tmp_path: Path) -> None:
    doc = bench_fixtures.localhub_doc()
    doc["schema"] = 2
    results = write_results(tmp_path / "results", {"localhub": doc})
    with pytest.raises(SystemExit, match="schema 2, this report reads schema 1"):
        bench_report.main(["--from-json", str(results), "--out", str(tmp_path / "bench"), "--no-page"])


def test_goal_marks_sit_where_the_bar_must_reach() -> None:
    """A throughput ratio goal is drawn at threshold x the baseline's MB/s; a share goal at its threshold."""
    res = data.Result("read", bench_fixtures.read_doc())
    names = ["spark-hfconnect-all", "spark-psh-all", "spark-parquet-all"]
    marks = charts.throughput_marks(res, names)
    psh = res.metric("spark-psh-all", "throughput")
    parquet = res.metric("spark-parquet-all", "throughput")
    assert psh is not None and parquet is not None
    assert [(m.bar, round(m.value, 6), m.text, m.verdict) for m in marks] == [
        (0, round(4.0 * psh, 6), "≥4× pyspark_huggingface", "PASS"),
        (0, round(0.8 * parquet, 6), "≥0.8× spark.read.parquet", "PASS")]
    sel = charts.throughput_marks(res, ["spark-hfconnect-sel", "spark-psh-sel"], "served_pct")
    assert [(m.bar, m.value, m.text) for m in sel] == [(0, 3.0, "≤3%")]
    hub = charts.throughput_marks(res, ["spark-hfconnect-all@hub", "daft-native-all@hub"],
                                        "resolvers_per_gb")
    assert [(m.bar, m.value, m.text) for m in hub] == [(0, 31.0, "10× fewer than Daft native")]


@pytest.mark.parametrize("case", ["close marks", "tiny bars", "mark past every bar"])
def test_no_chart_label_overlaps_another_or_leaves_the_image(tmp_path: Path, case: str) -> None:
    """Goal labels next to each other, over short bars or beyond the longest bar, long bar labels: every text
    (title, subtitle, bar labels, values, goal labels) stays inside the 900x500 image and clear of the others."""
    Bar, Mark = charts.Bar, charts.Mark
    values = {"close marks": [352.0, 56.6, 430.0, 632.0, 614.0],
              "tiny bars": [2.6, 1.9, 10.5, 139.0, 119.0],
              "mark past every bar": [105.0, 25.1, 245.0, 169.0, 130.0]}[case]
    bars = [Bar("Spark · hfconnect", values[0], "hfconnect"),
            Bar("Spark · pyspark_huggingface 2.0.0", values[1], "peer"),
            Bar("pyarrow → local disk + sha256 (the limit)", values[2], "limit"),
            Bar("Daft · hfconnect", values[3], "hfconnect"), Bar("Daft · write_huggingface", values[4], "peer"),
            Bar("Spark · pyspark_huggingface, real-Hub mode", None, "peer", "timeout after 900s")]
    marks = [Mark(0, 4 * values[1], "≥4× pyspark_huggingface", "MISS"),
             Mark(0, 0.8 * values[2], "≥0.8× parquet", "MISS"),
             Mark(3, values[4], "≥1× write_huggingface", "PASS"),
             Mark(3, 0.7 * values[2] * 1.4, "≥0.7× the limit", "MISS")]
    if case == "mark past every bar":
        marks.append(Mark(4, 3 * max(values), "≥3× something far away", "MISS"))
    boxes = charts.hbar_chart(tmp_path / "c.png", "A title that is long but fits", "a subtitle, " * 14,
                                    "MB/s", bars, marks, lambda x: f"{x:,.0f} MB/s")
    assert png_size(tmp_path / "c.png") == (900, 500)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        assert min(x0, y0) >= 0 and x1 <= 900 and y1 <= 500, (i, boxes[i])
        for j, (a0, b0, a1, b1) in enumerate(boxes[:i]):
            assert not (x0 < a1 and a0 < x1 and y0 < b1 and b0 < y1), f"text {i} overlaps {j}: {boxes[i]} {boxes[j]}"


# ---- the JSON writer the benchmarks share ---------------------------------------------------------------------

@pytest.mark.parametrize(("value", "threshold", "direction", "verdict"), [
    (4.5, 4.0, ">=", "PASS"), (3.9, 4.0, ">=", "MISS"), (2.0, 3.0, "<=", "PASS"), (3.5, 3.0, "<=", "MISS"),
    (1, 1, "==", "PASS"), (2, 1, "==", "MISS"), (None, 4.0, ">=", "n/a"),
])
def test_goal_verdicts(value: float | None, threshold: float, direction: str, verdict: str) -> None:
    goal = _bench_json.goal("g", "a goal", value, "x", threshold, direction)
    assert goal["verdict"] == verdict
    assert set(goal) == {"id", "section", "description", "value", "unit", "threshold", "direction", "verdict",
                         "metric", "variant", "baseline"}


def test_a_document_is_strict_json_with_the_run_and_the_machine(tmp_path: Path) -> None:
    variant = {"name": "x", "mb_per_s": float("nan"), "seconds": _bench_json.seconds_stats([2, 1, 3])}
    doc = _bench_json.document("read", {"size": 1, "rounds": 1, "files": 1}, [variant],
                               [_bench_json.goal("g", "d", float("inf"), "x", 1, ">=")], {"path": Path("/a")})
    target = tmp_path / "sub" / "read.json"
    _bench_json.write(target, doc)
    back = json.loads(target.read_text())
    assert back["schema"] == 1 and back["benchmark"] == "read"
    assert back["variants"][0] == {"name": "x", "mb_per_s": None, "seconds": {"min": 1, "median": 2, "max": 3}}
    assert back["goals"][0]["value"] is None  # infinity is no JSON number
    assert back["info"] == {"path": "/a"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", back["created"])
    assert back["commit"] and back["commit"] != "unknown"  # this checkout is a git work tree
    machine = back["machine"]
    assert machine["cores"] and machine["cpu"] and machine["python"]
    assert set(machine["packages"]) == {"pyspark", "daft", "pyarrow", "huggingface_hub", "hfconnect"}
    assert not list(target.parent.glob("*.tmp"))


@pytest.mark.parametrize(("name", "kind"), [
    ("spark-hfconnect-all", "hfconnect"), ("daft-hfconnect-all@hub", "hfconnect"), ("spark-psh-all", "peer"),
    ("daft-native-all", "peer"), ("spark-parquet-all", "limit"), ("pyarrow-agg", "limit"),
    ("spark-null-sink", "limit"), ("limit", "limit"), ("daft-native", "peer"),
])
def test_kind_of(name: str, kind: str) -> None:
    assert _bench_json.kind_of(name) == kind
