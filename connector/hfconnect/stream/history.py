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
from urllib.parse import quote

from ..hub.client import HubClient

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
    commits back; None when there is none (the query never committed here)."""
    from huggingface_hub.utils import build_hf_headers, paginate
    from huggingface_hub.utils import parse_datetime as parse_date

    url = f"{client.endpoint}/api/datasets/{repo_id}/commits/{quote(revision, safe='')}"

    def walk() -> QueryCommit | None:
        headers = build_hf_headers(token=client.token or False, library_name="hfconnect")
        for seen, item in enumerate(paginate(url, params={}, headers=headers)):
            if seen >= depth:
                return None
            for m in _MARKER.finditer(f"{item.get('title') or ''}\n{item.get('message') or ''}"):
                if m["query"] == query_id:
                    date = item.get("date")
                    return QueryCommit(item["id"], int(m["batch"]), parse_date(date) if date else None)
        return None

    return client.call("commit history", walk, where=f"dataset {repo_id}@{revision}")
