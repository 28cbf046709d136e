"""Where a stream that follows a dataset stands: a commit sha, and how far into a commit's new files it is.

A trigger reads the files added to the split between the last offset's commit and the branch's new head (a
"span", in path order). When a per-trigger limit cuts a span, the offset remembers the span's first commit and
how many of its files were taken, so the next trigger (or a restart from the checkpoint) takes the rest without
asking the Hub anything: a span's files are a function of two immutable commits.
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
    """`sha`: the commit this offset stands at ("" = before the first commit: nothing read yet).
    `base` and `taken`, for an offset inside a span: the files added between commit `base` ("" = from nothing)
    and `sha`, in path order, of which the first `taken` are read. `base is None` means the span is done."""

    sha: str
    base: str | None = None
    taken: int = 0

    @property
    def complete(self) -> bool:
        return self.base is None

    def to_json(self) -> dict[str, Any]:
        """Spark's offset: a small JSON dict of primitives, one key order (Spark compares them as JSON text)."""
        if self.base is None:
            return {"sha": self.sha}
        return {"sha": self.sha, "base": self.base, "taken": self.taken}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> StreamOffset:
        try:
            base = value.get("base")
            return cls(str(value["sha"]), None if base is None else str(base), int(value.get("taken", 0)))
        except (KeyError, TypeError, ValueError):
            raise HfConnectError(f"{value!r} is not an offset of hfconnect's streaming source: was this checkpoint "
                                 "written by another source? Start the query with a new checkpointLocation") from None


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


def batch_span(start: StreamOffset, end: StreamOffset) -> tuple[str, str, int, int | None]:
    """What a micro-batch from `start` to `end` reads: (base, sha, first, stop) = files `first:stop` of the span of
    files added between commits `base` and `sha`. Offsets that do not follow each other (a checkpoint written by
    another source, or edited) are an error rather than a guess."""
    if end.base is not None:
        if start.base is None and start.sha == end.base:
            return end.base, end.sha, 0, end.taken
        if (start.sha, start.base) == (end.sha, end.base) and start.taken <= end.taken:
            return end.base, end.sha, start.taken, end.taken
    elif start.base is None:
        return start.sha, end.sha, 0, None
    elif start.sha == end.sha:
        return start.base, start.sha, start.taken, None
    raise HfConnectError(f"stream offsets {start.to_json()} -> {end.to_json()} do not follow each other: was the "
                         "checkpoint written by another query? Start the query with a new checkpointLocation")
