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

from ..hub import repos
from ..hub.client import HubClient, resolve_token
from ..hub.history import newest_commits
from ..write.card import split_card
from .runner import JobFailed


class NothingCommitted(JobFailed):
    """The write ran and committed nothing (no rows): the target goes back to how the job found it."""

__all__ = ["BucketJobTarget", "Landed", "NothingCommitted", "RepoJobTarget", "job_target"]


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
class RepoJobTarget:
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

    is_bucket = False

    def describe(self) -> str:
        if self.create_pr:
            return f"{self.repo} (a new pull request against {self.revision})"
        return f"{self.repo}@{self.revision}"

    def writing_line(self) -> str:
        return f"writing to {self.describe()} (one commit)"

    def failed_line(self, undone: list[str]) -> str:
        return failed_line("nothing was committed", undone)

    def landed_line(self, landed: Landed) -> str:
        per_split = ", ".join(f"{s} {n:,}" for s, n in landed.split_rows)
        return (f"committed {landed.commit[:12]} to {self.repo}@{landed.ref}: {landed.rows:,} rows ({per_split}); "
                f"{landed.commits} new commit(s) on {landed.ref}")

    def summary_target(self, landed: Landed) -> str:
        return f"{self.repo}@{landed.ref}"

    def commit_message(self, what: str) -> str:
        return f"{what} (hfconnect job run {self.run_id})"

    # ---- before / after ----------------------------------------------------------------------------
    def prepare(self, endpoint: str, retry_budget: float = 60.0) -> None:
        """Create what the write needs (repo, branch) and remember the target's state."""
        from ..hub.retry import RetryPolicy

        self._client = client = HubClient(endpoint, resolve_token(None), RetryPolicy(budget=retry_budget))
        if not client.token:
            raise JobFailed("writing needs a token with write access: set HF_TOKEN or log in with `hf auth login`")
        if not repos.repo_exists(client, self.repo):
            repos.create_repo(client, self.repo, private=self.private)
            self._created_repo = True
        if self.revision != "main" and not self.create_pr:
            refs = repos.list_refs(client, self.repo)
            if self.revision not in {b.name for b in refs.branches}:
                repos.create_branch(client, self.repo, self.revision, revision=self.branch_from)
                self._created_branch = True
        self._before = self._history(self.revision)
        if self.create_pr:
            self._prs_before = self._pr_refs()

    def rollback(self) -> list[str]:
        """After a failure: remove what prepare() created. Returns what was removed."""
        client: HubClient | None = getattr(self, "_client", None)  # None: prepare() never ran
        undone = []
        if client is not None and self._created_branch and not self._created_repo:
            repos.delete_branch(client, self.repo, self.revision)
            undone.append(f"branch {self.revision}")
        if client is not None and self._created_repo:
            repos.delete_repo(client, self.repo)
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
        commits = newest_commits(self._client, self.repo, ref)
        ours = [c for c in commits if self.run_id in c.text]
        before = set(self._before)
        new_commits = sum(1 for c in commits if c.sha not in before)
        if not ours and not new_commits:
            raise NothingCommitted(f"nothing was committed to {self.repo}@{ref}: the job had no rows to write "
                                   "(does --where match any row?)")
        if not ours:
            raise JobFailed(f"the write reported success but no commit of run {self.run_id} is on {self.repo}@{ref}")
        return Landed(ours[0].sha, ref, new_commits, self._card_rows(ours[0].sha, ref, config))

    # ---- helpers ------------------------------------------------------------------------------------
    def _history(self, ref: str) -> list[str]:
        """Every commit of `ref`, newest first (hub.history's walk, all of it)."""
        return [c.sha for c in newest_commits(self._client, self.repo, ref)]

    def _pr_refs(self) -> set[str]:
        refs = repos.list_refs(self._client, self.repo, pull_requests=True)
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


