"""Typed, validated options, parsed once: by keyword from Daft/Python, by `from_strings` from Spark.

Why strict: a misspelt Spark option would otherwise be silently ignored and read the wrong data.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from .errors import OptionError

if TYPE_CHECKING:
    from .hub.client import HubClient

__all__ = ["DEFAULT_ENDPOINT", "MODES", "SPLIT_NAME", "ReadOptions", "WriteOptions", "parse_bool", "parse_list",
           "parse_size"]

DEFAULT_ENDPOINT = "https://huggingface.co"
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1}
for _i, _p in enumerate("KMGT", 1):
    _UNITS.update({_p: 1000**_i, f"{_p}B": 1000**_i, f"{_p}I": 1024**_i, f"{_p}IB": 1024**_i})


def parse_size(key: str, value: Any) -> int:
    """`128MB`, `1GiB`, `500000` -> bytes; an OptionError naming the key otherwise."""
    if isinstance(value, bool):
        raise OptionError(f"option {key}={value!r}: expected a size such as 128MB")
    if isinstance(value, int):
        if value <= 0:
            raise OptionError(f"option {key}={value!r}: must be positive")
        return value
    m = _SIZE_RE.match(str(value))
    if not m:
        raise OptionError(f"option {key}={value!r}: expected a size such as 134217728, 128MB or 1GiB")
    size = int(float(m.group(1)) * _UNITS[(m.group(2) or "").upper()])
    if size <= 0:
        raise OptionError(f"option {key}={value!r}: must be positive")
    return size


def parse_int(key: str, value: Any, *, minimum: int = 1) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, int) or isinstance(value, bool) else value
    except ValueError:
        raise OptionError(f"option {key}={value!r}: expected a whole number") from None
    if isinstance(value, bool) or number < minimum:
        raise OptionError(f"option {key}={value!r}: expected a whole number >= {minimum}")
    return number


def parse_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise OptionError(f"option {key}={value!r}: expected true or false")


def parse_list(key: str, value: Any) -> tuple[str, ...]:
    """A JSON list of strings, or a comma-separated string."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError:
                raise OptionError(f"option {key}={value!r}: not a valid JSON list of strings") from None
        else:
            items = [part.strip() for part in text.split(",")]
    if not items or not all(isinstance(i, str) and i for i in items):
        raise OptionError(f"option {key}={value!r}: expected a non-empty list of names")
    return tuple(items)


