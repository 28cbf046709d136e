"""What a write to a dataset repo checks before it writes a row, and again before its commit goes onto a head
that moved: the token, the mode against the split's (or with `split_column` the config's) current files, the
config's one format, and the columns new rows must have.

A config has one set of features (`datasets` casts every split to them) and is read with one builder, so new
files must match the splits the job keeps: on append the split's own files, on overwrite the config's other
splits, else every split of the config. Rows in types that widen without loss (int32 into int64 files) are
written in the files' types (`TargetChecks.preflight` says which); anything else is a SchemaMismatchError naming
the columns and the way out. `write.commit` runs these checks; it owns the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pyarrow as pa

from ..errors import HfConnectError, SchemaMismatchError
from ..hub import repos
from ..hub.client import HubClient
from ..hub.datafiles import parse_card_yaml, resolve_layout
from ..hub.snapshot import Snapshot
from ..options import WriteOptions
from .arrow import widened_to
from .commit_content import BranchState, split_of
from .routing import check_split_column, data_schema
from .tar_writer import check_columns
from .task import TaskMessage, UploadedFile, schema_fingerprint

__all__ = ["TargetChecks", "check_row_schema"]

log = logging.getLogger("hfconnect.write")


def check_row_schema(schema: pa.Schema | None, options: WriteOptions) -> None:
    """The rows' own columns, before any Hub call (a wrong one is the caller's to fix): the split column, and
    for WebDataset the columns that become tar members."""
    if schema is None:
        return
    check_split_column(schema, options)
    if options.format == "webdataset":
        check_columns(data_schema(schema, options))


class TargetChecks:
    """The checks of one write job's target (options.repo, revision, config): small, holds the options only."""

    def __init__(self, options: WriteOptions) -> None:
        self.options = options

    @property
    def client(self) -> HubClient:
        return self.options.client

    @property
    def where(self) -> str:
        return f"dataset {self.options.repo}@{self.options.revision}"

    # ---- before any row --------------------------------------------------------------------------
    def check_token_can_write(self) -> None:
        """Fail before any row is computed when the token cannot write (a read token, or none)."""
        repos.require_write_token(self.client, target=self.options.repo, repo=self.options.repo)

    def read_head(self, sha: str | None = None) -> BranchState:
        """The branch head (or the given commit of it): its files, the config's splits' files and the card."""
        o = self.options
        head = self.client.head(o.repo, o.revision, sha=sha)
        splits = resolve_layout(list(head.files), parse_card_yaml(head.card) if head.card else None
                                ).configs.get(o.config, {})
        return BranchState(head.snapshot.sha, list(head.files),
                           {s: [f.path for f in fs] for s, fs in splits.items() if fs}, head.card)

    def preflight(self, head: BranchState, schema: pa.Schema | None) -> tuple[bool, pa.Schema | None]:
        """The mode and the columns against the head the job begins on: (skip: mode ignore and the split has
        data, the schema the tasks write: `schema`, or on append the split's file types where the new rows widen
        to them without loss)."""
        o = self.options
        existing = self.existing(head)
        if existing and o.mode in ("error", "errorifexists"):
            raise HfConnectError(f"{o.repo} config {o.config!r} {_describe(existing)} and mode is {o.mode!r}: use "
                                 "mode append or overwrite", repo=o.repo)
        skip = bool(existing) and o.mode == "ignore"
        reference = self.reference_splits(head, existing)
        if not skip:
            self.check_format(reference)
        if schema is not None and reference and not skip and o.format == "parquet":
            files = self.conformed(head, reference, data_schema(schema, o), own=o.mode == "append" and bool(existing))
            schema = pa.schema([f.with_type(files.field(f.name).type) if f.name in files.names else f
                                for f in schema], metadata=schema.metadata)
        return skip, schema

    # ---- before the commit ---------------------------------------------------------------------------
    def check_task_schemas(self, messages: Sequence[TaskMessage], schema: pa.Schema) -> None:
        """The tasks wrote files in the columns the commit takes (a stream's tasks write the types prepared at
        its start, and the split may have changed since)."""
        o = self.options
        wrong = {m.schema_fingerprint for m in messages if m.files} - {schema_fingerprint(schema)}
        if wrong:
            raise SchemaMismatchError(
                f"the tasks wrote files with columns [{wrong.pop()}] but {o.repo} takes [{schema_fingerprint(schema)}] "
                "now (its files changed while the job ran): nothing was committed; run the write again",
                repo=o.repo)

    def recheck(self, head: BranchState, uploads: Sequence[UploadedFile], schema: pa.Schema, *, moved: bool) -> bool:
        """The checks on the head the commit goes onto: after the branch `moved` (a 412), the mode and the format
        again, and on overwrite the columns of the splits the job keeps. True: mode ignore and the split got data
        meanwhile (nothing to commit)."""
        o = self.options
        if moved:
            if self.recheck_mode(head):
                return True
            if o.mode != "overwrite":  # another writer may have added files of the other format meanwhile
                self.check_format(self.reference_splits(head, self.existing(head)))
        if o.mode == "overwrite" and (o.split_column or moved):  # else preflight checked this head
            self.check_kept_splits(head, uploads, schema)
        return False

    def recheck_mode(self, head: BranchState) -> bool:
        """Mode error/ignore on a head another writer made during the job (True: skip, mode ignore)."""
        o = self.options
        existing = self.existing(head)
        if existing and o.mode in ("error", "errorifexists"):
            what = f"config {o.config!r}" if o.split_column else f"split {o.split!r}"
            more = f" ({_describe(existing)})" if o.split_column else ""
            raise HfConnectError(f"{o.repo} {what} got data from another writer during the job{more} and mode is "
                                 f"{o.mode!r}: nothing was committed", repo=o.repo)
        return bool(existing) and o.mode == "ignore"

    # ---- the parts ---------------------------------------------------------------------------------
    def targets(self, head: BranchState) -> list[str]:
        """The splits the mode is checked against: the `split` option's, or with `split_column` (whose splits
        are known only once the rows are written) every split of the config."""
        return sorted(head.splits) if self.options.split_column else [self.options.split]

    def existing(self, head: BranchState) -> dict[str, list[str]]:
        """Of the splits the mode is checked against, those with files."""
        return head.files_of(self.targets(head))

    def reference_splits(self, head: BranchState, existing: dict[str, list[str]]) -> dict[str, list[str]]:
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

    def check_format(self, reference: dict[str, list[str]]) -> None:
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

    def split_schema(self, head: BranchState, splits: dict[str, list[str]]) -> pa.Schema | None:
        """The columns of these splits' files (the first Parquet file's footer), None when they have no Parquet."""
        from ..plan.footers import inspect_parquet

        o = self.options
        parquet = [p for files in splits.values() for p in files if p.endswith(".parquet")]
        if not parquet:
            return None
        size = next(f.size for f in head.files if f.path == parquet[0])
        snapshot = Snapshot(o.repo, head.sha, o.revision, self.client.endpoint)
        return inspect_parquet(self.client, snapshot, parquet[0], size).schema.remove_metadata()

    def conformed(self, head: BranchState, reference: dict[str, list[str]], schema: pa.Schema, *,
                  own: bool) -> pa.Schema:
        """The schema new rows are written in: theirs where ours widens to it; else a clear error. `own`: the
        reference is the split's own files (an append), not the config's other splits."""
        theirs = self.split_schema(head, reference)
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

    def check_kept_splits(self, head: BranchState, uploads: Sequence[UploadedFile], schema: pa.Schema) -> None:
        """On overwrite with split_column, the config's splits the job does not replace must have the columns its
        files have (without split_column, preflight checked them and wrote in their types)."""
        o = self.options
        written = sorted({split_of(u, o) for u in uploads})
        kept = head.files_of(sorted(set(head.splits) - set(written)))
        self.check_format(kept)  # with split_column, preflight could not know which splits the job keeps
        theirs = self.split_schema(head, kept) if kept else None
        if theirs is not None and schema_fingerprint(theirs) != schema_fingerprint(schema):
            remedy = f"include rows for {_named('split', list(kept))} in this job, or write to another config " \
                "(with split_column the types are not converted: cast the columns to theirs)" if o.split_column \
                else "another writer changed them while the job ran: run the write again"
            why = self._mismatch(kept, theirs, schema, own=False, written=_named("split", written))
            raise SchemaMismatchError(f"{why}; {remedy}; nothing was committed.{_null_hint(theirs, schema)}",
                                      repo=o.repo)


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
