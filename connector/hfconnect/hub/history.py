"""A revision's commit history, newest first: the ONE walk through the Hub's `/commits` pages.

Everything that looks back through a branch, a tag or a `refs/pr/N` goes through `newest_commits`: a write job
looking for its own commit after an ambiguous failure (by its job marker), a staged job reading a pull request's
head, a streaming query looking for its newest micro-batch, a job target counting the commits a write added.
It reads one page (50 commits) per API call, lazily, and stops at `depth` commits or at the first commit `until`
accepts, so a long history costs only the pages read. The walk runs as one `HubClient.call`: the one retry
policy, and the one error mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from .client import HubClient

__all__ = ["CommitEntry", "commits_url", "newest_commits"]


@dataclass(frozen=True)
class CommitEntry:
    """One commit of a history: its sha, title, message (the description) and date."""

    sha: str
    title: str = ""
    message: str = ""
    created_at: datetime | None = None

    @property
    def text(self) -> str:
        """Title and message, one after the other: where markers are looked for."""
        return f"{self.title}\n{self.message}"


def commits_url(endpoint: str, repo_id: str, revision: str, repo_type: str = "dataset") -> str:
    """The `/api/<type>s/<repo>/commits/<revision>` URL of a revision's history (the revision quoted whole:
    `refs/pr/1` is one path segment)."""
    return f"{endpoint}/api/{repo_type}s/{repo_id}/commits/{quote(revision, safe='')}"


def _entry(item: dict[str, object]) -> CommitEntry:
    from huggingface_hub.utils import parse_datetime

    date = item.get("date")
    try:
        created = parse_datetime(date) if isinstance(date, str) and date else None
    except ValueError:
        created = None  # a date we cannot read: the commit still counts
    return CommitEntry(str(item["id"]), str(item.get("title") or ""), str(item.get("message") or ""), created)


def newest_commits(client: HubClient, repo_id: str, revision: str, depth: int | None = None, *,
                   until: Callable[[CommitEntry], bool] | None = None, repo_type: str = "dataset",
                   where: str | None = None) -> list[CommitEntry]:
    """`revision`'s `depth` newest commits (None: all of them), newest first, stopping at the first that `until`
    accepts (which is then the last one returned). Pages are read only as far as needed."""
    from huggingface_hub.utils import build_hf_headers, paginate

    url = commits_url(client.endpoint, repo_id, revision, repo_type)

    def walk() -> list[CommitEntry]:
        out: list[CommitEntry] = []
        if depth is not None and depth < 1:
            return out
        headers = build_hf_headers(token=client.token or False, library_name="hfconnect")
        for item in paginate(url, params={}, headers=headers):  # pages come lazily: stop before the next one
            out.append(_entry(item))
            if (depth is not None and len(out) >= depth) or (until is not None and until(out[-1])):
                break
        return out

    return client.call("commit history", walk, where=where or f"{repo_type} {repo_id}@{revision}")
