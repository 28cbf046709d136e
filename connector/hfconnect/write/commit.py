"""The driver side of a write: ONE Hub commit for the whole job, or nothing.

begin(): validate, create the repo if missing, record the branch head as the base and check the mode against
the split's current files. commit(messages): name the files the Hub's way, delete exactly the written splits'
old files on overwrite, update the card (see `commit_content`), and `create_commit(parent_commit=base)`. A 412 (someone
else committed) re-reads the head and recomputes deletions, names and card, with bounded jittered retries. A
commit request that fails ambiguously (reset, timeout, 5xx) is first looked for in the branch history by the
job id: a job never commits twice. abort() commits nothing, and a repo the job created goes again (also when
begin() or the commit fails): a failed job leaves the Hub as it found it; one whose commit may have landed (its
error has `maybe_published`: the history could not be read back) undoes nothing.

The checks before a row is written and before the commit goes onto a moved head (token, mode, format, columns)
are `checks.TargetChecks`; this module runs them and owns the commit.

A commit of more than `max_commit_operations` operations (the Hub asks for ~100 per commit) goes through a pull
request instead, staged in commits that fit and merged in one step (`staging`): still one change on the branch.

One job may write several splits (option `split_column`: each row names its split; see `routing`): their files
all go into the same one commit. Its mode then applies to the config: error/ignore look at every split of the
config, overwrite replaces exactly the splits written.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from ..errors import (
    AuthenticationError,
    CommitConflictError,
    HfConnectError,
    HubRequestError,
    OptionError,
    RepoNotFoundError,
)
from ..hub import pulls, repos
from ..hub.client import HubClient
from ..hub.history import newest_commits
from ..hub.retry import Retrier
from ..options import WriteOptions
from .checks import TargetChecks, check_row_schema
from .commit_content import BranchState, CommitContent, commit_content
from .routing import data_schema
from .task import TaskMessage, UploadedFile, write_task

if TYPE_CHECKING:
    from .staging import Staging

__all__ = ["COMMIT_ATTEMPTS", "JOB_MARKER", "CommitResult", "WriteJob"]

log = logging.getLogger("hfconnect.write")
COMMIT_ATTEMPTS = 8
JOB_MARKER = "hfconnect-job-id:"
LANDED_LOOKBACK = 50  # newest commits of the branch looked at for a job's commit after an ambiguous failure
PR_LOOKBACK = 10  # with create_pr: newest pull requests whose heads are looked at


@dataclass(frozen=True)
class CommitResult:
    commit_sha: str | None  # None: nothing committed (mode ignore with existing data, or no rows in append)
    files: tuple[str, ...]
    deleted: tuple[str, ...]
    rows: int
    attempts: int
    pr_url: str | None = None
    split_rows: tuple[tuple[str, int], ...] = ()  # rows written per split (several with `split_column`)


class WriteJob:
    """One write job. Create on the driver, call begin(), ship (options, job_id) to tasks, then commit()."""

    def __init__(self, options: WriteOptions, job_id: str | None = None, *, description: str = "",
                 file_tag: str | None = None) -> None:
        self.options = options
        self.checks = TargetChecks(options)
        self.job_id = job_id or uuid.uuid4().hex[:16]
        self.description = description  # more lines for the commit description, after the job id marker
        self.file_tag = file_tag or self.job_id[:8]  # what appended files' names end with (unique per job)
        self.base: str | None = None
        self.skip = False  # mode=ignore and the split has data
        self.created_repo = False  # begin() created the repo: a failed job deletes it again
        self._created_at: str | None = None  # the new repo's head right after its creation
        self._staging: Staging | None = None  # a big job's pull request, once commit() opens it
        # The commit (or a big job's merge) failed ambiguously and said so (HubRequestError.maybe_published, as
        # BucketJob's): it may have landed, so nothing is undone, the repo it created included.
        self.maybe_published = False
        self.started = time.monotonic()
        self._bytes = 0

    @property
    def client(self) -> HubClient:
        return self.options.client

    @property
    def where(self) -> str:
        return f"dataset {self.options.repo}@{self.options.revision}"

    # ---- begin -------------------------------------------------------------------------------
    def begin(self, schema: pa.Schema | None = None) -> pa.Schema | None:
        """Check the token, the repo and the mode before any row is computed; returns the schema the tasks write
        and the commit takes: `schema`, or on append the split's file types where the new rows widen to them
        without loss (int32 rows into int64 files)."""
        check_row_schema(schema, self.options)  # before any Hub call: a wrong column is the caller's to fix
        self.checks.check_token_can_write()
        self._ensure_repo()
        try:
            head = self.checks.read_head()
            self.base = head.sha
            self.skip, schema = self.checks.preflight(head, schema)
            return schema
        except BaseException:
            self._discard_created_repo()
            raise

    def _ensure_repo(self) -> None:
        o, client = self.options, self.client
        try:
            repos.repo_sha(client, o.repo, where=self.where)
            return
        except RepoNotFoundError:
            pass
        try:
            repos.create_repo(client, o.repo, private=o.private)
        except AuthenticationError:
            raise AuthenticationError(f"cannot create dataset {o.repo}: the token is missing or read-only; pass a "
                                      "write token (option token, HF_TOKEN or `hf auth login`)", repo=o.repo) from None
        except HubRequestError as exc:
            if exc.status != 409:
                raise
            return  # created by someone else meanwhile: theirs, never deleted by this job
        self.created_repo = True
        try:
            self._created_at = repos.repo_sha(client, o.repo)
        except HfConnectError:
            self._created_at = None  # unknown: a failed job then keeps the repo (it cannot tell it is untouched)

    def _discard_created_repo(self) -> None:
        """Delete the repo begin() created when it is exactly as created: one branch, main, still at its
        creation commit, and no tag or pull request but the one this job staged on (a failed job changes nothing,
        and never takes anyone else's commit or pull request with it). Best effort: a failure here is logged, and
        the job's own error is the one raised. Two jobs that create the same repo at the same time can still
        meet here: the second's commit then fails, with nothing committed."""
        if not self.created_repo:
            return
        o, client = self.options, self.client
        self.created_repo = False  # once: abort() may follow a failed commit
        try:
            refs = repos.list_refs(client, o.repo, pull_requests=True)
            staged = [self._staging.pr_num, *self._staging.duplicates] if self._staging else []
            mine = {f"refs/pr/{n}" for n in staged if n is not None}  # its PR and the duplicates it closed
            theirs = [pr for pr in refs.pull_requests or () if pr.ref not in mine]  # its own closed PR goes too
            untouched = self._created_at is not None and not refs.tags and not theirs and \
                [(b.name, b.target_commit) for b in refs.branches] == [("main", self._created_at)]
            if not untouched:
                log.warning("hfconnect: dataset %s, created by failed write job %s, has other commits, branches or "
                            "pull requests (or its first state is unknown): kept", o.repo, self.job_id)
                return
            repos.delete_repo(client, o.repo, missing_ok=True)
            log.warning("hfconnect: deleted dataset %s, created by failed write job %s", o.repo, self.job_id)
        except RepoNotFoundError:
            return  # gone already (Spark's abort() after a failed commit() works on another copy of the job)
        except Exception as exc:  # noqa: BLE001 - the job's own error is the one to raise
            log.warning("hfconnect: could not delete dataset %s, created by failed write job %s: %s", o.repo,
                        self.job_id, exc)

    # ---- commit ------------------------------------------------------------------------------
    def commit(self, messages: Sequence[TaskMessage | None], schema: pa.Schema) -> CommitResult:
        """The job's ONE commit (or none: mode ignore on existing data), then a summary line at INFO. A progress
        bar shows while it runs on a terminal (huggingface_hub's tqdm; never in a worker's log)."""
        from huggingface_hub.utils import tqdm

        with tqdm(total=1, desc=f"commit to {self.options.repo}", leave=False, disable=None) as bar:
            try:
                result = self._commit(messages, schema)
            except BaseException as exc:
                staged = self._staging is not None and self._staging.maybe_published
                if getattr(exc, "maybe_published", False) or staged:  # any error: HfConnectError or foreign
                    self.maybe_published = True  # it may have landed: keep everything, the error says what to check
                else:
                    self._discard_created_repo()  # else _commit raises only when nothing was committed
                raise
            bar.update(1)
        if result.commit_sha:
            o = self.options
            splits = ",".join(s for s, _ in result.split_rows) or o.split
            log.info("hfconnect: committed %d rows in %d file(s) (%s bytes) to %s config %r split %r: commit %s, "
                     "%.1fs after the job began", result.rows, len(result.files), f"{self._bytes:,}", self.where,
                     o.config, splits, result.commit_sha, time.monotonic() - self.started)
        return result

    def _commit(self, messages: Sequence[TaskMessage | None], schema: pa.Schema) -> CommitResult:
        if self.base is None:
            raise HfConnectError("WriteJob.commit() called before begin()")
        o = self.options
        schema = data_schema(schema, o)
        chosen = self._dedupe([m for m in messages if m is not None])
        if self.skip:
            return CommitResult(None, (), (), 0, 0)
        self.checks.check_task_schemas(chosen, schema)
        if not any(m.files for m in chosen):
            if o.split_column:  # no row, so no split named: there is nothing to commit
                log.info("hfconnect: job %s wrote no rows to %s: nothing to commit", self.job_id, self.where)
                return CommitResult(None, (), (), 0, 0)
            if o.format == "webdataset":  # an empty tar is a split no WebDataset reader opens
                raise OptionError(f"format='webdataset': the job has no rows, and a WebDataset split needs one "
                                  f"sample at least: nothing was committed to {self.where}")
            # No task wrote a row: the split still gets its schema (one empty file), as a table would.
            chosen = [write_task([], schema, o, job_id=self.job_id, partition_id=-1, at_least_one_file=True)]
        uploads = [f for m in chosen for f in sorted(m.files, key=lambda f: (f.split, f.index))]
        rows = sum(f.rows for f in uploads)
        self._bytes = sum(f.size for f in uploads)
        client = self.client
        retrier = Retrier(client.policy, f"commit to {o.repo}@{o.revision}")
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            prepared = self._prepare(attempt, uploads, schema)
            if prepared is None:
                return CommitResult(None, (), (), 0, attempt)
            head, content = prepared
            if len(content.operations) > o.max_commit_operations:  # too big for one Hub commit: stage on a PR
                return self._staged(head, content, rows, attempt, uploads, schema)
            names, deleted, per_split = tuple(content.names), tuple(content.deleted), tuple(content.split_rows)
            try:
                info = repos.create_commit(client, o.repo, revision=o.revision, operations=content.operations,
                                           parent_commit=head.sha, create_pr=o.create_pr, where=self.where,
                                           message=self._title(rows, per_split), description=self._description())
                return CommitResult(info.sha, names, deleted, rows, attempt, info.pr_url, per_split)
            except HubRequestError as exc:
                if exc.xet:  # hf_xet failed (failures.error_for_xet) and retried already: final
                    raise
                status = exc.status
                if status == 412:
                    log.warning("hfconnect: %s moved while job %s ran (HTTP 412): rebasing the commit on the new "
                                "head (attempt %d of %d)", self.where, self.job_id, attempt, COMMIT_ATTEMPTS)
                    time.sleep(random.uniform(0.05, min(5.0, 0.2 * 2**attempt)))
                    continue
                if status == 429:  # refused for its rate, so certainly not landed: wait as the Hub says
                    retrier.failed("HTTP 429", status=429, headers=exc.headers)
                    continue
                if status is not None and status < 500:
                    raise
                # A 5xx or a dropped connection: the commit may have landed. Never commit twice.
                landed = self._find_landed()
                if landed is not None:
                    return CommitResult(landed[0], names, deleted, rows, attempt, landed[1], per_split)
                retrier.failed(f"HTTP {status}" if status else "connection lost", status=status,
                               headers=exc.headers)
        raise CommitConflictError(f"could not commit to {o.repo}@{o.revision} after {COMMIT_ATTEMPTS} attempts "
                                  "(the branch kept moving); nothing was committed", repo=o.repo)

    def _prepare(self, attempt: int, uploads: list[UploadedFile], schema: pa.Schema
                 ) -> tuple[BranchState, CommitContent] | None:
        """The head to commit against and the commit's content there (None: mode ignore and the split got data
        meanwhile). First the head read when the job began; after a 412, the new head, with the mode and the
        kept splits' columns checked again (`checks.TargetChecks.recheck`)."""
        head = self.checks.read_head(sha=self.base if attempt == 1 else None)
        if self.checks.recheck(head, uploads, schema, moved=attempt > 1):
            self.skip = True
            return None
        return head, commit_content(self.options, self.file_tag, head, uploads, schema)

    def _title(self, rows: int, per_split: tuple[tuple[str, int], ...]) -> str:
        o = self.options
        return o.commit_message or f"hfconnect: {o.mode} {rows} rows to {o.config}/{','.join(s for s, _ in per_split)}"

    def _staged(self, head: BranchState, content: CommitContent, rows: int, attempt: int,
                uploads: list[UploadedFile], schema: pa.Schema) -> CommitResult:
        """The job's change through a pull request staged in commits of `max_commit_operations` and merged in
        one step (see `staging`): still ONE change on the branch."""
        from .staging import Staging

        o = self.options
        staging = Staging(o, job_id=self.job_id, marker=f"{JOB_MARKER} {self.job_id}",
                          title=self._title(rows, tuple(content.split_rows)), description=self._description(),
                          prepare=lambda n: self._prepare(n, uploads, schema), read_head=self.checks.read_head)
        self._staging = staging
        done = staging.run(head, content, attempt)
        if done is None:
            return CommitResult(None, (), (), 0, attempt)
        c = done.content
        log.info("hfconnect: job %s went through %s: %d staging commits, then %s", self.job_id,
                 f"pull request #{done.pr_num}", done.staging_commits,
                 "left open for review (create_pr)" if o.create_pr else f"merged as {done.sha}")
        return CommitResult(done.sha, tuple(c.names), tuple(c.deleted), rows, done.attempts, done.pr_url,
                            tuple(c.split_rows))

    def _description(self) -> str:
        """The user's description, if any, then the job marker the landed check looks for and our extra lines."""
        mine = self.options.commit_description
        ours = "\n".join(filter(None, [f"{JOB_MARKER} {self.job_id}", self.description]))
        return f"{mine}\n\n{ours}" if mine else ours

    @staticmethod
    def _dedupe(messages: list[TaskMessage]) -> list[TaskMessage]:
        """One message per partition: a speculative or retried duplicate never reaches the commit."""
        by_partition: dict[int, TaskMessage] = {}
        for m in sorted(messages, key=lambda m: (m.partition_id, m.attempt_id)):
            by_partition.setdefault(m.partition_id, m)
        return [by_partition[p] for p in sorted(by_partition)]

    def _find_landed(self) -> tuple[str, str | None] | None:
        """Did our commit land although the request failed? (its sha, and its pull request's URL with create_pr)

        Looks for the job's marker among the branch's newest commits (one page: a commit that landed is among
        them, and a branch's whole history can be thousands of commits). With create_pr the commit is the head
        of a pull request of its own, not on the branch: the newest pull requests' heads are looked at instead,
        so a job never opens a second one."""
        o, client = self.options, self.client
        try:
            if not o.create_pr:
                sha = self._marked_commit(o.revision, LANDED_LOOKBACK)
                return (sha, None) if sha else None
            for pr in pulls.newest_pull_requests(client, o.repo, PR_LOOKBACK):
                sha = self._marked_commit(pr.ref, 1)
                if sha:
                    return sha, f"{o.endpoint}/datasets/{o.repo}/discussions/{pr.num}"
            return None
        except HubRequestError:
            raise HubRequestError(f"commit to {o.repo} failed ambiguously and its history cannot be read: the "
                                  f"commit may or may not have landed (look for '{JOB_MARKER} {self.job_id}')",
                                  repo=o.repo, maybe_published=True) from None

    def _marked_commit(self, revision: str, depth: int) -> str | None:
        """The sha of the first of `revision`'s `depth` newest commits that carries this job's marker."""
        marker = f"{JOB_MARKER} {self.job_id}"
        newest = newest_commits(self.client, self.options.repo, revision, depth, until=lambda c: marker in c.text)
        return next((c.sha for c in newest if marker in c.text), None)

    def abort(self, messages: Sequence[TaskMessage | None]) -> None:
        """Nothing was committed; uploaded objects are unreferenced (the Hub collects them); a repo the job
        created is deleted. After an ambiguous commit failure (`maybe_published`) nothing is undone."""
        if self.maybe_published:
            return  # commit() failed ambiguously and said so: nothing to undo that is known to be ours
        log.warning("hfconnect: write job %s to %s aborted: %d task message(s) dropped, nothing committed",
                    self.job_id, self.where, sum(1 for m in messages if m))
        self._discard_created_repo()
