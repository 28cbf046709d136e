"""A task's read-ahead: the column chunks of the row groups it will decode next, fetched in parallel ahead of the
decoder, within a byte budget (the `read_ahead_bytes` option).

Why: a CDN edge serves each connection at a bounded rate (tens of MB/s), so a task that waits for one range at a
time reads at one connection's rate, whatever the link. Daft's native reader and hf_xet keep many ranges in flight;
this is the same for hfconnect's reader. Row groups are queued in decode order (across the shard's files, as their
footers arrive); each one's coalesced spans are asked for (big spans as parallel parts: hub.rangefile) while the
bytes asked for and not yet decoded stay within the budget. The row group the decoder needs next is always asked
for, even past the budget (a row group is the unit pyarrow decodes), so the budget holds unless one row group's
projected columns alone exceed it. A decoded row group's spans are dropped and its bytes free the budget for the
next ones.

What it holds is accounted here (peak and total); with HFCONNECT_READ_STATS=<file> each task appends one JSON line
(the benchmarks' memory per task).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..hub.rangefile import RangeFile

__all__ = ["STATS_ENV", "ReadAhead", "Stats"]

START_WINDOW = 4  # row groups in flight at first; doubles with each one decoded (an early stop fetches little)
MAX_WINDOW = 64  # row groups in flight at most, however small (each is a request or more; reads scan them)
STATS_ENV = "HFCONNECT_READ_STATS"
_stats_lock = threading.Lock()


@dataclass
class _Unit:
    """One row group of one file: its coalesced [start, end) spans, in the order the decoder meets them."""

    file: RangeFile
    key: Any
    spans: list[tuple[int, int]]
    nbytes: int = 0
    asked: bool = False


@dataclass
class Stats:
    """A task's read-ahead accounting: bytes it held at most, bytes it asked for, row groups it fetched ahead."""

    budget: int
    peak: int = 0
    asked: int = 0
    units: int = 0
    over_budget: int = 0  # row groups asked for past the budget (the next one to decode was bigger than it)
    started: float = field(default_factory=time.monotonic)

    def public(self) -> dict[str, Any]:
        return {"budget": self.budget, "peak_bytes": self.peak, "asked_bytes": self.asked, "row_groups": self.units,
                "over_budget": self.over_budget, "seconds": round(time.monotonic() - self.started, 3)}


class ReadAhead:
    """Row groups queued in decode order; `fill()` asks for as many as the budget allows, `done()` frees one.

    The decoder's order must be the queue's: a task decodes the row groups it queued, in order, calling `done()`
    for each (or `close()` when it stops early)."""

    def __init__(self, budget: int) -> None:
        self.budget = max(1, int(budget))
        self.held = 0  # bytes asked for and not yet released
        self.stats = Stats(self.budget)
        self._queue: deque[_Unit] = deque()  # not yet asked for
        self._asked: dict[tuple[int, Any], _Unit] = {}  # asked for, not yet done
        # Row groups in flight at most: START_WINDOW at first, doubling with each one decoded up to MAX_WINDOW (a
        # consumer that stops after a few rows, a LIMIT, has not fetched the budget's worth for nothing); the budget
        # bounds it too.
        self._window = START_WINDOW

    def add(self, file: RangeFile, key: Any, spans: list[tuple[int, int]]) -> None:
        """Queue one row group's spans (after every row group queued before it)."""
        self._queue.append(_Unit(file, key, list(spans), sum(e - s for s, e in spans)))

    def queued(self) -> int:
        return len(self._queue)

    def fill(self) -> None:
        """Ask for queued row groups while they fit the budget; the first one whatever its size when nothing is
        held (the decoder needs it next)."""
        while self._queue:
            unit = self._queue[0]
            if self.held and (self.held + unit.nbytes > self.budget or len(self._asked) >= self._window):
                return
            self._queue.popleft()
            if not self.held and unit.nbytes > self.budget:
                self.stats.over_budget += 1
            asked = unit.file.prefetch(unit.spans)
            unit.asked = True
            self._asked[(id(unit.file), unit.key)] = unit
            self.held += unit.nbytes
            self.stats.asked += asked
            self.stats.units += 1
            self.stats.peak = max(self.stats.peak, self.held)

    def done(self, file: RangeFile, key: Any) -> None:
        """The row group `key` of `file` is decoded: its spans are dropped and its bytes free the budget."""
        unit = self._asked.pop((id(file), key), None)
        if unit is None:  # never asked for (the decoder got ahead of fill(), or it was not queued)
            return
        file.evict(unit.spans)
        self.held -= unit.nbytes
        self._window = min(2 * self._window, MAX_WINDOW)

    def drop_file(self, file: RangeFile) -> None:
        """Forget every row group of `file` (it is closed: the reader stopped early or failed)."""
        self._queue = deque(u for u in self._queue if u.file is not file)
        for k in [k for k, u in self._asked.items() if u.file is file]:
            self.held -= self._asked.pop(k).nbytes

    def close(self) -> None:
        """The task is over: the rest is dropped (its files close their own spans) and the stats are written."""
        self._queue.clear()
        self._asked.clear()
        self.held = 0
        write_stats(self.stats.public())


def write_stats(record: dict[str, Any]) -> None:
    """One JSON line per task to $HFCONNECT_READ_STATS, with the process's peak RSS (the benchmarks read it)."""
    path = os.environ.get(STATS_ENV)
    if not path:
        return
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    except (ImportError, OSError):
        rss = 0
    line = json.dumps({**record, "pid": os.getpid(), "peak_rss_bytes": rss}) + "\n"
    with _stats_lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
