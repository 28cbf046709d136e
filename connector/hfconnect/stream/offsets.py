"""Where a stream that follows a dataset stands: a commit sha, and how far into a span of new files it is.

A trigger reads the files added to the split between the last offset's commit and the branch's new head (a
"span", in path order). Every offset that ends a micro-batch names its span: the commit it started from
(`base`) and the one it ends at (`sha`), and, when a per-trigger limit cut the span, how many of its files were
taken. So the next trigger takes the rest without asking the Hub, and a micro-batch replayed after a crash reads
exactly the files it read the first time from the offsets Spark logged, whatever the branch looks like now
(even a first batch whose start, `starting=latest`, Spark asks for again on restart): a span's files are a
function of two immutable commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import HfConnectError
from ..hub.datafiles import DataFile

__all__ = ["StreamOffset", "admit", "batch_span"]


@dataclass(frozen=True)
class StreamOffset:
    """`sha`: the commit this offset stands at ("" = before the first commit). `base`: the commit the span this
    offset ends started from ("" = from nothing; None for a starting offset, which ends no span). `taken`: how
    many of the span's files (added between `base` and `sha`, in path order) are read; None = all of them."""

    sha: str
    base: str | None = None
    taken: int | None = None

    @property
    def complete(self) -> bool:
        return self.taken is None

    def to_json(self) -> dict[str, Any]:
        """Spark's offset: a small JSON dict of primitives, one key order (Spark compares them as JSON text)."""
        out: dict[str, Any] = {"sha": self.sha}
        if self.base is not None:
            out["base"] = self.base
        if self.taken is not None:
            out["taken"] = self.taken
        return out

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> StreamOffset:
        try:
            base, taken = value.get("base"), value.get("taken")
            offset = cls(str(value["sha"]), None if base is None else str(base), None if taken is None else int(taken))
        except (KeyError, TypeError, ValueError, AttributeError):
            offset = None
        if offset is None or (offset.taken is not None and (offset.base is None or offset.taken < 0)):
            raise HfConnectError(f"{value!r} is not an offset of hfconnect's streaming source: was this checkpoint "
                                 "written by another source? Start the query with a new checkpointLocation")
        return offset


def admit(pending: Sequence[DataFile], max_files: int | None, max_bytes: int | None) -> int:
    """How many of the pending files (in order) one trigger takes: within both limits, but at least one, so a
    stream always moves (a file larger than max_bytes is read alone)."""
    count = 0
    size = 0
    for f in pending:
        if max_files is not None and count >= max_files:
            break
        if max_bytes is not None and count and size + f.size > max_bytes:
            break
        count += 1
        size += f.size
    return count


def batch_span(start: StreamOffset, end: StreamOffset) -> tuple[str, str, int, int | None] | None:
    """What a micro-batch from `start` to `end` reads: (base, sha, first, stop) = files `first:stop` of the span of
    files added between commits `base` and `sha`, or None for nothing. The end offset says which span; the start
    says where in it the batch begins. Offsets that do not follow each other (a checkpoint written by another
    query, or edited) are an error rather than a guess."""
    if end.base is None:
        # A starting offset ends Spark's first batch when nothing was new yet: that batch reads nothing, also when
        # Spark replays it after a crash with a starting offset asked for again (starting=latest: maybe newer).
        return None
    if end.base is not None:
        if start.sha == end.sha and start.base == end.base and start.taken is not None:
            if end.taken is None or start.taken <= end.taken:
                return end.base, end.sha, start.taken, end.taken  # the rest of a span a limit cut
        elif start.complete and (start.sha == end.base or start.base is None):
            # After a whole span; or after a starting offset, which Spark asks for again when it replays the
            # first batch after a crash and which may then be newer: the logged end says what was planned.
            return end.base, end.sha, 0, end.taken
    raise HfConnectError(f"stream offsets {start.to_json()} -> {end.to_json()} do not follow each other: was the "
                         "checkpoint written by another query? Start the query with a new checkpointLocation")
