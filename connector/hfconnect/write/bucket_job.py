"""The driver side of a write to a Storage Bucket prefix: begin / commit / abort, as `WriteJob` for a repo.

A bucket has no commits and its batches are not transactions, so "all or nothing" is built as follows (the
manifest's format and the rules readers follow are in `hub.bucket_manifest`):

  tasks    write the Parquet files and upload their bytes to the bucket's Xet storage only (`bucket_task`): no
           path names them yet, nobody sees them; a job that dies here changed nothing (the CAS forgets
           unreferenced content).
  batch 1  ONE `batch_bucket_files` call adds every file of the job by Xet hash, under names no file has
           (`part-NNNNN-of-NNNNN-<job tag>.parquet`). hfconnect's readers still see the previous manifest's files.
           A failure (an operation refused, or the request failing for good) deletes every name the job may
           have added, in a cleanup batch, and raises.
  batch 2  ONE `batch_bucket_files` call: the new manifest (`<prefix>/_hfconnect_manifest.json`, one file, so it
           lands whole or not at all), then on overwrite the deletion of every other file under the prefix.
           The manifest is what switches hfconnect's readers from the old files to exactly the new ones. The
           deletions come after it: a reader of the old manifest never misses a file. If the manifest is not
           written, the job's files are deleted again and the job fails; if only deletions fail, the job has
           succeeded (its manifest says what the data is) and the leftovers are named in a warning (the next
           overwrite removes them).

The Hub splits a batch request at 1,000 operations (huggingface_hub's chunking in `batch_bucket_files`): a job
of more files sends batch 1 as several requests, invisible to manifest readers all the same.

Modes: append (the manifest lists the files it listed, or with no manifest the prefix's `.parquet` files, plus
the job's), overwrite (the manifest lists only the job's; every other file under `<prefix>/` is deleted),
error/errorifexists (fail if the prefix holds data: the manifest's files, or without one any `.parquet` file),
ignore (then do nothing at all). A missing bucket is created (private with option `private`), as a missing repo
is; a failed job deletes a bucket it created when the bucket is still empty.

An overwrite names a prefix: at the bucket's root it would delete every file of the bucket (other prefixes' data
and manifests too), so it is refused (`begin`).

Batch 2 failing in any way (an error, an answer that does not parse, an interrupt) is settled by listing the
prefix: the new manifest there means the job landed (its files are kept); absent after a completed request, the
job's files are deleted again; when the listing fails too, or an interrupted request may still be applied, the
job's files are kept and `maybe_published` is set (orphans are in no manifest; the manifest never names a deleted
file).

Concurrent jobs on one prefix: a bucket has no conditional write. The manifest is computed from a listing and
the manifest read pinned to the Xet hash that listing gave it (`hub.buckets.read_manifest`, as readers read it:
never a listing paired with another manifest), and the prefix is listed once more right before batch 2: a
manifest another job published meanwhile makes the job compute its own again, so an append keeps that job's
files. That narrows the race to the batch request but does not close it: do not run two jobs on one prefix at
once.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..errors import (
    AuthenticationError,
    DataFileError,
    HfConnectError,
    HubRequestError,
    OptionError,
    RepoNotFoundError,
    SchemaMismatchError,
)
from ..hub import bucket_admin, repos, xet
from ..hub.bucket_manifest import (
    Manifest,
    ManifestError,
    ManifestFile,
    fallback_paths,
    full_path,
    manifest_path,
    under_prefix,
)
from ..hub.bucket_upload import BucketUpload, upload_to_bucket
from ..hub.buckets import BucketPath, list_bucket_files, read_manifest
from ..hub.client import HubClient
from ..options import WriteOptions
from .bucket_target import BucketTarget
from .bucket_task import write_bucket_task
from .task import TaskMessage, UploadedFile, schema_fingerprint

__all__ = ["BucketState", "BucketWriteJob", "BucketWriteResult", "is_gone", "published_mark", "published_since"]

log = logging.getLogger("hfconnect.write")
_GONE = "does not exist"  # what a batch says about a delete of a path that is not there (the local hub's wording)


@dataclass(frozen=True)
class BucketWriteResult:
    bucket: str
    prefix: str
    files: tuple[str, ...]  # full bucket paths the job added (empty: nothing written)
    deleted: tuple[str, ...]
    rows: int
    manifest: str | None  # the manifest's path; None when nothing was written (mode ignore on data)
    job_id: str = ""
    leftovers: tuple[str, ...] = ()  # old files an overwrite could not delete (not in the manifest)


# The results this process's jobs published, in order: a caller that started a write through an engine (which
# returns nothing, e.g. Spark's format) finds its own job's id here rather than guessing from the manifest now
# there, which may be another job's (`jobs.target.BucketJobTarget.landed`).
_results: deque[tuple[int, BucketWriteResult]] = deque(maxlen=256)
_sequence = itertools.count(1)
_results_lock = threading.Lock()


def published_mark() -> int:
    """A position in this process's published results: `published_since(mark)` gives only later ones."""
    with _results_lock:
        return _results[-1][0] if _results else 0