def parse_filters(key: str, value: Any) -> Any:
    """pyarrow DNF filters as JSON (`[["id", ">", 5]]` or `[[["a", "=", 1]], [["b", "<", 2]]]`) or an
    Expression -> `pyarrow.compute.Expression`. No literal_eval: the string is data, never code."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if value is None or isinstance(value, pc.Expression):
        return value
    raw = value
    if isinstance(value, str):
        try:
            raw = json.loads(value)
        except ValueError:
            raise OptionError(
                f"option {key}={value!r}: expected JSON DNF filters such as [[\"id\", \">\", 5]]") from None
    try:
        dnf = [tuple(t) if isinstance(t, list) and t and isinstance(t[0], str) else
               [tuple(x) for x in t] for t in raw]
        return pq.filters_to_expression(dnf)
    except (TypeError, ValueError, IndexError) as exc:
        raise OptionError(f"option {key}={value!r}: not valid DNF filters ({exc})") from None


def strict_keys(cls: type, options: Mapping[str, str], **fixed: str | None) -> dict[str, Any]:
    """Case-insensitive option keys -> the dataclass's field names; an unknown key lists the valid ones."""
    known = {f.name.lower(): f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for raw_key, raw_value in options.items():
        key = {"path": "repo"}.get(raw_key.lower(), raw_key.lower())
        if key not in known:
            valid = ", ".join(sorted(n for n in known if n != "repo_type"))
            raise OptionError(f"unknown option {raw_key!r}; valid options: {valid}")
        values[known[key]] = raw_value
    values.update({k: v for k, v in fixed.items() if v})
    return values


def _construct(cls: type, values: dict[str, Any], *, sizes: tuple[str, ...] = (), ints: tuple[str, ...] = (),
               bools: tuple[str, ...] = (), lists: tuple[str, ...] = (), filters: tuple[str, ...] = (),
               seconds: tuple[str, ...] = ()) -> Any:
    """Parse each value by its field's kind (size, int, bool, list, filters, else string), then build."""
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if key in sizes:
            parsed[key] = parse_size(key, value)
        elif key in ints:
            parsed[key] = parse_int(key, value)
        elif key in bools:
            parsed[key] = parse_bool(key, value)
        elif key in lists:
            parsed[key] = parse_list(key, value)
        elif key in filters:
            parsed[key] = parse_filters(key, value)
        elif key in seconds:
            parsed[key] = parse_seconds(key, value)
        else:
            parsed[key] = str(value)
    parsed.setdefault("repo", "")  # no repo at all (Spark's load() without a path): the class says what to pass
    try:
        return cls(**parsed)
    except TypeError as exc:
        raise OptionError(str(exc)) from None


def default_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def parse_seconds(key: str, value: Any) -> float:
    try:
        seconds = float(str(value).strip().removesuffix("s")) if not isinstance(value, (int, float)) else value
    except ValueError:
        raise OptionError(f"option {key}={value!r}: expected a number of seconds such as 60") from None
    if isinstance(value, bool) or seconds <= 0:
        raise OptionError(f"option {key}={value!r}: expected a positive number of seconds")
    return float(seconds)


def _hub_client(endpoint: str, token: str | None, retry_budget: float) -> HubClient:
    from .hub.client import HubClient
    from .hub.retry import RetryPolicy

    return HubClient(endpoint, token, RetryPolicy(budget=retry_budget))


def _resolve_token(token: str | None) -> str | None:
    from .hub.client import resolve_token

    return resolve_token(token)


DAFT_READERS = ("native", "hfconnect")


@dataclass(frozen=True)
class ReadOptions:
    """What to read and how. `token` never shows in repr, explain() or errors."""

    repo: str
    config: str | None = None
    split: str = "train"
    revision: str = "main"
    token: str | None = field(default=None, repr=False)
    endpoint: str = field(default_factory=default_endpoint)
    data_files: tuple[str, ...] | None = None
    data_dir: str | None = None
    columns: tuple[str, ...] | None = None
    filters: Any = None  # pyarrow.compute.Expression
    shard_size: int = 128 * 1000 * 1000
    min_shards: int = 8  # small datasets still spread over this many tasks
    batch_size: int = 65_536
    max_concurrency: int = 16
    prefetch: bool = True
    pushdown_filters: bool = False  # Spark only: see hfconnect.spark.source for why it is opt-in
    daft_reader: str = "native"  # Daft only: Parquet through Daft's native reader, or "hfconnect" (ours)
    retry_budget: float = 60.0  # seconds of backoff a failing Hub request may spend (rate-limit waits extra)
    repo_type: str = "dataset"

    def __post_init__(self) -> None:
        if not self.repo or not isinstance(self.repo, str):
            raise OptionError("no dataset given: pass the repo id, e.g. load('org/name') or repo='org/name'")
        if self.daft_reader not in DAFT_READERS:
            raise OptionError(f"daft_reader={self.daft_reader!r}: expected one of {', '.join(DAFT_READERS)}")
        if self.repo_type != "dataset":
            raise OptionError(f"repo_type={self.repo_type!r}: only dataset repos hold datasets")
        object.__setattr__(self, "endpoint", self.endpoint.rstrip("/"))
        object.__setattr__(self, "token", _resolve_token(self.token))

    @property
    def client(self) -> HubClient:
        """Hub I/O for this read: endpoint, token and retry budget."""
        return _hub_client(self.endpoint, self.token, self.retry_budget)

    @classmethod
    def from_strings(cls, options: Mapping[str, str], repo: str | None = None) -> ReadOptions:
        """Spark's string options (keys case-insensitive) -> ReadOptions. Unknown keys are rejected."""
        return cls.build(**strict_keys(cls, options, repo=repo))

    @classmethod
    def build(cls, **values: Any) -> ReadOptions:
        """Keyword values (strings or typed) -> ReadOptions, each value parsed and checked."""
        return _construct(cls, values, sizes=("shard_size",), ints=("batch_size", "max_concurrency", "min_shards"),
                          bools=("prefetch", "pushdown_filters"), lists=("data_files", "columns"),
                          filters=("filters",), seconds=("retry_budget",))

    def with_(self, **changes: Any) -> ReadOptions:
        return replace(self, **changes)


MODES = ("append", "overwrite", "error", "errorifexists", "ignore")
# What a written split may be called (also each value of a `split_column`): word characters with -/. between
# them, as in file names `{split}-00000-of-00001.parquet`; "all" is what readers ask for to get every split.
SPLIT_NAME = re.compile(r"^\w+(?:[-.]\w+)*$")


@dataclass(frozen=True)
class WriteOptions:
    """Where and how a job writes. Spark's save modes keep their meaning; `token` never shows."""

    repo: str
    split: str = "train"
    config: str = "default"
    data_dir: str | None = None  # default: "data" for config "default", else the config name
    mode: str = "append"
    revision: str = "main"  # the branch to commit to
    token: str | None = field(default=None, repr=False)
    endpoint: str = field(default_factory=default_endpoint)
    max_file_size: int = 512 * 1000 * 1000
    row_group_size: int = 128 * 1024 * 1024
    compression: str = "zstd"
    cdc: bool = True
    page_index: bool = True
    private: bool = False
    create_pr: bool = False
    commit_message: str | None = None
    retry_budget: float = 60.0  # seconds of backoff a failing Hub request may spend (rate-limit waits extra)
    split_column: str | None = None  # route each row to the split this column names (then `split` is unused)
    repo_type: str = "dataset"

    def __post_init__(self) -> None:
        repo = self.repo
        if isinstance(repo, str) and repo.startswith("datasets/"):
            object.__setattr__(self, "repo", repo[len("datasets/"):])
        elif isinstance(repo, str) and (repo.startswith("models/") or repo.startswith("spaces/")):
            raise OptionError(f"{repo!r} is not a dataset repo: hfconnect writes datasets; name a dataset repo")
        if not self.repo or self.repo.count("/") != 1 or not all(self.repo.split("/")):
            raise OptionError(f"repo {self.repo!r}: expected 'namespace/name' of a dataset repo")
        if self.repo_type != "dataset":
            raise OptionError(f"repo_type={self.repo_type!r}: hfconnect writes dataset repos only")
        if self.mode not in MODES:
            raise OptionError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.compression not in ("zstd", "snappy", "gzip", "brotli", "lz4", "none"):
            raise OptionError(f"compression={self.compression!r}: use zstd, snappy, gzip, brotli, lz4 or none")
        if not SPLIT_NAME.match(self.split) or self.split == "all":
            raise OptionError(f"split {self.split!r}: use a name such as train, validation or test")
        if self.split_column is not None and not self.split_column.strip():
            raise OptionError("split_column='': name the column that holds each row's split, e.g. split")
        object.__setattr__(self, "endpoint", self.endpoint.rstrip("/"))
        object.__setattr__(self, "token", _resolve_token(self.token))
        if self.data_dir is None:
            object.__setattr__(self, "data_dir", "data" if self.config == "default" else self.config)
        object.__setattr__(self, "data_dir", str(self.data_dir).strip("/"))

    @classmethod
    def from_strings(cls, options: Mapping[str, str], repo: str | None = None, mode: str | None = None
                     ) -> WriteOptions:
        """Spark's string options (keys case-insensitive) -> WriteOptions. Unknown keys are rejected."""
        return cls.build(**strict_keys(cls, options, repo=repo, mode=mode))

    @classmethod
    def build(cls, **values: Any) -> WriteOptions:
        """Keyword values (strings or typed) -> WriteOptions, each value parsed and checked."""
        values = {k: (str(v).lower() if k == "mode" and v is not None else v) for k, v in values.items()}
        return _construct(cls, values, sizes=("max_file_size", "row_group_size"),
                          bools=("cdc", "page_index", "private", "create_pr"), seconds=("retry_budget",))

    @property
    def client(self) -> HubClient:
        """Hub I/O for this write: endpoint, token and retry budget."""
        return _hub_client(self.endpoint, self.token, self.retry_budget)
