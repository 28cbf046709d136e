"""A job too big for one Hub commit: staged on a pull request in commits that fit, then merged in ONE step.

The Hub asks for commits of about 100 files and gives a commit request ~60 s; past that its gateway answers 504
and the commit may or may not have landed. A job whose commit would exceed `max_commit_operations` therefore
goes through a pull request: the first staging commit opens it (`create_commit(create_pr=True)` on the job's
branch, with `parent_commit` = the head the names, deletions and card were computed from, so a writer that moved
the branch meanwhile is a 412 and the job recomputes, as the direct commit does); the next ones go to
`refs/pr/N`, each with `parent_commit` = the PR head it follows, in `staging_batches` order: additions, then an
overwrite's deletions (which may span several commits), then the card, in the last one. Then the target is
checked once more (did another writer touch the job's paths, its splits' files or the card since the PR opened?
then the job fails, naming the files) and the PR is merged: the Hub squashes it into ONE commit on the branch, so
readers of the branch see all of the job or none of it.

Exactly once: every staging commit names its job and part (`hfconnect-job-id: ID part i of n`: the first in its
description, the others in their title), so
after an ambiguous failure (5xx, 504, a dropped connection) or a 412 the PR head is read again and a part that
landed is not sent twice. A lost answer to the opening commit is looked for among the newest pull requests'
heads before the commit is sent again; a PR the Hub's gateway was still creating then is not seen, so a job
can open two: once it ends (merged, left open, or failed) it closes any other OPEN one among the newest whose
head carries its `part 1 of` marker, as a duplicate. A merge whose answer was lost is read back from the PR (merged +
its merge commit). The squash commit's message lists the parts' titles, so the branch's history carries the job
marker the direct path's landed check looks for.

On a failure before the merge request went out the PR is closed with a comment saying why (an HfConnectError's
message, which holds no token, else a fixed text): the branch never moved. Once a merge request went out without
a definite refusal (an answer lost, a 5xx, a read-back that failed too), the PR may be merged: it is left as it is
and the job raises HubRequestError with `maybe_published=True` (as an ambiguous direct commit does), naming the PR
and the job marker to look for, since re-running an append could land it twice.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import CommitConflictError, HfConnectError, HubRequestError
from ..hub import pulls, repos
from ..hub.client import HubClient
from ..hub.pulls import PullRequestState
from ..hub.retry import Retrier
from ..options import WriteOptions
from .commit_content import BranchState, CommitContent

__all__ = ["StagedCommit", "Staging", "carries", "changed_paths", "failure_note", "opened_by", "part_marker",
           "staging_batches"]

log = logging.getLogger("hfconnect.write")
ATTEMPTS = 8  # tries of one staging commit or of the merge (412s and ambiguous failures included)
PR_LOOKBACK = 10  # newest pull requests whose heads are looked at for the job's after a lost opening answer
CARD = "README.md"

# (attempt) -> the head to commit against and what the job's commit holds there; None: nothing to commit
# (mode ignore and the split got data). Raises when the mode or the columns no longer allow the write.
Prepare = Callable[[int], "tuple[BranchState, CommitContent] | None"]


@dataclass(frozen=True)
class StagedCommit:
    """What a staged job did: the merge commit (or, with create_pr, the PR head), its PR, the content."""

    sha: str
    pr_num: int
    pr_url: str | None  # set when the PR is left open for review (create_pr)
    content: CommitContent
    attempts: int  # tries of the opening commit (each 412 recomputed the content)
    staging_commits: int


# Staging commits of one job at most: the Hub rate-limits commits per repo (about 128 an hour; the local hub's
# real-Hub mode: 100), so a 10,000-file job at 100 operations a commit would run out of them. Past this many, the
# commits grow instead (a commit's limit is its request time, which a few hundred files stay well within).
MAX_STAGING_COMMITS = 40


def part_marker(marker: str, part: int, parts: int) -> str:
    """The text a staging commit's title carries: which job, which part."""
    return f"{marker} part {part} of {parts}"


def opened_by(text: str, marker: str) -> bool:
    """Whether a commit's text marks it as the opening part of `marker`'s job, whatever its part count (a 412
    recomputes the content, so an earlier attempt's PR may say another n)."""
    head = part_marker(marker, 1, 0)[:-1]  # "<marker> part 1 of "
    return any(line.strip().startswith(head) and line.strip()[len(head):].isdigit() for line in text.splitlines())


