"""THE table of options: every read and write option once, with its aliases, parser, default, engines and doc.

`ReadOptions`/`WriteOptions` parse through it (strict keys, engine checks), and the Spark docstrings, the Daft
functions' keywords and the README's option tables are checked against it by tests (the README's tables are
printed by `scripts/options_table.py` from here), so a new option is one line here plus its dataclass field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError
from .parsers import parse_bool, parse_filters, parse_int, parse_list, parse_seconds, parse_size

__all__ = ["ALIASES", "ENGINES", "OPTIONS", "STREAM_READ_OPTIONS", "Alias", "Option", "aliases_markdown", "markdown",
           "options_for"]

ENGINES = ("spark", "daft")
BOTH = frozenset(ENGINES)


def _string(key: str, value: Any) -> str:
    return str(value)


def _rows(key: str, value: Any) -> int:
    """A row count; a byte size (`64KiB`, `128MB`) is refused, since it used to mean bytes here."""
    if isinstance(value, str) and not value.strip().lstrip("+").replace("_", "").isdigit():
        raise OptionError(f"option {key}={value!r}: {key} counts rows (as in pyspark_huggingface, Daft and "
                          f"pyarrow); for a size in bytes use row_group_bytes={value}")
    return parse_int(key, value)


def _level(key: str, value: Any) -> int:
    return parse_int(key, value, minimum=-131072)  # zstd's fast levels are negative


PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "str": _string, "size": parse_size, "int": parse_int, "rows": _rows, "level": _level, "bool": parse_bool,
    "list": parse_list,
    "filters": parse_filters, "seconds": parse_seconds,
}


@dataclass(frozen=True)
class Option:
    name: str
    kind: str  # a PARSERS key
    default: Any
    doc: str
    read: bool = False
    write: bool = False
    engines: frozenset[str] = BOTH
    aliases: tuple[str, ...] = ()

    def parse(self, value: Any, key: str | None = None) -> Any:
        """The value parsed; an error names `key`, the name the caller used (ours, an alias or another library's)."""
        return PARSERS[self.kind](key or self.name, value)

    @property
    def engine_names(self) -> str:
        return " and ".join(e.capitalize() for e in ENGINES if e in self.engines)


OPTIONS: tuple[Option, ...] = (
    # -- both directions
    Option("repo", "str", None, "the dataset, `namespace/name` (Spark: the path of load()/save())", True, True,
           aliases=("path",)),
    Option("config", "str", None, "the config to read (default: the card's default config)", read=True),
    Option("config", "str", "default", "the config to write", write=True),
    Option("split", "str", "train", "the split to read; `all` reads every split and adds a `split` column",
           read=True),
    Option("split", "str", "train", "the split to write", write=True),
    Option("split_column", "str", None, "write several splits in ONE commit: each row goes to the split this "
           "column names (the column is not written; `split` is then unused)", write=True),
    Option("revision", "str", "main", "a branch, tag, sha, refs/pr/N or refs/convert/parquet, pinned to its "
           "commit", read=True),
    Option("revision", "str", "main", "the branch to commit to", write=True),
    Option("token", "str", None, "a Hub token; default HF_TOKEN, then the saved login (`hf auth login`)", True,
           True),
    Option("endpoint", "str", None, "the Hub's URL; default HF_ENDPOINT, else https://huggingface.co", True, True),
    Option("data_dir", "str", None, "the folder whose files make the splits", read=True),
    Option("data_dir", "str", None, "the folder files go to (default `data`, or the config's name)", write=True),
    Option("retry_budget", "seconds", 60.0, "seconds of backoff one failing Hub request may spend (the Hub's "
           "rate-limit waits come on top)", True, True),
    # -- reading
    Option("data_files", "list", None, "globs of the files to read, `split=glob` to name the split", read=True),
    Option("columns", "list", None, "only these columns (JSON list or comma-separated)", read=True),
    Option("filters", "filters", None, "pyarrow DNF filters as JSON, e.g. [[\"id\", \">\", 5]]: prune row groups "
           "and rows", read=True),
    Option("shard_size", "size", 128_000_000, "bytes per task: files are cut at row groups (reader=hfconnect)",
           read=True),
    Option("min_shards", "int", None, "at least this many tasks (default: one per core, fewer when each would "
           "read under 16 MB; reader=hfconnect)",
           read=True),
    Option("batch_size", "int", None, "rows per Arrow batch handed to the engine (default 65,536; Daft's native "
           "reader: whole row groups)", read=True),
    Option("max_concurrency", "int", 16, "parallel range requests while planning (footers)", read=True),
    Option("prefetch", "bool", True, "fetch the next row groups while the current one decodes (read_ahead_bytes "
           "bounds them); false: one range at a time", read=True),
    Option("read_ahead_bytes", "size", 128_000_000, "with prefetch: bytes per task fetched ahead of the decoder "
           "(the next row groups' column chunks, across files, as parallel range requests); at least the row group "
           "being read (reader=hfconnect)", read=True),
    Option("pushdown_filters", "bool", False, "take Spark's .where() filters (needs spark.sql.python."
           "filterPushdown.enabled; build a fresh DataFrame per query)", read=True, engines=frozenset({"spark"})),
    Option("drop_labels", "bool", None, "image/audio folders: a `label` column from the folder names or not "
           "(default: `datasets`' rule: without metadata, files one level under several folder names)", read=True),
    Option("drop_metadata", "bool", None, "image/audio folders: leave out the `metadata.csv`/`.jsonl`/`.parquet` "
           "columns (then every media file is a row)", read=True),
    Option("daft_reader", "str", "native", "`native`: Daft's Parquet reader on the signed file URLs; `hfconnect`: "
           "hfconnect's reader, one task per shard", read=True, engines=frozenset({"daft"}), aliases=("reader",)),
    # -- writing
    Option("mode", "str", "append", "append, overwrite (exactly the split's files), error/errorifexists, ignore",
           write=True),
    Option("max_file_size", "size", 512_000_000, "roll to a new file past this many bytes", write=True),
    Option("row_group_size", "rows", None, "rows per row group at most, as in pyspark_huggingface, Daft and pyarrow "
           "(then row groups are cut by size and rows only)", write=True),
    Option("row_group_bytes", "size", 128 * 1024 * 1024, "uncompressed bytes per row group (with cdc: at least, "
           "ending where the content says)", write=True),
    Option("compression", "str", "zstd", "zstd, snappy, gzip, brotli, lz4 or none", write=True),
    Option("compression_level", "level", None, "the codec's level (default: the codec's own)", write=True),
    Option("cdc", "bool", True, "content-defined chunking of pages: re-writes dedupe on the Hub's Xet storage",
           write=True),
    Option("content_defined_row_groups", "bool", True, "with cdc, row groups end where the content says (so an "
           "insertion shifts no later row group)", write=True),
    Option("dictionary", "bool", None, "dictionary encoding: default low-cardinality flat columns only with cdc, "
           "every column without", write=True),
    Option("page_index", "bool", True, "write the page index (column and offset indexes)", write=True),
    Option("private", "bool", False, "create the repo private if it does not exist", write=True),
    Option("create_pr", "bool", False, "commit to a new pull request (refs/pr/N) instead of the branch",
           write=True),
    Option("max_commit_operations", "int", 100, "files (and deletions) per Hub commit, as the Hub asks; a bigger "
           "job is staged on a pull request in commits of this size (larger past 40 commits: the Hub's commit rate "
           "limit) and merged in one step", write=True),
    Option("commit_message", "str", None, "the commit's title", write=True),
    Option("commit_description", "str", None, "the commit's description (hfconnect adds its job id below it)",
           write=True),
    Option("features", "str", None, "image/audio/video columns, as JSON (`{\"img\": \"Image\", \"clip\": "
           "\"Audio\"}`) or `img=Image,clip=Audio`: binary or `struct<bytes, path>` columns written with the Hub's "
           "feature, so `datasets` and the viewer decode them (a read's features are kept without it)", write=True),
    Option("format", "str", "parquet", "the files written: `parquet`, or `webdataset` (`.tar` shards: a sample per "
           "row, a member `<key>.<column>` per column, `__key__` the sample's key)", write=True),
)


@dataclass(frozen=True)
class Alias:
    """Another library's name for one of our options, or for one hfconnect accepts and has no use for."""

    name: str
    option: str | None  # ours; None: accepted (and checked) but unused, `note` says why
    origin: str
    note: str = ""
    read: bool = False
    write: bool = False
    kind: str = "str"  # parser of an unused option's value


ALIASES: tuple[Alias, ...] = (
    Alias("max_bytes_per_file", "max_file_size", "pyspark_huggingface", write=True),
    Alias("target_filesize", "max_file_size", "Daft (HuggingFaceConfig)", write=True),
    Alias("use_content_defined_chunking", "cdc", "pyspark_huggingface, Daft", "true/false only: hfconnect picks "
          "the chunk sizes (a dict of CDC parameters is refused)", write=True),
    Alias("write_page_index", "page_index", "pyspark_huggingface", write=True),
    Alias("max_operations_per_commit", None, "pyspark_huggingface, Daft", "unused: hfconnect makes ONE commit per "
          "job whatever its size", write=True, kind="int"),
    Alias("streaming", None, "pyspark_huggingface", "unused: hfconnect always streams (nothing is downloaded "
          "first)", read=True, kind="bool"),
)


def aliases_markdown() -> str:
    """The README's migration table of other libraries' option names (a test compares)."""
    rows = ["| their option | from | hfconnect's | note |", "|---|---|---|---|"]
    for a in ALIASES:
        ours = f"`{a.option}`" if a.option else "(accepted, unused)"
        rows.append(f"| `{a.name}` | {a.origin} | {ours} | {a.note or '-'} |")
    return "\n".join(rows)


def markdown(direction: str) -> str:
    """The README's table of `direction`'s options (scripts/options_table.py prints it; a test compares)."""
    rows = ["| option | default | engines | what it does |", "|---|---|---|---|"]
    for o in OPTIONS:
        if getattr(o, direction):
            names = " / ".join(f"`{n}`" for n in (o.name, *o.aliases))
            default = "-" if o.default is None else f"`{o.default}`"
            rows.append(f"| {names} | {default} | {o.engine_names} | {o.doc} |")
    return "\n".join(rows)


# A Spark readStream's own options (Spark's name -> hfconnect's), parsed apart by hfconnect.stream.options: a batch
# read refuses them; named here so that an unknown read option's error lists them too.
STREAM_READ_OPTIONS = {"starting": "starting", "maxFilesPerTrigger": "max_files_per_trigger",
                       "maxBytesPerTrigger": "max_bytes_per_trigger", "onDeletedFiles": "on_deleted_files"}


def options_for(direction: str, engine: str | None = None) -> dict[str, Option]:
    """name -> Option for `read` or `write`, keeping those of `engine` only when given."""
    return {o.name: o for o in OPTIONS if getattr(o, direction) and (engine is None or engine in o.engines)}
