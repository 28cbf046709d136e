"""The read-ahead's bookkeeping (read.ahead), on files that record what they were asked: row groups asked for in
decode order while they fit the budget (the next one always), a window that starts at START_WINDOW row groups and
doubles with each one decoded, bytes freed when a row group is done, and one stats line per task when asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfconnect.read.ahead import MAX_WINDOW, START_WINDOW, STATS_ENV, ReadAhead


class _File:
    """Stands for a RangeFile: records the spans asked for and evicted."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, int]] = []
        self.evicted: list[tuple[int, int]] = []

    def prefetch(self, spans: list[tuple[int, int]]) -> int:
        self.asked += spans
        return sum(e - s for s, e in spans)

    def evict(self, spans: list[tuple[int, int]]) -> None:
        self.evicted += spans


def _queue(ahead: ReadAhead, f: _File, sizes: list[int]) -> None:
    offset = 0
    for rg, size in enumerate(sizes):
        ahead.add(f, rg, [(offset, offset + size)])  # type: ignore[arg-type]
        offset += size


def test_row_groups_are_asked_for_in_order_within_the_budget_and_the_window() -> None:
    f = _File()
    budget = 30 * (START_WINDOW + 1) + 10  # one row group more than the first window, and a bit
    ahead = ReadAhead(budget=budget)
    _queue(ahead, f, [30] * 12)
    ahead.fill()
    assert len(f.asked) == START_WINDOW and ahead.held == 30 * START_WINDOW  # the window, not yet the budget
    ahead.done(f, 0)  # type: ignore[arg-type]
    assert f.evicted == [(0, 30)] and ahead.held == 30 * (START_WINDOW - 1)
    ahead.fill()  # the window doubled: now the budget decides
    held = 30 * (START_WINDOW + 1)
    assert f.asked == [(i * 30, i * 30 + 30) for i in range(START_WINDOW + 2)] and ahead.held == held
    for rg in (1, 2, 3):
        ahead.done(f, rg)  # type: ignore[arg-type]
        ahead.fill()
        assert ahead.held <= budget
    assert ahead.stats.peak == held and ahead.stats.over_budget == 0
    assert ahead.queued() == 12 - len(f.asked)


def test_the_next_row_group_is_asked_for_even_past_the_budget() -> None:
    f = _File()
    ahead = ReadAhead(budget=100)
    _queue(ahead, f, [250, 10, 10])
    ahead.fill()
    assert f.asked == [(0, 250)] and ahead.held == 250  # the decoder needs it: alone, over the budget
    ahead.done(f, 0)  # type: ignore[arg-type]
    ahead.fill()
    assert f.asked[1:] == [(250, 260), (260, 270)]
    assert (ahead.stats.peak, ahead.stats.over_budget, ahead.stats.asked) == (250, 1, 270)


def test_files_queue_after_each_other_and_a_closed_file_frees_its_bytes(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    stats = tmp_path / "stats.jsonl"
    monkeypatch.setenv(STATS_ENV, str(stats))
    a, b = _File(), _File()
    ahead = ReadAhead(budget=1000)
    _queue(ahead, a, [10, 10])
    _queue(ahead, b, [10, 10])
    ahead.fill()
    ahead.done(a, 0)  # type: ignore[arg-type]
    ahead.done(a, 1)  # type: ignore[arg-type]
    ahead.fill()
    assert b.asked == [(0, 10), (10, 20)] and ahead.held == 20
    ahead.done(b, 7)  # type: ignore[arg-type]  # never queued: nothing happens
    ahead.drop_file(b)  # type: ignore[arg-type]  # the reader stopped early
    assert ahead.held == 0 and ahead.queued() == 0
    ahead.close()
    (line,) = stats.read_text().splitlines()
    record = json.loads(line)
    peak = 10 * min(4, START_WINDOW)  # the first window, over both files
    assert (record["budget"], record["peak_bytes"], record["asked_bytes"], record["row_groups"]) == (1000, peak, 40, 4)
    assert record["peak_rss_bytes"] > 0 and record["pid"] > 0


def test_without_the_environment_variable_no_stats_are_written(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STATS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    ReadAhead(10).close()
    assert list(tmp_path.iterdir()) == []


def test_the_window_doubles_up_to_its_cap_for_small_row_groups() -> None:
    f = _File()
    ahead = ReadAhead(budget=1 << 30)
    _queue(ahead, f, [1] * 1000)
    ahead.fill()
    in_flight = []
    for rg in range(200):
        ahead.done(f, rg)  # type: ignore[arg-type]
        ahead.fill()
        in_flight.append(len(f.asked) - rg - 1)
    assert in_flight[:3] == [min(MAX_WINDOW, START_WINDOW << i) for i in (1, 2, 3)]  # doubling per row group done
    assert max(in_flight) == MAX_WINDOW