@dataclass
class BucketJobTarget:
    """A Storage Bucket prefix (`buckets/ns/name/prefix`): the job publishes ONE manifest there, or nothing.

    The write itself keeps the prefix as it was when it fails (`write.bucket_job`); what the job adds: a token
    check before any engine starts, a bucket the write created and left empty (no rows) is deleted again, and
    what landed is this job's own write: the result its BucketWriteJob recorded in this process (the engines
    commit on the driver), checked against the prefix's manifest, never whatever manifest is there now (another
    job's, maybe)."""

    location: str  # buckets/ns/name[/prefix], as given
    private: bool = False
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    revision: str = "main"  # not a bucket's: what the jobs' write options pass for a repo
    create_pr: bool = False
    is_bucket = True
    _existed: bool = True
    _manifest_before: str | None = None
    _mark: int = 0  # this process's published bucket results up to prepare(): landed() looks only after it

    def __post_init__(self) -> None:
        from ..write.bucket_target import parse_bucket_target

        parsed = parse_bucket_target(self.location)
        if parsed is None:
            raise JobFailed(f"{self.location!r} does not name a Storage Bucket prefix (buckets/ns/name/prefix)")
        self.bucket = parsed
        self.location = str(parsed)

    @property
    def repo(self) -> str:
        """What the write is given: the bucket path (the engines' writers recognise it)."""
        return self.location

    def describe(self) -> str:
        return self.location

    def commit_message(self, what: str) -> str:
        return f"{what} (hfconnect job run {self.run_id})"

    def writing_line(self) -> str:
        return f"writing to {self.location} (one published manifest)"

    def failed_line(self, undone: list[str]) -> str:
        return failed_line("nothing was published", undone)

    def landed_line(self, landed: Landed) -> str:
        return (f"published {landed.rows:,} rows to {self.location} (manifest of write job {landed.commit}); "
                f"{landed.commits} new manifest")

    def summary_target(self, landed: Landed) -> str:
        return self.location

    def _job(self) -> Any:
        from ..options import WriteOptions
        from ..write.bucket_job import BucketWriteJob

        options = WriteOptions.build(repo=self.bucket.bucket_id, endpoint=self._client.endpoint,
                                     token=self._client.token, retry_budget=self._client.policy.budget)
        return BucketWriteJob(options, self.bucket)

    def prepare(self, endpoint: str, retry_budget: float = 60.0) -> None:
        """A token is there, whether the bucket exists, and which manifest the prefix has now."""
        from ..errors import RepoNotFoundError
        from ..hub.retry import RetryPolicy
        from ..write.bucket_job import published_mark

        self._mark = published_mark()
        self._client = HubClient(endpoint, resolve_token(None), RetryPolicy(budget=retry_budget))
        if not self._client.token:
            raise JobFailed("writing needs a token with write access: set HF_TOKEN or log in with `hf auth login`")
        try:
            state = self._job().state()
        except RepoNotFoundError:
            self._existed = False
            return
        self._manifest_before = state.manifest.job_id if state.manifest is not None else None

    def rollback(self) -> list[str]:
        """After a failure, or a job that wrote nothing: delete the bucket if the job created it and it is empty
        (the failed write deleted it already, usually)."""
        from ..errors import HfConnectError, RepoNotFoundError

        if self._existed or not hasattr(self, "_client"):
            return []
        from ..hub import bucket_admin

        client, bucket = self._client, self.bucket.bucket_id
        try:
            if not bucket_admin.bucket_is_empty(client, bucket):
                return []
            bucket_admin.delete_bucket(client, bucket)
        except RepoNotFoundError:
            return []
        except HfConnectError:  # best effort: the job's own error is the one to report
            return []
        return [f"bucket {bucket}"]

    def landed(self, config: str) -> Landed:
        """The manifest this job published (its BucketWriteResult's job id) and its rows. The prefix's manifest
        must be that one, or (another job appended since) still list the job's files."""
        from ..errors import RepoNotFoundError
        from ..write.bucket_job import published_since

        ours = [r for r in published_since(self._mark, self.bucket.bucket_id, self.bucket.prefix) if r.manifest]
        try:
            state = self._job().state()
        except RepoNotFoundError:
            state = None
        manifest = state.manifest if state is not None else None
        if not ours:
            if manifest is not None and manifest.job_id != self._manifest_before:
                raise JobFailed(f"the write reported no published manifest, but {self.location} has a new one, of "
                                f"write job {manifest.job_id}: another writer published there meanwhile")
            raise NothingCommitted(f"nothing was published to {self.location}: the job had no rows to write "
                                   "(does --where match any row?)")
        result = ours[-1]
        if manifest is None or (manifest.job_id != result.job_id and not set(result.files) <= set(manifest.paths())):
            now = f"its manifest is write job {manifest.job_id}'s" if manifest is not None else "it has no manifest"
            raise JobFailed(f"write job {result.job_id} published {self.location}, but {now} now, without the job's "
                            "files: another writer replaced it meanwhile")
        return Landed(result.job_id, self.location, 1, [("rows", result.rows)])


def failed_line(nothing: str, undone: list[str]) -> str:
    """What a failed job says last: that nothing landed, and what of its own making it removed."""
    return f"failed: {nothing}" + (f"; removed what the job had created ({', '.join(undone)})" if undone else "")


def job_target(location: str, **repo_target: Any) -> RepoJobTarget | BucketJobTarget:
    """The target a job's TARGET (or --to) names: a bucket prefix, else a dataset repo."""
    from ..write.bucket_target import is_bucket_target

    if is_bucket_target(location):
        if repo_target.get("create_pr") or repo_target.get("revision", "main") != "main":
            raise JobFailed(f"{location}: a Storage Bucket has no branches or pull requests: drop --branch/--pr")
        return BucketJobTarget(location, private=bool(repo_target.get("private", False)))
    return RepoJobTarget(location, **repo_target)
