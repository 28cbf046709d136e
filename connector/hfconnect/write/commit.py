"""The driver side of a write: ONE Hub commit for the whole job, or nothing.

begin(): validate, create the repo if missing, record the branch head as the base and check the mode against
the split's current files. commit(messages): name the files the Hub's way, delete exactly the written splits'
old files on overwrite, update the card (see `layout`), and `create_commit(parent_commit=base)`. A 412 (someone
else committed) re-reads the head and recomputes deletions, names and card, with bounded jittered retries. A
commit request that fails ambiguously (reset, timeout, 5xx) is first looked for in the branch history by the
job id: a job never commits twice. abort() commits nothing, and a repo the job created goes again (also when
begin() or the commit fails): a failed job leaves the Hub as it found it; one whose commit may have landed (its
error has `maybe_published`: the history could not be read back) undoes nothing.

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
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..errors import (
    AuthenticationError,
    CommitConflictError,
    HfConnectError,
    HubRequestError,
    OptionError,
    RepoNotFoundError,
    SchemaMismatchError,
)
from ..hub.client import HubClient
from ..hub.datafiles import parse_card_yaml, resolve_layout
from ..hub.retry import Retrier
from ..hub.snapshot import Snapshot
from ..options import WriteOptions
from .arrow import widened_to
from .layout import BranchState, commit_content, split_of
from .routing import check_split_column, data_schema
from .tar_writer import check_columns
from .task import TaskMessage, schema_fingerprint, write_task

__all__ = ["CommitResult", "WriteJob"]

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
        self.job_id = job_id or uuid.uuid4().hex[:16]
        self.description = description  # more lines for the commit description, after the job id marker
        self.file_tag = file_tag or self.job_id[:8]  # what appended files' names end with (unique per job)
        self.base: str | None = None
        self.skip = False  # mode=ignore and the split has data
        self.created_repo = False  # begin() created the repo: a failed job deletes it again
        self._created_at: str | None = None  # the new repo's head right after its creation
        self._staging: Any = None  # a big job's pull request (write.staging.Staging), once commit() opens it
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
        o = self.options
        if schema is not None:
            check_split_column(schema, o)  # before any Hub call: a wrong column is the caller's to fix
            if o.format == "webdataset":
                check_columns(data_schema(schema, o))
        self._check_token_can_write()
        self._ensure_repo()
        try:
            return self._begin_on(schema)
        except BaseException:
            self._discard_created_repo()
            raise

    def _begin_on(self, schema: pa.Schema | None) -> pa.Schema | None:
        o = self.options
        head = self._read_head()
        self.base = head.sha
        existing = head.files_of(self._targets(head))
        if existing and o.mode in ("error", "errorifexists"):
            raise HfConnectError(f"{o.repo} config {o.config!r} {_describe(existing)} and mode is {o.mode!r}: use "
                                 "mode append or overwrite", repo=o.repo)
        self.skip = bool(existing) and o.mode == "ignore"
        reference = self._reference_splits(head, existing)
        if not self.skip:
            self._check_format(reference)
        if schema is not None and reference and not self.skip and o.format == "parquet":
            files = self._conformed(head, reference, data_schema(schema, o), own=o.mode == "append" and bool(existing))
            schema = pa.schema([f.with_type(files.field(f.name).type) if f.name in files.names else f
                                for f in schema], metadata=schema.metadata)
        return schema

    def _check_format(self, reference: dict[str, list[str]]) -> None:
        """A config holds one format (`datasets` reads a config's files with one builder): new files of another
        format than the files the job keeps are refused before anything is written."""
        o = self.options
        suffix = ".tar" if o.format == "webdataset" else ".parquet"
        other = sorted(p for paths in reference.values() for p in paths if not p.endswith(suffix))
        if other:
            raise HfConnectError(f"{o.repo} config {o.config!r} holds {other[0]}" + (f" and {len(other) - 1} other "
                                 "file(s)" if len(other) > 1 else "") + f" in another format than {o.format}: a "
                                 "config is read with one format; write to another config, or overwrite every "
                                 "split of this one", repo=o.repo)

    def _reference_splits(self, head: BranchState, existing: dict[str, list[str]]) -> dict[str, list[str]]:
        """The splits whose files the new rows must match, as a config has one set of features (`datasets` casts
        every split to them): on append the split's own files; on overwrite the config's other splits (with
        split_column those are known only at the commit); else (a new split, or modes error/ignore, whose split
        is empty when the job goes on) the config's splits."""
        o = self.options
        if o.mode == "append" and existing:
            return existing
        if o.mode == "overwrite":
            return {} if o.split_column else head.files_of(sorted(set(head.splits) - {o.split}))
        return head.files_of(sorted(head.splits))

    def _targets(self, head: BranchState) -> list[str]:
        """The splits the mode is checked against: the `split` option's, or with `split_column` (whose splits
        are known only once the rows are written) every split of the config."""
        return sorted(head.splits) if self.options.split_column else [self.options.split]

    def _check_token_can_write(self) -> None:
        """Fail before any row is computed when the token cannot write (a read token, or none)."""
        o = self.options
        if not o.token:
            raise AuthenticationError(f"writing to {o.repo} needs a token with write access: pass option token, "
                                      "set HF_TOKEN or log in with `hf auth login`", repo=o.repo)
        client = self.client
        try:
            me = client.call("whoami", client.api().whoami, where=f"the token given for {o.repo}")
        except AuthenticationError:
            raise
        except HubRequestError:
            return  # whoami unavailable: the upload itself will tell
        if me.get("auth", {}).get("accessToken", {}).get("role") == "read":
            raise AuthenticationError(f"the token given for {o.repo} is read-only: writing needs a write token",
                                      repo=o.repo)

    def _ensure_repo(self) -> None:
        o, client = self.options, self.client
        try:
            client.call("repo info", client.api().repo_info, o.repo, repo_type="dataset", where=self.where)
            return
        except RepoNotFoundError:
            pass
        try:
            client.call("create repo", client.api().create_repo, o.repo, repo_type="dataset", private=o.private,
                        where=f"dataset {o.repo}")
        except AuthenticationError:
            raise AuthenticationError(f"cannot create dataset {o.repo}: the token is missing or read-only; pass a "
                                      "write token (option token, HF_TOKEN or `hf auth login`)", repo=o.repo) from None
        except HubRequestError as exc:
            if getattr(exc, "status", None) != 409:
                raise
            return  # created by someone else meanwhile: theirs, never deleted by this job
        self.created_repo = True
        try:
            self._created_at = client.call("repo info", client.api().repo_info, o.repo, repo_type="dataset",
                                           where=f"dataset {o.repo}").sha
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
            refs = client.call("list refs", client.api().list_repo_refs, o.repo, repo_type="dataset",
                               include_pull_requests=True, where=f"dataset {o.repo}")
            staged = [self._staging.pr_num, *self._staging.duplicates] if self._staging else []
            mine = {f"refs/pr/{n}" for n in staged if n is not None}  # its PR and the duplicates it closed
            theirs = [pr for pr in refs.pull_requests or () if pr.ref not in mine]  # its own closed PR goes too
            untouched = self._created_at is not None and not refs.tags and not theirs and \
                [(b.name, b.target_commit) for b in refs.branches] == [("main", self._created_at)]
            if not untouched:
                log.warning("hfconnect: dataset %s, created by failed write job %s, has other commits, branches or "
                            "pull requests (or its first state is unknown): kept", o.repo, self.job_id)
                return
            client.call("delete repo", client.api().delete_repo, o.repo, repo_type="dataset", missing_ok=True,
                        where=f"dataset {o.repo}")
            log.warning("hfconnect: deleted dataset %s, created by failed write job %s", o.repo, self.job_id)
        except RepoNotFoundError:
            return  # gone already (Spark's abort() after a failed commit() works on another copy of the job)
        except Exception as exc:  # noqa: BLE001 - the job's own error is the one to raise
            log.warning("hfconnect: could not delete dataset %s, created by failed write job %s: %s", o.repo,
                        self.job_id, exc)

    def _read_head(self, sha: str | None = None) -> BranchState:
        """The branch head (or the given commit of it): its files, the config's splits' files and the card."""
        o = self.options
        head = self.client.head(o.repo, o.revision, sha=sha)
        splits = resolve_layout(list(head.files), parse_card_yaml(head.card) if head.card else None
                                ).configs.get(o.config, {})
        return BranchState(head.snapshot.sha, list(head.files),
                           {s: [f.path for f in fs] for s, fs in splits.items() if fs}, head.card)

    def _split_schema(self, head: BranchState, splits: dict[str, list[str]]) -> pa.Schema | None:
        """The columns of these splits' files (the first Parquet file's footer), None when they have no Parquet."""
        from ..plan.footers import inspect_parquet

        o = self.options
        parquet = [p for files in splits.values() for p in files if p.endswith(".parquet")]
        if not parquet:
            return None
        size = next(f.size for f in head.files if f.path == parquet[0])
        snapshot = Snapshot(o.repo, head.sha, o.revision, o.endpoint)
        return inspect_parquet(self.client, snapshot, parquet[0], size).schema.remove_metadata()

    def _conformed(self, head: BranchState, reference: dict[str, list[str]], schema: pa.Schema, *,
                   own: bool) -> pa.Schema:
        """The schema new rows are written in: theirs where ours widens to it; else a clear error. `own`: the
        reference is the split's own files (an append), not the config's other splits."""
        theirs = self._split_schema(head, reference)
        if theirs is None or schema_fingerprint(theirs) == schema_fingerprint(schema):
            return schema
        widened = widened_to(schema, theirs)
        if widened is None:
            o = self.options
            alone = set(head.splits) <= {o.split} and not o.split_column  # the config has no other split
            remedy = "write with mode overwrite or to another config" if alone else \
                "overwrite every split of the config in one job (rows for each, option split_column) or write to " \
                "another config"
            raise SchemaMismatchError(f"{self._mismatch(reference, theirs, schema, own=own)}; {remedy} (types that "
                                      "widen without loss, like int32 into int64, are converted)."
                                      f"{_null_hint(theirs, schema)}", repo=o.repo)
        changed = [f"{a.name} {a.type} -> {b.type}" for a, b in zip(schema, widened, strict=True) if a.type != b.type]
        log.info("hfconnect: writing to %s in the config's file types: %s", self.where, ", ".join(changed))
        return widened

    def _mismatch(self, reference: dict[str, list[str]], theirs: pa.Schema, schema: pa.Schema, *, own: bool,
                  written: str | None = None) -> str:
        """Why rows in `schema` cannot join the `reference` splits' files, in `theirs` (without the way out)."""
        o = self.options
        one = len(reference) == 1
        splits = _named("split", list(reference))
        columns = f"columns [{schema_fingerprint(theirs)}] but the new rows have [{schema_fingerprint(schema)}]"
        if own:
            return f"cannot append to {o.repo} {splits}: {'its' if one else 'their'} files have {columns}"
        verb = {"append": "append to", "overwrite": "overwrite"}.get(o.mode, "write")
        return f"cannot {verb} {o.repo} {written or _named('split', [o.split])} of config {o.config!r}: the " \
            f"config's {splits} {'keeps' if one else 'keep'} files with {columns}, and a config has one set of " \
            "features"

    def _check_kept_splits(self, head: BranchState, uploads: list[Any], schema: pa.Schema) -> None:
        """On overwrite with split_column, the config's splits the job does not replace must have the columns its
        files have (without split_column, begin() checked them and wrote in their types)."""
        o = self.options
        written = sorted({split_of(u, o) for u in uploads})
        kept = head.files_of(sorted(set(head.splits) - set(written)))
        self._check_format(kept)  # with split_column, begin() could not know which splits the job keeps
        theirs = self._split_schema(head, kept) if kept else None
        if theirs is not None and schema_fingerprint(theirs) != schema_fingerprint(schema):
            remedy = f"include rows for {_named('split', list(kept))} in this job, or write to another config " \
                "(with split_column the types are not converted: cast the columns to theirs)" if o.split_column \
                else "another writer changed them while the job ran: run the write again"
            why = self._mismatch(kept, theirs, schema, own=False, written=_named("split", written))
            raise SchemaMismatchError(f"{why}; {remedy}; nothing was committed.{_null_hint(theirs, schema)}",
                                      repo=o.repo)

    # ---- commit ------------------------------------------------------------------------------
    def commit(self, messages: list[TaskMessage | None], schema: pa.Schema) -> CommitResult:
        """The job's ONE commit (or none: mode ignore on existing data), then a summary line at INFO. A progress
        bar shows while it runs on a terminal (huggingface_hub's tqdm; never in a worker's log)."""
        from huggingface_hub.utils import tqdm

        with tqdm(total=1, desc=f"commit to {self.options.repo}", leave=False, disable=None) as bar:
            try:
                result = self._commit(messages, schema)
            except BaseException as exc:
                if getattr(exc, "maybe_published", False) or getattr(self._staging, "maybe_published", False):
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

    def _commit(self, messages: list[TaskMessage | None], schema: pa.Schema) -> CommitResult:
        if self.base is None:
            raise HfConnectError("WriteJob.commit() called before begin()")
        o = self.options
        schema = data_schema(schema, o)
        chosen = self._dedupe([m for m in messages if m is not None])
        if self.skip:
            return CommitResult(None, (), (), 0, 0)
        wrong = {m.schema_fingerprint for m in chosen if m.files} - {schema_fingerprint(schema)}
        if wrong:  # e.g. a stream's tasks wrote the types prepared at its start, and the split changed since
            raise SchemaMismatchError(
                f"the tasks wrote files with columns [{wrong.pop()}] but {o.repo} takes [{schema_fingerprint(schema)}] "
                "now (its files changed while the job ran): nothing was committed; run the write again",
                repo=o.repo)
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
                info = client.call(
                    "commit", client.api().create_commit, o.repo, repo_type="dataset", revision=o.revision,
                    operations=content.operations, parent_commit=head.sha, create_pr=o.create_pr, retry=False,
                    where=self.where, commit_message=self._title(rows, per_split),
                    commit_description=self._description())
                return CommitResult(info.oid, names, deleted, rows, attempt, info.pr_url, per_split)
            except HubRequestError as exc:
                if getattr(exc, "xet", None):  # hf_xet failed (failures.error_for_xet) and retried already: final
                    raise
                status = getattr(exc, "status", None)
                if status == 412:
                    log.warning("hfconnect: %s moved while job %s ran (HTTP 412): rebasing the commit on the new "
                                "head (attempt %d of %d)", self.where, self.job_id, attempt, COMMIT_ATTEMPTS)
                    time.sleep(random.uniform(0.05, min(5.0, 0.2 * 2**attempt)))
                    continue
                if status == 429:  # refused for its rate, so certainly not landed: wait as the Hub says
                    retrier.failed("HTTP 429", status=429, headers=getattr(exc, "headers", None))
                    continue
                if status is not None and status < 500:
                    raise
                # A 5xx or a dropped connection: the commit may have landed. Never commit twice.
                landed = self._find_landed()
                if landed is not None:
                    return CommitResult(landed[0], names, deleted, rows, attempt, landed[1], per_split)
                retrier.failed(f"HTTP {status}" if status else "connection lost", status=status,
                               headers=getattr(exc, "headers", None))
        raise CommitConflictError(f"could not commit to {o.repo}@{o.revision} after {COMMIT_ATTEMPTS} attempts "
                                  "(the branch kept moving); nothing was committed", repo=o.repo)

    def _prepare(self, attempt: int, uploads: list[Any], schema: pa.Schema) -> tuple[BranchState, Any] | None:
        """The head to commit against and the commit's content there (None: mode ignore and the split got data
        meanwhile). First the head read when the job began; after a 412, the new head, with the mode and the
        kept splits' columns checked again."""
        o = self.options
        head = self._read_head(sha=self.base if attempt == 1 else None)
        if attempt > 1:
            self._recheck_mode(head)
            if self.skip:
                return None
            if o.mode != "overwrite":  # another writer may have added files of the other format meanwhile
                self._check_format(self._reference_splits(head, head.files_of(self._targets(head))))
        if o.mode == "overwrite" and (o.split_column or attempt > 1):  # else begin() checked this head
            self._check_kept_splits(head, uploads, schema)
        return head, commit_content(o, self.file_tag, head, uploads, schema)

    def _title(self, rows: int, per_split: tuple[tuple[str, int], ...]) -> str:
        o = self.options
        return o.commit_message or f"hfconnect: {o.mode} {rows} rows to {o.config}/{','.join(s for s, _ in per_split)}"

    def _staged(self, head: BranchState, content: Any, rows: int, attempt: int, uploads: list[Any],
                schema: pa.Schema) -> CommitResult:
        """The job's change through a pull request staged in commits of `max_commit_operations` and merged in
        one step (see `staging`): still ONE change on the branch."""
        from .staging import Staging

        o = self.options
        staging = Staging(o, job_id=self.job_id, marker=f"{JOB_MARKER} {self.job_id}",
                          title=self._title(rows, tuple(content.split_rows)), description=self._description(),
                          prepare=lambda n: self._prepare(n, uploads, schema), read_head=self._read_head)
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

    def _recheck_mode(self, head: BranchState) -> None:
        o = self.options
        existing = head.files_of(self._targets(head))
        if existing and o.mode in ("error", "errorifexists"):
            what = f"config {o.config!r}" if o.split_column else f"split {o.split!r}"
            more = f" ({_describe(existing)})" if o.split_column else ""
            raise HfConnectError(f"{o.repo} {what} got data from another writer during the job{more} and mode is "
                                 f"{o.mode!r}: nothing was committed", repo=o.repo)
        if existing and o.mode == "ignore":
            self.skip = True

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
            refs = client.call("pull requests", client.api().list_repo_refs, o.repo, repo_type="dataset",
                               include_pull_requests=True, where=f"dataset {o.repo}")
            prs = sorted(refs.pull_requests or (), key=_pr_number, reverse=True)[:PR_LOOKBACK]
            for pr in prs:
                sha = self._marked_commit(pr.ref, 1)
                if sha:
                    return sha, f"{o.endpoint}/datasets/{o.repo}/discussions/{_pr_number(pr)}"
            return None
        except HubRequestError:
            raise HubRequestError(f"commit to {o.repo} failed ambiguously and its history cannot be read: the "
                                  f"commit may or may not have landed (look for '{JOB_MARKER} {self.job_id}')",
                                  repo=o.repo, maybe_published=True) from None

    def _marked_commit(self, revision: str, depth: int) -> str | None:
        """The sha of the first of `revision`'s `depth` newest commits that carries this job's marker."""
        from .staging import newest_commits

        marker = f"{JOB_MARKER} {self.job_id}"
        newest = newest_commits(self.client, self.options.repo, revision, depth, until=lambda text: marker in text)
        return next((sha for sha, text in newest if marker in text), None)

    def abort(self, messages: list[TaskMessage | None]) -> None:
        """Nothing was committed; uploaded objects are unreferenced (the Hub collects them); a repo the job
        created is deleted. After an ambiguous commit failure (`maybe_published`) nothing is undone."""
        if self.maybe_published:
            return  # commit() failed ambiguously and said so: nothing to undo that is known to be ours
        log.warning("hfconnect: write job %s to %s aborted: %d task message(s) dropped, nothing committed",
                    self.job_id, self.where, sum(1 for m in messages if m))
        self._discard_created_repo()


def _named(kind: str, names: list[str]) -> str:
    """"split 'train'" or "splits test, train"."""
    return f"{kind} {names[0]!r}" if len(names) == 1 else f"{kind}s {', '.join(names)}"


def _null_hint(theirs: pa.Schema, schema: pa.Schema) -> str:
    """Names the existing files' all-null columns (type null) the new rows give a type: only nulls fit there."""
    nulls = [f.name for f in theirs if pa.types.is_null(f.type) and f.name in schema.names
             and not pa.types.is_null(schema.field(f.name).type)]
    return f" The existing files hold {', '.join(nulls)} as all-null columns (type null), which take only nulls: " \
        "overwrite their splits to give them a type." if nulls else ""


def _describe(existing: dict[str, list[str]]) -> str:
    """'split 'train' already has 3 file(s)', or for several splits 'splits train, test already have 5 file(s)'."""
    count = sum(len(files) for files in existing.values())
    return f"{_named('split', list(existing))} already {'has' if len(existing) == 1 else 'have'} {count} file(s)"


def _pr_number(ref: Any) -> int:
    """N of a `refs/pr/N` ref (huggingface_hub's GitRefInfo)."""
    tail = str(ref.ref).rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else -1