def published_since(mark: int, bucket_id: str, prefix: str) -> list[BucketWriteResult]:
    """The results published by this process's jobs to `bucket_id`/`prefix` after `mark`, oldest first."""
    with _results_lock:
        return [r for n, r in _results if n > mark and r.bucket == bucket_id and r.prefix == prefix]


def _record(result: BucketWriteResult) -> None:
    with _results_lock:
        _results.append((next(_sequence), result))


def is_gone(failure: dict[str, Any]) -> bool:
    """Whether a batch's failure of a delete says the path is not there (a retried delete that was done): a 404
    status when the answer carries one, else the wording ("does not exist")."""
    for key in ("status", "statusCode", "status_code", "code"):
        value = failure.get(key)
        if value is not None and str(value).strip() in ("404", "NotFound", "EntryNotFound"):
            return True
    return _GONE in str(failure.get("error", "")).lower()


@dataclass
class BucketState:
    """The files under the prefix (full path -> (size, xet hash)) and its manifest, as listed now."""

    prefix: str
    files: dict[str, tuple[int, str]]
    manifest: Manifest | None = None
    manifest_error: ManifestError | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def data_files(self) -> list[str]:
        """What hfconnect's readers read here now: the manifest's files, or without one the `.parquet` files."""
        if self.manifest is not None:
            return self.manifest.paths()
        return fallback_paths(self.files, self.prefix)


