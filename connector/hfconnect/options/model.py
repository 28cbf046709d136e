"""Typed, validated options, parsed once through the option table: by keyword from Daft/Python, by
`from_strings` from Spark.

Why strict: a misspelt Spark option would otherwise be silently ignored and read the wrong data; an option the
engine does not use is an error naming the engine that does.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import OptionError
from .parsers import default_endpoint
from .table import ALIASES, OPTIONS, PARSERS, STREAM_READ_OPTIONS, Option, options_for

if TYPE_CHECKING:
    from ..hub.client import HubClient

__all__ = ["DAFT_READERS", "MODES", "SPLIT_NAME", "ReadOptions", "WriteOptions", "closest_name"]

log = logging.getLogger("hfconnect.options")
DAFT_READERS = ("native", "hfconnect")
BATCH_ROWS = 65_536  # rows per batch of hfconnect's reader unless batch_size is given
MODES = ("append", "overwrite", "error", "errorifexists", "ignore")
COMPRESSIONS = ("zstd", "snappy", "gzip", "brotli", "lz4", "none")
WRITE_FORMATS = ("parquet", "webdataset")
# What a written split may be called (also each value of a `split_column`): word characters with -/. between
# them, as in file names `{split}-00000-of-00001.parquet`; "all" is what readers ask for to get every split.
SPLIT_NAME = re.compile(r"^\w+(?:[-.]\w+)*$")


def _parse(direction: str, values: Mapping[str, Any], *, engine: str | None) -> dict[str, Any]:
    """Keys (any case, an alias, or another library's name for the option) -> option names, values parsed;
    unknown keys and other engines' options are errors that say what to do. None values are left out (their
    default applies); other libraries' options hfconnect has no use for are checked, logged and dropped."""
    mine = options_for(direction, engine)
    every = options_for(direction)
    by_key = {k.lower(): o for o in mine.values() for k in (o.name, *o.aliases)}
    theirs = {a.name: a for a in ALIASES if getattr(a, direction)}
    parsed: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    for raw_key, value in values.items():
        key = raw_key.lower()
        alias = theirs.get(key)
        if alias is not None and alias.option is None:
            if value is not None:
                PARSERS[alias.kind](raw_key, value)
                log.info("hfconnect: option %s (%s) is %s", raw_key, alias.origin, alias.note)
            continue
        option = by_key.get(alias.option if alias is not None and alias.option else key)
        if option is None:
            raise _unknown(raw_key, direction, engine, mine, every)
        if value is not None:
            if option.name in parsed:
                raise OptionError(f"option {option.name!r} is given twice, as {given_as[option.name]!r} and "
                                  f"{raw_key!r}: give it once")
            parsed[option.name] = option.parse(value, raw_key)
            given_as[option.name] = raw_key
    return parsed


def _unknown(key: str, direction: str, engine: str | None, mine: dict[str, Option],
             every: dict[str, Option]) -> OptionError:
    other = next((o for o in every.values() if key.lower() in (o.name, *o.aliases)), None)
    if other is not None and engine is not None:
        return OptionError(f"option {key!r} is a {other.engine_names} option ({other.doc}); {engine.capitalize()} "
                           "does not use it")
    opposite = next((o for o in OPTIONS if key.lower() in (o.name, *o.aliases)), None)
    if opposite is not None:
        return OptionError(f"option {key!r} is a {'write' if direction == 'read' else 'read'} option, not a "
                           f"{direction} option")
    valid = ", ".join(sorted(mine))
    names = {n.lower(): n for o in mine.values() for n in (o.name, *o.aliases)}
    streams = ""
    if direction == "read" and engine == "spark":
        streams = f"; a readStream also takes {', '.join(STREAM_READ_OPTIONS)}"
        names.update({n.lower(): n for n in STREAM_READ_OPTIONS})
    close = closest_name(key, names)
    guess = f"; did you mean {names[close]!r}?" if close else ""
    return OptionError(f"unknown option {key!r}; valid options: {valid}{streams}{guess}")


