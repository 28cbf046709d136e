"""A repo's pull requests as a write uses them: the newest ones with their heads, one's state, merging and
closing. Every call goes through `HubClient.call` (the one retry policy and error mapping); a merge is never
retried here (`retry=False`: a 5xx may have merged it, so `write.staging` reads the state back)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .history import newest_commits

if TYPE_CHECKING:
    from .client import HubClient

__all__ = ["PullRequest", "PullRequestState", "close_pull_request", "merge_pull_request", "newest_pull_requests",
           "pull_request_head", "pull_request_number", "pull_request_state"]


@dataclass(frozen=True)
class PullRequest:
    """A pull request's ref: its number, `refs/pr/N`, and the commit it is at."""

    num: int
    ref: str
    target_commit: str


@dataclass(frozen=True)
class PullRequestState:
    """What the Hub says of one pull request: "open", "closed", "merged" or "draft"; once merged, its merge
    commit; the files that keep it from merging, when the Hub names them."""

    num: int
    status: str
    merge_commit_oid: str | None = None
    conflicting_files: tuple[str, ...] = ()


def pull_request_number(ref_or_url: str | None) -> int | None:
    """N of `refs/pr/N` or of a `.../discussions/N` URL; None when it names no number."""
    tail = str(ref_or_url or "").rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _where(repo_id: str, repo_type: str, num: int) -> str:
    return f"{repo_type} {repo_id} pull request #{num}"


def newest_pull_requests(client: HubClient, repo_id: str, count: int, *, where: str | None = None,
                         repo_type: str = "dataset") -> list[PullRequest]:
    """The repo's `count` newest pull requests (of any status), newest first (one refs request)."""
    from .repos import list_refs

    refs = list_refs(client, repo_id, pull_requests=True, what="pull requests", where=where, repo_type=repo_type)
    found = [PullRequest(num, r.ref, r.target_commit) for r in refs.pull_requests or ()
             if (num := pull_request_number(r.ref)) is not None]
    return sorted(found, key=lambda p: p.num, reverse=True)[:count]


def pull_request_head(client: HubClient, repo_id: str, ref: str, repo_type: str = "dataset"
                      ) -> tuple[str, str] | None:
    """(sha, title + message) of the commit a pull request's ref is at, None when it has none."""
    newest = newest_commits(client, repo_id, ref, 1, repo_type=repo_type)
    return (newest[0].sha, newest[0].text) if newest else None


def pull_request_state(client: HubClient, repo_id: str, num: int, *, where: str | None = None,
                       repo_type: str = "dataset") -> PullRequestState:
    details = client.call("pull request", client.api().get_discussion_details, repo_id, num, repo_type=repo_type,
                          where=where or _where(repo_id, repo_type, num))
    conflicts = details.conflicting_files
    return PullRequestState(num, str(details.status), details.merge_commit_oid,
                            tuple(str(f) for f in conflicts) if isinstance(conflicts, list) else ())


def merge_pull_request(client: HubClient, repo_id: str, num: int, *, comment: str, where: str | None = None,
                       repo_type: str = "dataset") -> None:
    """Ask the Hub to merge the pull request (squashed into ONE commit on its target branch). Not retried: a 5xx
    or a dropped connection raises HubRequestError (`status`) and the caller reads the state back."""
    client.call("merge", client.api().merge_pull_request, repo_id, num, repo_type=repo_type, retry=False,
                comment=comment, where=where or _where(repo_id, repo_type, num))


def close_pull_request(client: HubClient, repo_id: str, num: int, *, comment: str, where: str | None = None,
                       repo_type: str = "dataset") -> None:
    """Close the pull request with `comment` (posted publicly)."""
    client.call("close pull request", client.api().change_discussion_status, repo_id, num, "closed",
                comment=comment, repo_type=repo_type, where=where or _where(repo_id, repo_type, num))
