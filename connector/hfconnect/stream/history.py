"""Which micro-batches of a streaming query already are on the Hub: the marker each batch's commit carries, and
the walk back through the branch history that finds the query's newest one.

Why the history and not a file: the Hub is the one place that knows what landed. A driver killed after the Hub
took batch N's commit and before Spark wrote its checkpoint re-runs batch N on restart; the marker tells it N is
there already. The walk reads newest first, one page (50 commits) per API call, and stops at the query's newest
commit, which is on the first page unless other writers committed in between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..hub.client import HubClient
from ..hub.history import CommitEntry, newest_commits

__all__ = ["HISTORY_DEPTH", "STREAM_MARKER", "QueryCommit", "batch_marker", "newest_query_commit"]

STREAM_MARKER = "hfconnect-stream:"
# Commits looked at, at most, for a query's newest batch. The Hub takes about a hundred commits an hour per
# repo: other writers would need many hours of commits between a crash and its restart to bury a batch deeper.
HISTORY_DEPTH = 1000
_MARKER = re.compile(re.escape(STREAM_MARKER) + r" query=(?P<query>[\w-]+) batch=(?P<batch>\d+)")


def batch_marker(query_id: str, batch_id: int) -> str:
    """The line a micro-batch's commit description carries."""
    return f"{STREAM_MARKER} query={query_id} batch={batch_id}"


@dataclass(frozen=True)
class QueryCommit:
    sha: str
    batch_id: int
    created_at: datetime | None


def newest_query_commit(client: HubClient, repo_id: str, revision: str, query_id: str, *,
                        depth: int = HISTORY_DEPTH) -> QueryCommit | None:
    """The newest commit of `revision` made by this query (its batch id and date), looking at most `depth`
    commits back (hub.history's walk); None when there is none (the query never committed here)."""

    def batch_of(commit: CommitEntry) -> int | None:
        return next((int(m["batch"]) for m in _MARKER.finditer(commit.text) if m["query"] == query_id), None)

    newest = newest_commits(client, repo_id, revision, depth, until=lambda c: batch_of(c) is not None)
    if not newest or (batch := batch_of(newest[-1])) is None:
        return None
    return QueryCommit(newest[-1].sha, batch, newest[-1].created_at)