def closest_name(typed: str, names: Iterable[str]) -> str | None:
    """The name a misspelled `typed` most likely meant ('splt' -> 'split', 'rowgroupsize' -> 'row_group_size'),
    or None: what every "did you mean" of hfconnect's options and keywords says."""
    names = list(names)
    typed = typed.lower().replace("-", "_")
    close = difflib.get_close_matches(typed, names, n=1, cutoff=0.75) or \
        [n for n in names if n.replace("_", "") == typed.replace("_", "")][:1]
    return close[0] if close else None


def _with_fixed(options: Mapping[str, Any], **fixed: str | None) -> dict[str, Any]:
    """Spark's options plus what Spark gives apart (load()'s path, .mode()), which win over the same keys."""
    names = {k for k, v in fixed.items() if v}
    if "repo" in names:
        names.add("path")  # Spark hands the path of load()/save() both ways
    keep = {k: v for k, v in options.items() if k.lower() not in names}
    return {**keep, **{k: v for k, v in fixed.items() if v}}


def _build(cls: type, direction: str, values: Mapping[str, Any], *, engine: str | None) -> Any:
    parsed = _parse(direction, values, engine=engine)
    parsed.setdefault("repo", "")  # no repo at all (Spark's load() without a path): the class says what to pass
    try:
        return cls(**parsed)
    except TypeError as exc:
        raise OptionError(str(exc)) from None


def _hub_client(endpoint: str, token: str | None, retry_budget: float) -> HubClient:
    from ..hub.client import HubClient
    from ..hub.retry import RetryPolicy

    return HubClient(endpoint, token, RetryPolicy(budget=retry_budget))


def _resolve_token(token: str | None) -> str | None:
    from ..hub.client import resolve_token

    return resolve_token(token)


@dataclass(frozen=True)
class ReadOptions:
    """What to read and how (the table in options/table.py documents each). `token` never shows."""

    repo: str
    config: str | None = None
    split: str = "train"
    revision: str = "main"
    token: str | None = field(default=None, repr=False)
    endpoint: str | None = None
    data_dir: str | None = None
    retry_budget: float = 60.0
    data_files: tuple[str, ...] | None = None
    columns: tuple[str, ...] | None = None
    filters: Any = None  # pyarrow.compute.Expression
    shard_size: int = 128_000_000
    min_shards: int | None = None  # None: the shard count follows cores and data size (plan.sizing)
    batch_size: int | None = None  # None: BATCH_ROWS for hfconnect's reader; Daft's native reader chooses its own
    max_concurrency: int = 16
    prefetch: bool = True
    read_ahead_bytes: int = 128_000_000  # hfconnect's reader: its read-ahead budget per task (read.ahead)
    pushdown_filters: bool = False  # Spark only: see hfconnect.spark.source for why it is opt-in
    drop_labels: bool | None = None  # image/audio folders (plan.mediafolder): None is `datasets`' rule
    drop_metadata: bool | None = None
    daft_reader: str = "native"  # Daft only

    def __post_init__(self) -> None:
        if not self.repo or not isinstance(self.repo, str):
            raise OptionError("no dataset given: pass the repo id, e.g. load('org/name') or repo='org/name'")
        if self.daft_reader not in DAFT_READERS:
            raise OptionError(f"daft_reader={self.daft_reader!r}: expected one of {', '.join(DAFT_READERS)}")
        object.__setattr__(self, "endpoint", (self.endpoint or default_endpoint()).rstrip("/"))
        object.__setattr__(self, "token", _resolve_token(self.token))

    @property
    def batch_rows(self) -> int:
        """Rows per Arrow batch hfconnect's reader hands the engine."""
        return self.batch_size or BATCH_ROWS

    @property
    def client(self) -> HubClient:
        """Hub I/O for this read: endpoint, token and retry budget."""
        return _hub_client(self.endpoint or "", self.token, self.retry_budget)

    @classmethod
    def from_strings(cls, options: Mapping[str, str], repo: str | None = None, *,
                     engine: str | None = "spark") -> ReadOptions:
        """Spark's string options (keys case-insensitive) -> ReadOptions. Unknown keys are rejected."""
        return _build(cls, "read", _with_fixed(options, repo=repo), engine=engine)

    @classmethod
    def build(cls, *, engine: str | None = None, **values: Any) -> ReadOptions:
        """Keyword values (strings or typed) -> ReadOptions, each value parsed and checked; with `engine`,
        another engine's options are refused."""
        return _build(cls, "read", values, engine=engine)


