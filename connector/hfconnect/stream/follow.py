"""The driver side of a stream that follows a dataset: poll the branch head, find the split's new files, plan them.

Hub cost per trigger: one API call to see where the branch is (none while a per-trigger limit is still working
through files already known); when it moved, one tree listing of the new commit (the previous commit's listing
is kept from the trigger before) and its card (a resolver request). Planning reads footers only where the plan
needs them. Executors only read files, from the signed URLs the plan carries.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

import pyarrow as pa

from ..errors import ConfigNotFoundError, SplitNotFoundError, UpstreamRewriteError
from ..hub.datafiles import DataFile, parse_card_yaml, resolve_layout
from ..hub.snapshot import Changes, RepoFileInfo, Snapshot
from ..options import ReadOptions
from ..plan.files import plan_files
from ..plan.model import SPLIT_COLUMN, ReadPlan
from .offsets import StreamOffset, admit, batch_span
from .options import StreamReadOptions

__all__ = ["DatasetFollower", "Span"]

log = logging.getLogger("hfconnect.stream")
KEEP_COMMITS = 4  # listings kept in memory: the current head's and a few before it


@dataclass(frozen=True)
class _Commit:
    sha: str
    files: tuple[RepoFileInfo, ...]
    config: str
    split_files: dict[str, tuple[str, DataFile]]  # path -> (split, file): the followed split(s) at this commit


@dataclass(frozen=True)
class Span:
    """The split's files added between two commits (path order) and those deleted or rewritten."""

    base: str  # "" = from nothing
    sha: str
    config: str
    added: tuple[DataFile, ...]
    splits: dict[str, str]  # path -> split
    removed: tuple[str, ...]