class BucketWriteJob:
    """One write job to a bucket prefix. Create on the driver, begin(), ship (options, job_id) to the tasks
    (`write_bucket_task`), then commit(messages), or abort(messages)."""

    def __init__(self, options: WriteOptions, target: BucketTarget, job_id: str | None = None) -> None:
        self.options = options
        self.target = target
        self.job_id = job_id or uuid.uuid4().hex[:16]
        self.file_tag = self.job_id[:8]
        self.skip = False
        self.created_bucket = False
        self.begun = False
        self.maybe_published = False  # publishing failed ambiguously: the job's files are kept (it may have landed)
        self.published = False  # the manifest landed (even if commit() then raises: an interrupt after it)
        # (query id, batch id) when this job publishes a streaming micro-batch: recorded in the manifest's `streams`
        self.stream: tuple[str, int] | None = None
        self.started = time.monotonic()

    @property
    def client(self) -> HubClient:
        return self.options.client

    @property
    def where(self) -> str:
        return f"bucket {self.target.bucket_id}" + (f" prefix {self.target.prefix!r}" if self.target.prefix else "")

    # ---- begin -------------------------------------------------------------------------------------
    def begin(self, schema: pa.Schema | None = None) -> pa.Schema | None:
        """Check the target, Xet, the token, the bucket (created if missing) and the mode before any row is
        computed."""
        if self.options.mode == "overwrite" and not self.target.prefix:
            raise OptionError(f"{self.target}: an overwrite of a bucket's root would delete every file of the bucket "
                              "(other prefixes' data and manifests too): write to a prefix, e.g. "
                              f"buckets/{self.target.bucket_id}/data, or use mode append")
        if not xet.in_use():
            raise HfConnectError(f"{self.where}: Storage Buckets store files through Xet only, and huggingface_hub "
                                 "does not use hf_xet here: install hf_xet and unset HF_HUB_DISABLE_XET")
        self._check_token_can_write()
        self._ensure_bucket()
        try:
            state = self.state()
            if state.manifest_error is not None and self.options.mode != "overwrite":
                message = state.manifest_error.message
                raise ManifestError(message if "overwrite" in message else
                                    f"{message}; overwrite the prefix, or remove the file")
            existing = state.data_files()
            mode = self.options.mode
            if existing and mode in ("error", "errorifexists"):
                raise HfConnectError(f"{self.where} already holds {len(existing)} data file(s) and mode is {mode!r}: "
                                     "use mode append or overwrite", repo=self.target.bucket_id)
            self.skip = bool(existing) and mode == "ignore"
            self._check_schema(state, schema)
        except BaseException:
            self._discard_created_bucket()
            raise
        self.begun = True
        return schema

    def _check_schema(self, state: BucketState, schema: pa.Schema | None) -> None:
        """On append, the new rows must have the columns the manifest's files have (a reader reads them as one
        table); the manifest records them. Types are not widened here, unlike a repo's append."""
        m = state.manifest
        if schema is None or self.options.mode != "append" or m is None or not m.files or not m.schema:
            return
        if m.schema != schema_fingerprint(schema):
            raise SchemaMismatchError(f"cannot append to {self.where}: its files have columns [{m.schema}] but the "
                                      f"new rows have [{schema_fingerprint(schema)}]; cast the columns to theirs, or "
                                      "write with mode overwrite or to another prefix", repo=self.target.bucket_id)

    def _check_token_can_write(self) -> None:
        repos.require_write_token(self.client, target=self.where, repo=self.options.repo)

    def _ensure_bucket(self) -> None:
        client, bucket = self.client, self.target.bucket_id
        if bucket_admin.bucket_exists(client, bucket):
            return
        try:
            bucket_admin.create_bucket(client, bucket, private=self.options.private)
        except AuthenticationError:
            raise AuthenticationError(f"cannot create bucket {bucket}: the token is missing or read-only, or may "
                                      "not create buckets in that namespace; pass a write token", repo=bucket) from None
        except HubRequestError as exc:
            if exc.status != 409:
                raise
            return  # created by someone else meanwhile: theirs
        self.created_bucket = True
        log.info("hfconnect: created bucket %s for write job %s", bucket, self.job_id)

    def _discard_created_bucket(self) -> None:
        """Delete the bucket begin() created if it holds no file (a failed job leaves the Hub as it found it).
        Best effort: logged, never raised over the job's own error."""
        if not self.created_bucket:
            return
        self.created_bucket = False
        client, bucket = self.client, self.target.bucket_id
        try:
            if not bucket_admin.bucket_is_empty(client, bucket):
                log.warning("hfconnect: bucket %s, created by failed write job %s, holds files: kept", bucket,
                            self.job_id)
                return
            bucket_admin.delete_bucket(client, bucket)
            log.warning("hfconnect: deleted bucket %s, created by failed write job %s", bucket, self.job_id)
        except RepoNotFoundError:
            return
        except Exception as exc:  # noqa: BLE001 - the job's own error is the one to raise
            log.warning("hfconnect: could not delete bucket %s, created by failed write job %s: %s", bucket,
                        self.job_id, exc)

    # ---- state -------------------------------------------------------------------------------------
    def _listing(self) -> dict[str, tuple[int, str]]:
        """The files under the prefix, as listed now: full path -> (size, Xet hash) (hub.buckets' listing, the
        one reads plan from; 1 tree request per 1,000 files)."""
        prefix = self.target.prefix
        listed = list_bucket_files(self.client, BucketPath(self.target.bucket_id, prefix))
        return {f.path: (int(f.size), f.oid) for f in listed if under_prefix(f.path, prefix)}

    def state(self) -> BucketState:
        """The prefix's files and manifest, listed now. The manifest is read pinned to the Xet hash and size the
        listing gave it (as readers read it): one replaced in between, by a job publishing right then, is met by
        listing again, so the state never pairs a listing with another job's manifest."""
        from ..hub.snapshot import RepoFileInfo

        prefix, mpath = self.target.prefix, manifest_path(self.target.prefix)
        for attempt in range(3):
            files = self._listing()
            state = BucketState(prefix, files)
            if mpath not in files:
                return state
            size, xet_hash = files[mpath]
            try:
                state.manifest = read_manifest(self.client, self.target.bucket_id, RepoFileInfo(mpath, size, xet_hash))
            except ManifestError as exc:
                state.manifest_error = exc
            except DataFileError as exc:
                if attempt == 2 or not getattr(exc, "changed", False):
                    raise
                log.info("hfconnect: %s: the manifest changed while it was read (another job published): listing "
                         "again", self.where)
                continue
            return state
        raise AssertionError("unreachable")

    # ---- commit ------------------------------------------------------------------------------------
    def commit(self, messages: Sequence[TaskMessage | None], schema: pa.Schema) -> BucketWriteResult:
        """Publish the tasks' files: batch 1 adds them, batch 2 writes the manifest (and an overwrite's
        deletions). Raises with the prefix as hfconnect's readers saw it before (see the module docstring)."""
        from .commit import WriteJob

        if not self.begun:
            raise HfConnectError("BucketWriteJob.commit() called before begin()")
        o, t = self.options, self.target
        chosen = WriteJob._dedupe([m for m in messages if m is not None])
        if self.skip:
            return BucketWriteResult(t.bucket_id, t.prefix, (), (), 0, None, self.job_id)
        wrong = {m.schema_fingerprint for m in chosen if m.files} - {schema_fingerprint(schema)}
        if wrong:
            raise SchemaMismatchError(f"the tasks wrote files with columns [{wrong.pop()}] but the job writes "
                                      f"[{schema_fingerprint(schema)}]: nothing was written to {self.where}",
                                      repo=o.repo)
        if not any(m.files for m in chosen):  # no row at all: one empty file keeps the schema, as for a repo
            chosen = [write_bucket_task([], schema, o, job_id=self.job_id, partition_id=-1, at_least_one_file=True)]
        uploads = [f for m in chosen for f in sorted(m.files, key=lambda f: f.index)]
        before = self.state()
        if self._recheck_mode(before):
            return BucketWriteResult(t.bucket_id, t.prefix, (), (), 0, None, self.job_id)
        names = self._names(len(uploads), before)
        added: list[str] = []
        try:
            added = names
            self._add_files(names, uploads)
            result = self._publish(names, uploads, schema)
        except BaseException:
            if added and not self.maybe_published and not self.published:
                self._remove(added, "the failed job's files")
                self._discard_created_bucket()
            raise
        _record(result)
        log.info("hfconnect: wrote %d rows in %d file(s) to %s (manifest %s), %.1fs after the job began",
                 result.rows, len(result.files), self.where, result.manifest, time.monotonic() - self.started)
        return result

    def _recheck_mode(self, state: BucketState) -> bool:
        """Mode error/ignore once more, on the listing right before anything is added (True: skip)."""
        mode = self.options.mode
        if state.data_files() and mode in ("error", "errorifexists"):
            raise HfConnectError(f"{self.where} got data from another writer during the job and mode is {mode!r}: "
                                 "nothing was written", repo=self.target.bucket_id)
        if state.data_files() and mode == "ignore":
            self.skip = True
        return self.skip

    def _names(self, count: int, state: BucketState) -> list[str]:
        """Fresh names: no file under the prefix has them, so adding them changes nothing any manifest lists."""
        for tag in (self.file_tag, self.job_id):
            names = [full_path(self.target.prefix, f"part-{i:05d}-of-{count:05d}-{tag}.parquet")
                     for i in range(count)]
            if not set(names) & set(state.files):
                return names
        raise HfConnectError(f"{self.where} already holds files named after job {self.job_id}: run the write again "
                             "(a new job gets a new id)", repo=self.target.bucket_id)

    def _add_files(self, names: list[str], uploads: list[UploadedFile]) -> None:
        """Batch 1: every file of the job, by Xet hash (ONE batch_bucket_files call)."""
        from huggingface_hub._buckets import _BucketAddFile

        adds = []
        for name, u in zip(names, uploads, strict=True):
            done = u.operation
            assert isinstance(done, BucketUpload), done
            adds.append(_BucketAddFile(source=b"", destination=name, xet_hash=done.xet_hash, size=done.size))
        failures = self._batch("add the job's files", add=adds)
        if failures:
            raise HubRequestError(f"{self.where}: the Hub refused to add {len(failures)} of the job's "
                                  f"{len(names)} file(s) ({_first(failures)}): nothing was published",
                                  repo=self.target.bucket_id)

    def _publish(self, names: list[str], uploads: list[UploadedFile], schema: pa.Schema) -> BucketWriteResult:
        """Batch 2: the manifest, then an overwrite's deletions (ONE batch_bucket_files call). The manifest is
        computed from a listing and the manifest read pinned to it, uploaded, and the prefix listed once more right
        before the batch: when another job's manifest landed meanwhile, it is computed again (an append keeps that
        job's files), so the race left is the one request."""
        from huggingface_hub._buckets import _BucketAddFile

        o, t = self.options, self.target
        mine = [ManifestFile(n[len(t.prefix) + 1:] if t.prefix else n, u.size, _stored(u).xet_hash, u.rows)
                for n, u in zip(names, uploads, strict=True)]
        ours = set(names)
        mpath = manifest_path(t.prefix)
        for attempt in range(1, 4):
            state = self.state()  # again: another job may have published since batch 1 was computed
            kept: list[ManifestFile] = []
            deletes: list[str] = []
            if o.mode == "overwrite":
                deletes = sorted(p for p in state.files if p not in ours and p != mpath)
            else:
                kept = self._kept(state, ours)
            manifest = Manifest(t.bucket_id, t.prefix, self.job_id, o.mode, tuple(kept + mine),
                                schema_fingerprint(schema), streams=self._streams(state))
            stored = upload_to_bucket(self.client, t.bucket_id, manifest.to_bytes(), sha256=None, job_id=self.job_id,
                                      what=f"upload of the manifest of {self.where}")
            now = self._listing().get(mpath)
            if now == state.files.get(mpath):
                break
            log.warning("hfconnect: %s: another job published a manifest while job %s computed its own%s", self.where,
                        self.job_id, ": computing it again" if attempt < 3 else
                        "; publishing anyway (do not run two jobs on one prefix at once)")
        add = _BucketAddFile(source=b"", destination=mpath, xet_hash=stored.xet_hash, size=stored.size)
        try:
            failures = self._batch("publish the manifest", add=[add], delete=deletes)
        except BaseException as exc:  # any failure: an error, an answer that does not parse, an interrupt
            failures = self._settle(exc, stored.xet_hash, deletes)
        if any(f.get("path") == mpath for f in failures):
            raise HubRequestError(f"{self.where}: the Hub refused the manifest ({_first(failures)}): nothing was "
                                  "published", repo=t.bucket_id)
        leftovers = tuple(f.get("path", "") for f in failures if not is_gone(f))
        if leftovers:
            log.warning("hfconnect: job %s published %s, but %d old file(s) could not be deleted (not in the "
                        "manifest, so hfconnect's readers skip them; the next overwrite removes them): %s",
                        self.job_id, self.where, len(leftovers), ", ".join(leftovers[:10]))
        deleted = tuple(p for p in deletes if p not in set(leftovers))
        self.published = True
        return BucketWriteResult(t.bucket_id, t.prefix, tuple(names), deleted, sum(u.rows for u in uploads), mpath,
                                 self.job_id, leftovers)

    def _streams(self, state: BucketState) -> dict[str, int]:
        """The streaming batches the manifest records: the current manifest's, carried forward by every job (so a
        replayed batch is still found after other writes), plus this job's own batch."""
        streams = dict(state.manifest.streams) if state.manifest is not None else {}
        if self.stream is not None:
            query, batch = self.stream
            streams[query] = max(batch, streams.get(query, -1))
        return streams

    def _kept(self, state: BucketState, ours: set[str]) -> list[ManifestFile]:
        """On append: the files the manifest lists now that are still there (as listed), else (no manifest yet)
        the prefix's `.parquet` files, so hfconnect's readers keep seeing what they saw."""
        prefix = self.target.prefix
        if state.manifest_error is not None:
            raise ManifestError(f"{state.manifest_error.message}; nothing was published (overwrite the prefix, or "
                                "remove the file)")
        out = []
        if state.manifest is not None:
            for f in state.manifest.files:
                found = state.files.get(full_path(prefix, f.path))
                if found is None:
                    log.warning("hfconnect: %s listed %s, which is gone: the new manifest leaves it out", self.where,
                                f.path)
                    continue
                out.append(ManifestFile(f.path, found[0], found[1], f.rows if found[1] == f.xet_hash else None))
            return out
        for path in fallback_paths(state.files, prefix):
            if path not in ours:
                size, xet_hash = state.files[path]
                out.append(ManifestFile(path[len(prefix) + 1:] if prefix else path, size, xet_hash))
        return out

    def _settle(self, exc: BaseException, xet_hash: str, deletes: list[str]) -> list[dict[str, str]]:
        """Batch 2 raised: did the manifest land? Listed: yes -> the job succeeded (returns the deletions still
        listed, as failures); no -> re-raise (commit() deletes the job's files). Unknown (the listing fails, or
        an interrupted request may still be applied) -> `maybe_published`: the files are kept, never deleted
        under a manifest that may name them. An interrupt is re-raised in every case."""
        interrupted = not isinstance(exc, Exception)
        listed = self._manifest_landed(xet_hash)
        mpath = manifest_path(self.target.prefix)
        if listed is not None and listed.get(mpath, (0, ""))[1] == xet_hash:
            self.published = True
            log.warning("hfconnect: publishing %s raised (%s), but its manifest is there: job %s landed", self.where,
                        type(exc).__name__, self.job_id)
            if interrupted:
                raise exc
            return [{"path": p, "error": "still listed after the manifest batch"} for p in deletes if p in listed]
        if listed is not None and not interrupted:
            raise exc
        self.maybe_published = True
        why = "an interrupted request may still be applied" if listed is not None else "the prefix cannot be listed"
        log.warning("hfconnect: publishing %s failed ambiguously (%s; %s): the files of job %s are kept, in no "
                    "manifest unless it landed (look for job_id %s in %s)", self.where, type(exc).__name__, why,
                    self.job_id, self.job_id, mpath)
        if interrupted:
            raise exc
        raise HubRequestError(f"{self.where}: publishing the manifest failed ambiguously ({_describe(exc)}) and "
                              f"{why}: the job may or may not have landed (look for job_id {self.job_id} in "
                              f"{mpath})", repo=self.target.bucket_id) from exc

    def _manifest_landed(self, xet_hash: str) -> dict[str, tuple[int, str]] | None:
        """The prefix's listing after an ambiguous batch 2 (the caller compares the manifest's hash with
        `xet_hash`), or None when it cannot be listed. Best effort: an error is "cannot say"; an interrupt while
        listing is raised, the job's files kept (`maybe_published`)."""
        try:
            return self._listing()
        except Exception as exc:  # noqa: BLE001 - best effort, the batch's own failure is the one to raise
            log.warning("hfconnect: %s: could not list the prefix to see whether manifest %s... landed: %s",
                        self.where, xet_hash[:12], _describe(exc))
            return None
        except BaseException:
            self.maybe_published = True
            raise

    def _batch(self, what: str, *, add: Sequence[Any] = (), delete: Sequence[str] = ()) -> list[dict[str, str]]:
        """One `batch_bucket_files` call under the retry policy (`hub.bucket_admin`: re-sending it is safe, an add of
        the same hash is the same, a delete already done is reported as gone); returns the operations the Hub
        refused."""
        failures = bucket_admin.batch_bucket_files(self.client, self.target.bucket_id, what=what, where=self.where,
                                                   add=add, delete=delete)
        deleting = set(delete)
        return [f for f in failures if not (f.get("path") in deleting and is_gone(f))]

    def _remove(self, paths: list[str], what: str) -> None:
        """Cleanup batch: delete `paths` (names only this job used). Best effort: orphans are logged, and they
        are in no manifest."""
        try:
            failures = self._batch(f"delete {what}", delete=paths)
        except Exception as exc:  # noqa: BLE001 - the job's own error is the one to raise
            failures = [{"path": p, "error": str(exc)} for p in paths]
        if failures:
            log.warning("hfconnect: could not delete %d file(s) of failed write job %s from %s (in no manifest: "
                        "hfconnect's readers skip them; other readers of the prefix see them): %s", len(failures),
                        self.job_id, self.where, ", ".join(f.get("path", "") for f in failures[:10]))

    def abort(self, messages: Sequence[TaskMessage | None]) -> None:
        """Nothing was added (uploaded content is in no path: the CAS collects it); a bucket the job created
        is deleted when still empty."""
        if self.maybe_published or self.published:
            return  # commit() failed ambiguously (or after the manifest landed) and said so: nothing to undo
        log.warning("hfconnect: write job %s to %s aborted: %d task message(s) dropped, nothing published",
                    self.job_id, self.where, sum(1 for m in messages if m))
        self._discard_created_bucket()


def _first(failures: list[dict[str, str]]) -> str:
    f = failures[0]
    more = f" and {len(failures) - 1} more" if len(failures) > 1 else ""
    return f"{f.get('path')}: {f.get('error')}{more}"


def _describe(exc: BaseException) -> str:
    """An exception in a few words for a message: hfconnect's own message, else its type (a foreign exception's
    text may quote a request)."""
    if isinstance(exc, HfConnectError):
        return exc.message
    return type(exc).__name__


def _stored(upload: UploadedFile) -> BucketUpload:
    """The bucket upload a bucket task's file carries (a repo task's carries a CommitOperationAdd)."""
    if not isinstance(upload.operation, BucketUpload):
        raise TypeError(f"file #{upload.index} was uploaded to a repo, not to a bucket")
    return upload.operation
