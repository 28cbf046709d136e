"""Where a job writes (a repo, a branch of it, or a pull request), kept exactly as it was when the job fails,
and what the job's commit turned out to be once it succeeded.

The write itself is hfconnect's one atomic commit, so a failed write commits nothing. What a job may create
before writing (a branch to commit to, a repo that did not exist) it removes again when it fails. The commit is
then found on the Hub by the run id the job puts in its commit message, and its card says how many rows each
split has: the same numbers whichever engine wrote them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..hub.client import HubClient, resolve_token
from ..write.card import split_card
from .runner import JobFailed


class NothingCommitted(JobFailed):
    """The write ran and committed nothing (no rows): the target goes back to how the job found it."""

__all__ = ["Landed", "NothingCommitted", "Target"]


@dataclass(frozen=True)
class Landed:
    commit: str
    ref: str  # the branch or refs/pr/N the commit is on
    commits: int  # new commits on that ref since the job began
    split_rows: list[tuple[str, int]]

    @property
    def rows(self) -> int:
        return sum(n for _, n in self.split_rows)


@dataclass
class Target:
    """A dataset repo, the branch to commit to (created from `branch_from` if missing), or a new pull request."""

    repo: str
    revision: str = "main"
    create_pr: bool = False
    branch_from: str | None = None  # a commit sha: create `revision` there if it does not exist
    private: bool = False
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _created_repo: bool = False
    _created_branch: bool = False
    _before: list[str] = field(default_factory=list)
    _prs_before: set[str] = field(default_factory=set)

    def describe(self) -> str:
        if self.create_pr:
            return f"{self.repo} (a new pull request against {self.revision})"
        return f"{self.repo}@{self.revision}"

    def commit_message(self, what: str) -> str:
        return f"{what} (hfconnect job run {self.run_id})"

    # ---- before / after ----------------------------------------------------------------------------
    def prepare(self, endpoint: str, retry_budget: float = 60.0) -> None:
        """Create what the write needs (repo, branch) and remember the target's state."""
        from huggingface_hub import HfApi

        from ..hub.retry import RetryPolicy

        self._client = HubClient(endpoint, resolve_token(None), RetryPolicy(budget=retry_budget))
        if not self._client.token:
            raise JobFailed("writing needs a token with write access: set HF_TOKEN or log in with `hf auth login`")
        api: HfApi = self._client.api()
        where = f"dataset {self.repo}"
        exists = self._call("repo exists", api.repo_exists, self.repo, repo_type="dataset", where=where)
        if not exists:
            self._call("create repo", api.create_repo, self.repo, repo_type="dataset", private=self.private,
                       where=where)
            self._created_repo = True
        if self.revision != "main" and not self.create_pr:
            refs = self._call("list refs", api.list_repo_refs, self.repo, repo_type="dataset", where=where)
            if self.revision not in {b.name for b in refs.branches}:
                self._call("create branch", api.create_branch, self.repo, branch=self.revision,
                           revision=self.branch_from, repo_type="dataset", where=where)
                self._created_branch = True
        self._before = self._history(self.revision)
        if self.create_pr:
            self._prs_before = self._pr_refs()

    def rollback(self) -> list[str]:
        """After a failure: remove what prepare() created. Returns what was removed."""
        api = self._client.api() if hasattr(self, "_client") else None
        undone = []
        if api is not None and self._created_branch and not self._created_repo:
            self._call("delete branch", api.delete_branch, self.repo, branch=self.revision, repo_type="dataset",
                       where=f"dataset {self.repo}")
            undone.append(f"branch {self.revision}")
        if api is not None and self._created_repo:
            self._call("delete repo", api.delete_repo, self.repo, repo_type="dataset", where=f"dataset {self.repo}")
            undone.append(f"repo {self.repo}")
        return undone

    def landed(self, config: str) -> Landed:
        """The job's commit (found by its run id), how many commits the ref gained, and the card's rows."""
        ref = self.revision
        if self.create_pr:
            new = sorted(self._pr_refs() - self._prs_before)
            if not new:
                raise JobFailed(f"no new pull request on {self.repo} after the write")
            ref = new[-1]
        api = self._client.api()
        commits = self._call("commit history", api.list_repo_commits, self.repo, repo_type="dataset", revision=ref,
                             where=f"dataset {self.repo}@{ref}")
        ours = [c for c in commits if self.run_id in (c.title or "") + (c.message or "")]
        before = set(self._before)
        new_commits = sum(1 for c in commits if c.commit_id not in before)
        if not ours and not new_commits:
            raise NothingCommitted(f"nothing was committed to {self.repo}@{ref}: the job had no rows to write "
                                   "(does --where match any row?)")
        if not ours:
            raise JobFailed(f"the write reported success but no commit of run {self.run_id} is on {self.repo}@{ref}")
        return Landed(ours[0].commit_id, ref, new_commits, self._card_rows(ours[0].commit_id, ref, config))

    # ---- helpers ------------------------------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any, where: str, **kwargs: Any) -> Any:
        return self._client.call(what, fn, *args, where=where, **kwargs)

    def _history(self, ref: str) -> list[str]:
        api = self._client.api()
        return [c.commit_id for c in self._call("commit history", api.list_repo_commits, self.repo,
                                                repo_type="dataset", revision=ref, where=f"dataset {self.repo}@{ref}")]

    def _pr_refs(self) -> set[str]:
        api = self._client.api()
        refs = self._call("list refs", api.list_repo_refs, self.repo, repo_type="dataset", include_pull_requests=True,
                          where=f"dataset {self.repo}")
        return {r.ref for r in (refs.pull_requests or [])}

    def _card_rows(self, sha: str, ref: str, config: str) -> list[tuple[str, int]]:
        head = self._client.head(self.repo, ref, sha=sha)
        meta, _ = split_card(head.card or "")
        infos = meta.get("dataset_info")
        entries = infos if isinstance(infos, list) else [infos] if isinstance(infos, dict) else []
        for info in entries:
            if isinstance(info, dict) and info.get("config_name", "default") == config:
                return [(s["name"], int(s["num_examples"])) for s in info.get("splits") or []
                        if isinstance(s, dict) and isinstance(s.get("num_examples"), int)]
        return []