class DatasetFollower:
    """Offsets and plans for one stream over one repo/branch/config/split. Lives on the driver, as long as the
    query; keeps the last few commits' listings so that a trigger costs one head poll plus one new listing."""

    def __init__(self, options: ReadOptions, stream: StreamReadOptions, file_schema: pa.Schema) -> None:
        self.options = options
        self.stream = stream
        if options.split == "all" and SPLIT_COLUMN in file_schema.names:
            file_schema = file_schema.remove(file_schema.get_field_index(SPLIT_COLUMN))
        self.file_schema = file_schema
        self.client = options.client
        self._commits: OrderedDict[str, _Commit] = OrderedDict()
        self._spans: OrderedDict[tuple[str, str], Span] = OrderedDict()
        self._polled: str | None = None  # a head polled by initial_offset, for the same trigger's latest_offset
        self._target: str | None = None  # Trigger.AvailableNow: never read past this commit
        self._missing_warned = False

    @property
    def where(self) -> str:
        return f"dataset {self.options.repo}@{self.options.revision}"

    # ---- offsets -----------------------------------------------------------------------------
    def poll(self) -> str:
        """The branch's current commit: the one API call a trigger makes."""
        return self.client.snapshot(self.options.repo, self.options.revision).sha

    def initial_offset(self) -> StreamOffset:
        start = self.stream.starting
        if start == "earliest":
            return StreamOffset("")
        if start == "latest":
            self._polled = self.poll()
            return StreamOffset(self._polled)
        return StreamOffset(start)

    def prepare_available_now(self) -> None:
        """Trigger.AvailableNow: read what the branch holds now, nothing committed after."""
        self._target = self._take_polled() or self.poll()

    def latest_offset(self, start: StreamOffset, limited: bool) -> StreamOffset:
        """Where the next micro-batch ends: the rest of a span cut by a limit (no Hub call), else the new head."""
        if start.taken is not None:
            assert start.base is not None  # from_json guarantees it
            span = self.span(start.base, start.sha)
            base, taken = start.base, start.taken
        else:
            head = self._target or self._take_polled() or self.poll()
            if head == start.sha:
                return start
            span = self.span(start.sha, head)
            base, taken = start.sha, 0
        rest = span.added[taken:]
        take = admit(rest, self.stream.max_files_per_trigger, self.stream.max_bytes_per_trigger) if limited \
            else len(rest)
        if taken + take >= len(span.added):
            return StreamOffset(span.sha, base)
        return StreamOffset(span.sha, base, taken + take)

    def _take_polled(self) -> str | None:
        polled, self._polled = self._polled, None
        return polled

    # ---- spans and plans ---------------------------------------------------------------------------
    def plan(self, start: StreamOffset, end: StreamOffset) -> ReadPlan | None:
        """The plan of the micro-batch start -> end, or None when it reads no file."""
        if start == end or (what := batch_span(start, end)) is None:
            return None
        base, sha, first, stop = what
        span = self.span(base, sha)
        files = span.added[first:stop]
        if not files:
            return None
        by_split: dict[str, list[DataFile]] = {}
        for f in files:
            by_split.setdefault(span.splits[f.path], []).append(f)
        o = self.options
        snapshot = Snapshot(o.repo, sha, o.revision, self.client.endpoint)
        return plan_files(o, snapshot, {split: tuple(fs) for split, fs in by_split.items()}, config=span.config,
                          file_schema=self.file_schema)

    def span(self, base: str, sha: str) -> Span:
        """The followed split's files added between `base` ("" = from nothing) and `sha`; deleted or rewritten
        files are an error unless on_deleted_files=continue."""
        key = (base, sha)
        if key in self._spans:
            self._spans.move_to_end(key)
            return self._spans[key]
        new = self._commit(sha)
        old = self._commit(base) if base else None
        changes = Changes.between(base, old.files if old else (), sha, new.files)
        added_ids = {(f.path, f.oid) for f in changes.added}
        oids = {f.path: f.oid for f in new.files}
        added = tuple(sorted((df for path, (_, df) in new.split_files.items() if (path, oids.get(path)) in added_ids),
                             key=lambda f: f.path))
        removed_paths = {f.path for f in changes.removed}
        removed = tuple(sorted(p for p in (old.split_files if old else {}) if p in removed_paths))
        if removed and self.stream.on_deleted_files == "error":
            shown = ", ".join(removed[:5]) + (f" and {len(removed) - 5} more" if len(removed) > 5 else "")
            raise UpstreamRewriteError(
                f"{self.where}: commit {sha} deleted or rewrote {len(removed)} file(s) of split "
                f"{self.options.split!r} the stream had already reached at commit {base} ({shown}): an overwrite "
                "upstream, so the rows read so far are no longer the dataset's. Restart the query with a new "
                "checkpoint to read the dataset afresh, or set option on_deleted_files=continue to read only "
                "the new files from here on", repo=self.options.repo, commit=sha, removed=list(removed))
        if removed:
            log.warning("hfconnect: %s: commit %s deleted or rewrote %d file(s) of split %r; on_deleted_files="
                        "continue: reading its new files only", self.where, sha, len(removed), self.options.split)
        span = Span(base, sha, new.config, added, {p: s for p, (s, _) in new.split_files.items()}, removed)
        self._spans[key] = span
        while len(self._spans) > KEEP_COMMITS:
            self._spans.popitem(last=False)
        return span

    def _commit(self, sha: str) -> _Commit:
        """A commit's files and the followed split's files in it (one listing and the card, kept a while)."""
        if sha in self._commits:
            self._commits.move_to_end(sha)
            return self._commits[sha]
        o = self.options
        head = self.client.head(o.repo, o.revision, sha=sha, with_card=not o.data_files and not o.data_dir)
        layout = resolve_layout(list(head.files), parse_card_yaml(head.card) if head.card else None,
                                data_files=o.data_files, data_dir=o.data_dir)
        config = o.config or layout.default_config
        try:
            config, chosen = layout.select(o.config, o.split)
        except (ConfigNotFoundError, SplitNotFoundError) as exc:
            # A stream may start before its split exists (the producer has not written yet): wait for it.
            if not self._missing_warned:
                log.warning("hfconnect: %s at commit %s: %s; the stream waits for it", self.where, sha, exc)
                self._missing_warned = True
            chosen = {}
        commit = _Commit(sha, head.files, config,
                         {f.path: (split, f) for split, files in chosen.items() for f in files})
        self._commits[sha] = commit
        while len(self._commits) > KEEP_COMMITS:
            self._commits.popitem(last=False)
        return commit