@dataclass(frozen=True)
class WriteOptions:
    """Where and how a job writes (the table in options/table.py documents each). `token` never shows."""

    repo: str
    config: str = "default"
    split: str = "train"
    revision: str = "main"
    token: str | None = field(default=None, repr=False)
    endpoint: str | None = None
    data_dir: str | None = None  # default: "data" for config "default", else the config name
    retry_budget: float = 60.0
    mode: str = "append"
    max_file_size: int = 512_000_000
    row_group_size: int | None = None  # rows, as everyone counts them
    row_group_bytes: int = 128 * 1024 * 1024
    compression: str = "zstd"
    compression_level: int | None = None
    cdc: bool = True
    content_defined_row_groups: bool = True
    dictionary: bool | None = None
    page_index: bool = True
    private: bool = False
    create_pr: bool = False
    max_commit_operations: int = 100  # more: staged on a pull request in commits of this size, merged once
    commit_message: str | None = None
    commit_description: str | None = None
    features: str | None = None  # parsed by the sinks (`hfconnect.features`), which take it out first
    format: str = "parquet"  # or "webdataset": .tar shards, one sample per row (`write.tar_writer`)
    split_column: str | None = None  # route each row to the split this column names (then `split` is unused)

    def __post_init__(self) -> None:
        repo = self.repo
        if isinstance(repo, str) and repo.startswith("datasets/"):
            object.__setattr__(self, "repo", repo[len("datasets/"):])
        elif isinstance(repo, str) and (repo.startswith("models/") or repo.startswith("spaces/")):
            raise OptionError(f"{repo!r} is not a dataset repo: hfconnect writes datasets; name a dataset repo")
        if not self.repo or self.repo.count("/") != 1 or not all(self.repo.split("/")):
            raise OptionError(f"repo {self.repo!r}: expected 'namespace/name' of a dataset repo")
        object.__setattr__(self, "mode", str(self.mode).lower())
        if self.mode not in MODES:
            raise OptionError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.compression not in COMPRESSIONS:
            raise OptionError(f"compression={self.compression!r}: use {', '.join(COMPRESSIONS[:-1])} or none")
        if not SPLIT_NAME.match(self.split) or self.split == "all":
            raise OptionError(f"split {self.split!r}: use a name such as train, validation or test")
        object.__setattr__(self, "format", str(self.format).lower())
        if self.format not in WRITE_FORMATS:
            raise OptionError(f"format={self.format!r}: write {' or '.join(WRITE_FORMATS)}")
        if self.split_column is not None and not self.split_column.strip():
            raise OptionError("split_column='': name the column that holds each row's split, e.g. split")
        object.__setattr__(self, "endpoint", (self.endpoint or default_endpoint()).rstrip("/"))
        object.__setattr__(self, "token", _resolve_token(self.token))
        if self.data_dir is None:
            object.__setattr__(self, "data_dir", "data" if self.config == "default" else self.config)
        object.__setattr__(self, "data_dir", str(self.data_dir).strip("/"))

    @classmethod
    def from_strings(cls, options: Mapping[str, str], repo: str | None = None, mode: str | None = None, *,
                     engine: str | None = "spark") -> WriteOptions:
        """Spark's string options (keys case-insensitive) -> WriteOptions. Unknown keys are rejected."""
        return _build(cls, "write", _with_fixed(options, repo=repo, mode=mode), engine=engine)

    @classmethod
    def build(cls, *, engine: str | None = None, **values: Any) -> WriteOptions:
        """Keyword values (strings or typed) -> WriteOptions, each value parsed and checked."""
        return _build(cls, "write", values, engine=engine)

    @property
    def client(self) -> HubClient:
        """Hub I/O for this write: endpoint, token and retry budget."""
        return _hub_client(self.endpoint or "", self.token, self.retry_budget)