def failure_note(exc: BaseException, job_id: str) -> str:
    """Why the job failed, as a PUBLIC pull-request comment may say it: an HfConnectError's message (written to
    name what failed, never a token); anything else's text may hold anything, so a fixed text instead."""
    if isinstance(exc, HfConnectError):
        return exc.message
    return f"the job stopped on an unexpected error ({type(exc).__name__}): see the driver's log of job {job_id}"


def commit_size(total: int, budget: int) -> int:
    """Operations per staging commit: `budget`, or more when `total` would need more than MAX_STAGING_COMMITS
    commits (the Hub allows a repo on the order of 100 commits an hour; a job must not use them all up)."""
    return max(budget, -(-total // MAX_STAGING_COMMITS))


def staging_batches(operations: Sequence[Any], budget: int) -> list[list[Any]]:
    """The job's operations in commits of `commit_size(len(operations), budget)`: additions first, then deletions,
    the card last (so the PR's last commit is the one that makes its files a dataset)."""
    from huggingface_hub import CommitOperationDelete

    if budget < 1:
        raise ValueError("the per-commit operation budget must be >= 1")
    budget = commit_size(len(operations), budget)
    card = [op for op in operations if getattr(op, "path_in_repo", None) == CARD]
    rest = [op for op in operations if getattr(op, "path_in_repo", None) != CARD]
    ordered = [*(op for op in rest if not isinstance(op, CommitOperationDelete)),
               *(op for op in rest if isinstance(op, CommitOperationDelete)), *card]
    return [ordered[i:i + budget] for i in range(0, len(ordered), budget)]


def changed_paths(before: BranchState, after: BranchState) -> set[str]:
    """Paths added, removed or rewritten between two heads."""
    old = {f.path: f.oid for f in before.files}
    new = {f.path: f.oid for f in after.files}
    return {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}


class Staging:
    """One job's pull request: open it, stage the parts, check the target, merge (or leave it open: create_pr)."""

    def __init__(self, options: WriteOptions, *, job_id: str, marker: str, title: str, description: str,
                 prepare: Prepare, read_head: Callable[[], BranchState]) -> None:
        self.options = options
        self.job_id = job_id
        self.marker = marker  # "hfconnect-job-id: ID": in every part's title or description
        self.title = title
        self.description = description
        self.prepare = prepare
        self.read_head = read_head  # the target branch's head now
        self.pr_num: int | None = None
        self.staging_commits = 0
        self.duplicates: list[int] = []  # other PRs this job opened (lost opening answers), closed at its end
        self.maybe_published = False  # failed after a merge request that may have landed: the PR is left alone
        self._merged = False
        # A merge request went out and no answer proved it refused: from then on the PR may be merged, so a
        # failure must neither close it nor read as "nothing was committed".
        self._merge_sent = False
        self._open_lost = False  # an opening commit's answer was lost: a second PR may exist

    @property
    def client(self) -> HubClient:
        return self.options.client

    @property
    def where(self) -> str:
        return f"dataset {self.options.repo}@{self.options.revision}"

    @property
    def pr_ref(self) -> str:
        return f"refs/pr/{self.pr_num}"

    def run(self, head: BranchState, content: CommitContent, attempt: int) -> StagedCommit | None:
        """Stage and merge, then close any duplicate PR. On a failure before the merge request, close the PR
        (saying why) and raise; after it, leave the PR alone and raise the ambiguous error (it may be merged: a
        closed PR or an ordinary failure would have the user re-run the job, landing it twice). None: nothing
        to commit."""
        try:
            done = self._run(head, content, attempt)
        except BaseException as exc:
            if self._merge_sent and not self._merged:
                self.maybe_published = True
                if not isinstance(exc, Exception):
                    raise  # an interrupt: no more Hub calls
                self._close_duplicates()
                raise self._maybe_merged(exc) from exc
            if self.pr_num is not None and not self._merged:
                self.close(failure_note(exc, self.job_id))
            if isinstance(exc, Exception):
                self._close_duplicates()
            raise
        self._close_duplicates()
        return done

    def _maybe_merged(self, exc: Exception) -> HubRequestError:
        """The error of a job whose merge may have landed: what to check before running it again."""
        o = self.options
        return HubRequestError(
            f"{self._pr_where()} may have merged into {o.revision}: the merge request's outcome could not be "
            f"confirmed ({failure_note(exc, self.job_id)}). Check its status on the Hub, or look for "
            f"'{self.marker}' in {o.revision}'s history, before running the write again (an append would land "
            "twice); the pull request is left as it is", repo=o.repo, maybe_published=True, pr_num=self.pr_num)

    def _run(self, head: BranchState, content: CommitContent, attempt: int) -> StagedCommit | None:
        o = self.options
        budget = o.max_commit_operations
        opened = self._open(head, content, attempt)
        if opened is None:
            return None
        head, content, batches, tip, attempt = opened
        for part, ops in enumerate(batches[1:], start=2):
            tip = self._stage(part, len(batches), ops, tip)
        log.info("hfconnect: job %s staged %d operations on %s in %d commits of at most %d", self.job_id,
                 len(content.operations), self._pr_where(), len(batches), commit_size(len(content.operations), budget))
        if o.create_pr:
            return StagedCommit(tip, self._num(), self._pr_url(), content, attempt, self.staging_commits)
        self._check_target(head, content)
        sha = self._merge()
        return StagedCommit(sha, self._num(), None, content, attempt, self.staging_commits)

    def _num(self) -> int:
        assert self.pr_num is not None
        return self.pr_num

    def _pr_url(self) -> str:
        return f"{self.options.endpoint}/datasets/{self.options.repo}/discussions/{self.pr_num}"

    def _pr_where(self) -> str:
        return f"dataset {self.options.repo} pull request #{self.pr_num}"

    # ---- the opening commit --------------------------------------------------------------------
    def _open(self, head: BranchState, content: CommitContent, attempt: int
              ) -> tuple[BranchState, CommitContent, list[list[Any]], str, int] | None:
        """Open the PR with the first part, against `head`; a 412 recomputes the content on the new head."""
        o, client = self.options, self.client
        retrier = Retrier(client.policy, f"opening a pull request on {o.repo}@{o.revision}")
        while True:
            batches = staging_batches(content.operations, o.max_commit_operations)
            first = part_marker(self.marker, 1, len(batches))
            try:
                info = repos.create_commit(client, o.repo, revision=o.revision, operations=batches[0],
                                           parent_commit=head.sha, create_pr=True, what="staging commit",
                                           where=self.where, message=self.title,
                                           description=f"{self.description}\n{first}")
                self.pr_num = _pr_num_of(info.pr_url)
                self.staging_commits += 1
                return head, content, batches, info.sha, attempt
            except HubRequestError as exc:
                status = self._status(exc)
                if status == 412:  # the branch moved before the PR opened: recompute, as the direct commit does
                    if attempt >= ATTEMPTS:
                        raise CommitConflictError(f"could not open a pull request on {o.repo}@{o.revision} after "
                                                  f"{ATTEMPTS} attempts (the branch kept moving); nothing was "
                                                  "committed", repo=o.repo) from None
                    log.warning("hfconnect: %s moved while job %s ran (HTTP 412): recomputing its commit on the "
                                "new head", self.where, self.job_id)
                    time.sleep(random.uniform(0.05, min(5.0, 0.2 * 2**attempt)))
                    attempt += 1
                    prepared = self.prepare(attempt)
                    if prepared is None:
                        return None
                    head, content = prepared
                    continue
                if status == 429:
                    retrier.failed("HTTP 429", status=429, headers=exc.headers)
                    continue
                if status is not None and status < 500:
                    raise
                self._open_lost = True  # the PR may exist, or appear later: _close_duplicates looks at the end
                found = self._find_opened(first)
                if found is not None:
                    self.pr_num, tip = found
                    self.staging_commits += 1
                    log.warning("hfconnect: job %s's pull request #%d opened although the request failed (%s)",
                                self.job_id, self.pr_num, status or "connection lost")
                    return head, content, batches, tip, attempt
                retrier.failed(f"HTTP {status}" if status else "connection lost", status=status,
                               headers=exc.headers)

    def _find_opened(self, first: str) -> tuple[int, str] | None:
        """The PR this job opened although the answer was lost (its number and head), among the newest ones."""
        o, client = self.options, self.client
        try:
            for pr in pulls.newest_pull_requests(client, o.repo, PR_LOOKBACK):
                newest = pulls.pull_request_head(client, o.repo, pr.ref)
                if newest and carries(newest[1], first):
                    return pr.num, newest[0]
            return None
        except HubRequestError:
            raise HubRequestError(f"opening a pull request on {o.repo} failed ambiguously and its pull requests "
                                  "cannot be read: it may or may not exist (look for "
                                  f"'{first}'); nothing was committed to {o.revision}", repo=o.repo) from None

    # ---- the parts -----------------------------------------------------------------------------
    def _stage(self, part: int, parts: int, ops: list[Any], parent: str) -> str:
        """Commit one part on the PR with parent_commit = its head; the new head. Sent at most once."""
        o, client = self.options, self.client
        mark = part_marker(self.marker, part, parts)
        retrier = Retrier(client.policy, f"staging commit {part} of {parts} on {self._pr_where()}")
        for _ in range(ATTEMPTS):
            try:
                info = repos.create_commit(client, o.repo, revision=self.pr_ref, operations=ops, parent_commit=parent,
                                           what="staging commit", where=self._pr_where(), message=mark,
                                           description=f"staged by hfconnect for: {self.title}")
                self.staging_commits += 1
                return info.sha
            except HubRequestError as exc:
                status = self._status(exc)
                if status == 429:
                    retrier.failed("HTTP 429", status=429, headers=exc.headers)
                    continue
                if status is not None and status < 500 and status != 412:
                    raise
                # A 5xx, a dropped connection, or a 412 (the PR head is not where we left it): did it land?
                newest = self._pr_head()
                if newest is not None and newest[0] != parent:
                    if carries(newest[1], mark):
                        log.warning("hfconnect: staging commit %d of %d of job %s landed although the request "
                                    "failed (%s)", part, parts, self.job_id, status or "connection lost")
                        self.staging_commits += 1
                        return newest[0]
                    raise CommitConflictError(f"{self._pr_where()} got a commit from someone else while job "
                                              f"{self.job_id} staged on it; nothing was committed to "
                                              f"{o.revision}", repo=o.repo) from None
                retrier.failed(f"HTTP {status}" if status else "connection lost", status=status,
                               headers=exc.headers)
        raise HubRequestError(f"staging commit {part} of {parts} on {self._pr_where()} failed {ATTEMPTS} times; "
                              f"nothing was committed to {o.revision}", repo=o.repo)

    def _pr_head(self) -> tuple[str, str] | None:
        try:
            return pulls.pull_request_head(self.client, self.options.repo, self.pr_ref)
        except HubRequestError:
            return None  # unreadable now: the retry's parent_commit still keeps a part from landing twice

    # ---- the target and the merge --------------------------------------------------------------
    def _check_target(self, start: BranchState, content: CommitContent) -> None:
        """Fail, naming the files, when the branch changed since the PR opened in a way the merge would not
        see or that makes the staged change wrong: the job's files, the card, or the written splits' files."""
        o = self.options
        now = self.read_head()
        if now.sha == start.sha:
            return
        written = {s for s, _ in content.split_rows}
        watched = {*content.names, *content.deleted, CARD,
                   *(p for s in written for p in start.splits.get(s, [])),
                   *(p for s in written for p in now.splits.get(s, []))}
        hit = sorted(changed_paths(start, now) & watched)
        if hit:
            raise CommitConflictError(
                f"{o.repo}@{o.revision} changed while job {self.job_id} staged its files on pull request "
                f"#{self.pr_num}: another writer changed {_listed(hit)}; nothing was committed to {o.revision} (the "
                "pull request is closed): run the write again", repo=o.repo, files=hit)

    def _merge(self) -> str:
        """Merge the PR (publishing counts for nothing here: a commit-opened PR is open); its merge commit.

        `_merge_sent` is set before each request and cleared only by a definite refusal (a 4xx answer; a 400 with
        the PR read back unmerged) when no earlier request's answer was lost; while set, run() treats a failure as
        "may have merged"."""
        o, client = self.options, self.client
        retrier = Retrier(client.policy, f"merging {self._pr_where()}")
        lost = False  # an earlier merge request's answer was lost: it may be merging or merged
        for _ in range(ATTEMPTS):
            status: int | None = 0
            self._merge_sent = True
            try:
                pulls.merge_pull_request(client, o.repo, self._num(), where=self._pr_where(),
                                         comment=f"{self.marker}: merged by hfconnect ({self.staging_commits} "
                                                 "staging commits)")
            except HubRequestError as exc:
                status = self._status(exc)
                if status is not None and status < 500 and status != 400:
                    self._merge_sent = lost  # refused: not merged by this request (an earlier one may be)
                if status == 409 and not lost:
                    files = self._conflicts()
                    raise CommitConflictError(
                        f"{o.repo}@{o.revision} changed while job {self.job_id} staged its files on pull request "
                        f"#{self.pr_num}: {_listed(files) if files else 'files'} changed on both sides; nothing was "
                        f"committed to {o.revision} (the pull request is closed): run the write again",
                        repo=o.repo, files=files) from None
                if status == 429:
                    retrier.failed("HTTP 429", status=429, headers=exc.headers)
                    continue
                if status is not None and status < 500 and status != 400:
                    raise
                lost = lost or status is None or status >= 500
            except HfConnectError:
                self._merge_sent = lost  # a 4xx the client maps (401/403: AuthenticationError, 404): refused
                raise
            details = self._details()
            if details.status == "merged" and details.merge_commit_oid:
                self._merged = True
                if status:
                    log.warning("hfconnect: %s was merged although the request failed (%s)", self._pr_where(),
                                status)
                return str(details.merge_commit_oid)
            if status == 400:
                self._merge_sent = lost  # refused, and the PR is not merged: not by this request
            if status in (0, 400) or details.status != "open":
                raise HubRequestError(f"{self._pr_where()} did not merge (it is {details.status}){self._nothing()}",
                                      repo=o.repo)
            retrier.failed(f"HTTP {status}" if status else "connection lost", status=status)
        raise HubRequestError(f"merging {self._pr_where()} failed {ATTEMPTS} times{self._nothing()}", repo=o.repo)

    def _nothing(self) -> str:
        """"; nothing was committed to BRANCH" when that is known (no merge request may have landed), else ""."""
        return "" if self._merge_sent else f"; nothing was committed to {self.options.revision}"

    def _details(self) -> PullRequestState:
        return pulls.pull_request_state(self.client, self.options.repo, self._num(), where=self._pr_where())

    def _conflicts(self) -> list[str]:
        try:
            return sorted(self._details().conflicting_files)
        except HfConnectError:
            return []

    def close(self, why: str) -> None:
        """Close the job's PR with a comment saying why (best effort: the job's own error is the one raised).
        `why` is posted publicly: pass `failure_note(exc, job_id)`, never an arbitrary exception's text."""
        text = f"hfconnect: write job {self.job_id} did not complete, nothing was merged into " \
               f"{self.options.revision}: {why}"[:2000]
        if self._close_pr(self._num(), text):
            log.warning("hfconnect: closed %s of failed write job %s", self._pr_where(), self.job_id)

    def _close_pr(self, num: int, text: str) -> bool:
        """Close PR `num` with comment `text`; False (logged) when the Hub refused or could not be reached."""
        o, client = self.options, self.client
        where = f"dataset {o.repo} pull request #{num}"
        try:
            pulls.close_pull_request(client, o.repo, num, comment=text, where=where)
            return True
        except Exception as exc:  # noqa: BLE001 - the job's own outcome is the one that counts
            log.warning("hfconnect: could not close %s of write job %s: %s", where, self.job_id, exc)
            return False

    def _close_duplicates(self) -> None:
        """After a lost opening answer, close the job's other OPEN PRs among the newest (their head is a part 1 of
        this job's: opened by a request whose answer was lost and not found in time). Best effort: logged."""
        if not self._open_lost:
            return
        o, client = self.options, self.client
        try:
            for pr in pulls.newest_pull_requests(client, o.repo, PR_LOOKBACK):
                num = pr.num
                if num == self.pr_num or num in self.duplicates:
                    continue
                newest = pulls.pull_request_head(client, o.repo, pr.ref)
                if not newest or not opened_by(newest[1], self.marker):
                    continue
                if pulls.pull_request_state(client, o.repo, num).status != "open":
                    continue
                kept = f"a duplicate of pull request #{self.pr_num}" if self.pr_num is not None else \
                    "a pull request of a job that failed"
                if self._close_pr(num, f"hfconnect: {kept}, opened by write job {self.job_id} when the Hub lost "
                                       f"the answer to its opening commit; nothing of it was merged into "
                                       f"{o.revision}"):
                    self.duplicates.append(num)
                    log.warning("hfconnect: closed dataset %s pull request #%d, a duplicate opened by write job %s",
                                o.repo, num, self.job_id)
        except Exception as exc:  # noqa: BLE001 - the job's own outcome is the one that counts
            log.warning("hfconnect: could not look for duplicate pull requests of write job %s on dataset %s: %s",
                        self.job_id, o.repo, exc)

    @staticmethod
    def _status(exc: HubRequestError) -> int | None:
        if exc.xet:  # hf_xet failed and retried already: final
            raise exc
        return exc.status


def carries(text: str, mark: str) -> bool:
    """Whether a commit's text has `mark` as a line of its own ("part 2 of 1" is not in "part 2 of 10")."""
    return any(line.strip() == mark for line in text.splitlines())


def _pr_num_of(ref_or_url: str | None) -> int:
    """N of `refs/pr/N` or of a `.../discussions/N` URL."""
    num = pulls.pull_request_number(ref_or_url)
    if num is None:
        raise HubRequestError(f"the Hub did not say which pull request the commit opened ({ref_or_url!r})")
    return num


def _listed(paths: list[str], most: int = 10) -> str:
    more = f" and {len(paths) - most} more" if len(paths) > most else ""
    return ", ".join(paths[:most]) + more
