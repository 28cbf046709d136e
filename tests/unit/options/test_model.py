"""Options parsed once and strictly: every parser, the strict key check, and each validation error naming
the option and the value that is wrong."""

from __future__ import annotations

import pickle
import re
from dataclasses import replace

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hfconnect.errors import OptionError
from hfconnect.options import (
    MODES,
    ReadOptions,
    WriteOptions,
    parse_bool,
    parse_filters,
    parse_int,
    parse_list,
    parse_size,
)


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Options fall back to the environment for a token: these tests pass theirs explicitly."""
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.mark.parametrize(("text", "size"), [
    ("500000", 500_000), (500_000, 500_000), ("1", 1), ("128MB", 128_000_000), ("128mb", 128_000_000),
    ("128M", 128_000_000), (" 10 MB ", 10_000_000), ("1.5MB", 1_500_000), ("64KB", 64_000), ("64K", 64_000),
    ("64KiB", 65_536), ("64kib", 65_536), ("64Ki", 65_536), ("1.5KiB", 1_536), ("1GiB", 2**30), ("1GB", 10**9),
    ("2T", 2 * 10**12), ("1TiB", 2**40), ("7B", 7), ("7b", 7),
])
def test_sizes(text: object, size: int) -> None:
    assert parse_size("shard_size", text) == size


@pytest.mark.parametrize(("value", "why"), [
    ("lots", "expected a size such as 134217728, 128MB or 1GiB"), ("", "expected a size"),
    ("-5", "expected a size"), ("1e3", "expected a size"), ("12XB", "expected a size"), ("1.5.5MB", "expected a size"),
    ("0", "must be positive"), ("0.1B", "must be positive"), (0, "must be positive"), (-1, "must be positive"),
    (True, "expected a size such as 128MB"),
])
def test_bad_sizes_name_key_and_value(value: object, why: str) -> None:
    with pytest.raises(OptionError, match=rf"^option shard_size={re.escape(repr(value))}: {why}"):
        parse_size("shard_size", value)


@pytest.mark.parametrize(("value", "number"), [("8", 8), (" 8 ", 8), (8, 8), ("1_000", 1000)])
def test_ints(value: object, number: int) -> None:
    assert parse_int("batch_size", value) == number


@pytest.mark.parametrize(("value", "why"), [
    ("eight", "expected a whole number$"), (1.5, "expected a whole number$"), ("2.0", "expected a whole number$"),
    (True, "expected a whole number$"), ("0", "expected a whole number >= 1"), (-3, "expected a whole number >= 1"),
])
def test_bad_ints_name_key_and_value(value: object, why: str) -> None:
    with pytest.raises(OptionError, match=rf"^option batch_size={re.escape(repr(value))}: {why}"):
        parse_int("batch_size", value)
    assert parse_int("x", 0, minimum=0) == 0


@pytest.mark.parametrize(("value", "flag"), [
    ("true", True), ("TRUE", True), (" yes ", True), ("1", True), (True, True), (1, True),
    ("false", False), ("False", False), ("no", False), ("0", False), (False, False), (0, False),
])
def test_bools(value: object, flag: bool) -> None:
    assert parse_bool("cdc", value) is flag


@pytest.mark.parametrize("value", ["maybe", "", "2", "on", None])
def test_bad_bools_name_key_and_value(value: object) -> None:
    with pytest.raises(OptionError, match=rf"^option cdc={re.escape(repr(value))}: expected true or false$"):
        parse_bool("cdc", value)


@pytest.mark.parametrize(("value", "names"), [
    ('["a", "b"]', ("a", "b")), ('  ["a b", "c,d"]', ("a b", "c,d")), ("a,b", ("a", "b")), (" a , b ", ("a", "b")),
    ("a", ("a",)), (["a", "b"], ("a", "b")), (("a",), ("a",)),
])
def test_lists_json_or_comma_separated(value: object, names: tuple[str, ...]) -> None:
    assert parse_list("columns", value) == names


@pytest.mark.parametrize(("value", "why"), [
    ('["a", ', "not a valid JSON list of strings"), ("[1, 2]", "expected a non-empty list of names"),
    ("[]", "expected a non-empty list of names"), ("", "expected a non-empty list of names"),
    ("a,,b", "expected a non-empty list of names"), (["a", 3], "expected a non-empty list of names"),
    ('["a", ""]', "expected a non-empty list of names"),
])
def test_bad_lists_name_key_and_value(value: object, why: str) -> None:
    with pytest.raises(OptionError, match=rf"^option columns={re.escape(repr(value))}: {why}$"):
        parse_list("columns", value)


@pytest.mark.parametrize(("text", "dnf"), [
    ('[["id", ">", 5]]', [("id", ">", 5)]),
    ('[["label", "=", 3], ["flag", "=", false]]', [("label", "=", 3), ("flag", "=", False)]),
    ('[[["a", "=", 1]], [["b", "<", 2], ["c", "!=", "x"]]]', [[("a", "=", 1)], [("b", "<", 2), ("c", "!=", "x")]]),
    ('[["id", "in", [1, 2]]]', [("id", "in", [1, 2])]),
    ('[["id", "not in", [1]]]', [("id", "not in", [1])]),
    ('[["s", "==", null]]', [("s", "==", None)]),
])
def test_filters_are_pyarrow_dnf_as_json(text: str, dnf: list) -> None:
    """JSON DNF means what pyarrow's own DNF means: a list of ANDed tuples, or a list of such lists ORed."""
    assert parse_filters("filters", text).equals(pq.filters_to_expression(dnf))


def test_filters_pass_expressions_and_none_through() -> None:
    expr = pc.field("id") > 5
    assert parse_filters("filters", expr) is expr and parse_filters("filters", None) is None
    assert parse_filters("filters", [["id", ">", 5]]).equals(expr)
    assert ReadOptions.build(repo="a/b", filters='[["id", ">", 5]]').filters.equals(expr)


@pytest.mark.parametrize(("text", "why"), [
    ('[["id", ">", 5]', 'expected DNF filters as JSON or a Python literal, such as [["id", ">", 5]]'),
    ("id > 5", "expected DNF filters as JSON or a Python literal"),
    ("__import__('os')", "expected DNF filters as JSON or a Python literal"),  # literal_eval never runs code
    ("[]", "not valid DNF filters (Malformed filters)"), ("[[]]", "not valid DNF filters (Malformed filters)"),
    ('[["id", ">"]]', "not valid DNF filters (not enough values to unpack (expected 3, got 2))"),
    ('[["id", "~", 5]]', 'not valid DNF filters ("id" is not a valid operator in predicates.)'),
    ('{"id": 5}', "not valid DNF filters"), ("5", "not valid DNF filters"), ("null", "not valid DNF filters"),
    ('[["id", "=", 5], [["b", "<", 2]]]', "not valid DNF filters"),  # a conjunction and a disjunction mixed
])
def test_bad_filters_name_key_and_value(text: str, why: str) -> None:
    with pytest.raises(OptionError, match=f"^{re.escape(f'option filters={text!r}: {why}')}"):
        parse_filters("filters", text)


def test_from_strings_keys_are_case_insensitive_and_path_is_the_repo() -> None:
    opts = ReadOptions.from_strings({"Split": "test", "SHARD_SIZE": "1MB", "Prefetch": "false", "PATH": "o/n"})
    assert (opts.repo, opts.split, opts.shard_size, opts.prefetch) == ("o/n", "test", 1_000_000, False)
    assert ReadOptions.from_strings({"path": "x/y"}, repo="o/n").repo == "o/n"  # load(repo) wins
    assert ReadOptions.from_strings({"path": "x/y"}, repo="").repo == "x/y"  # an empty load() does not
    w = WriteOptions.from_strings({"MAX_FILE_SIZE": "1GiB", "CDC": "no", "mode": "ignore"}, repo="o/n",
                                  mode="overwrite")
    assert (w.max_file_size, w.cdc, w.mode) == (2**30, False, "overwrite")  # Spark's save mode wins


READ_KEYS = ("batch_size, columns, config, data_dir, data_files, drop_labels, drop_metadata, endpoint, filters, "
             "max_concurrency, min_shards, prefetch, pushdown_filters, read_ahead_bytes, repo, retry_budget, "
             "revision, shard_size, split, token")
WRITE_KEYS = ("cdc, commit_description, commit_message, compression, compression_level, config, "
              "content_defined_row_groups, create_pr, data_dir, dictionary, endpoint, features, format, "
              "max_commit_operations, max_file_size, mode, page_index, private, repo, retry_budget, revision, "
              "row_group_bytes, row_group_size, split, split_column, token")


STREAMS = "; a readStream also takes starting, maxFilesPerTrigger, maxBytesPerTrigger, onDeletedFiles"


def test_an_unknown_key_is_an_error_listing_the_engines_valid_ones_and_the_closest() -> None:
    with pytest.raises(OptionError, match=rf"^unknown option 'ShardSize'; valid options: {READ_KEYS}{STREAMS}; did "
                                          r"you mean 'shard_size'\?$"):
        ReadOptions.from_strings({"ShardSize": "1MB"}, repo="o/n")
    with pytest.raises(OptionError, match=rf"^unknown option 'rowgroupsize'; valid options: {WRITE_KEYS}; did you "
                                          r"mean 'row_group_size'\?$"):
        WriteOptions.from_strings({"rowgroupsize": "1MB"}, repo="o/n")
    with pytest.raises(OptionError, match=r"; did you mean 'maxFilesPerTrigger'\?$"):  # a stream's, misspelt
        ReadOptions.from_strings({"maxFilesPerTriger": "2"}, repo="o/n")
    with pytest.raises(OptionError, match=r"^unknown option 'colums'; .*daft_reader.*; did you mean 'columns'\?$"):
        ReadOptions.build(engine="daft", repo="o/n", colums=["a"])  # Daft has no readStream: not listed
    with pytest.raises(OptionError, match=rf"^unknown option 'xyz'; valid options: {WRITE_KEYS}$"):  # nothing close
        WriteOptions.from_strings({"xyz": "1"}, repo="o/n")
    with pytest.raises(OptionError, match="^unknown option 'repo_type'"):  # datasets only: no such option
        ReadOptions.from_strings({"repo_type": "model"}, repo="o/n")


def test_another_engines_or_directions_option_says_so() -> None:
    with pytest.raises(OptionError, match=r"^option 'daft_reader' is a Daft option \(`native`: .*\); Spark does "
                                          r"not use it$"):
        ReadOptions.from_strings({"daft_reader": "native"}, repo="o/n")
    with pytest.raises(OptionError, match=r"^option 'pushdown_filters' is a Spark option .*; Daft does not use it"):
        ReadOptions.build(engine="daft", repo="o/n", pushdown_filters=True)
    with pytest.raises(OptionError, match=r"^option 'cdc' is a write option, not a read option$"):
        ReadOptions.from_strings({"cdc": "true"}, repo="o/n")
    with pytest.raises(OptionError, match=r"^option 'shard_size' is a read option, not a write option$"):
        WriteOptions.from_strings({"shard_size": "1MB"}, repo="o/n")
    assert ReadOptions.build(repo="o/n", reader="hfconnect").daft_reader == "hfconnect"  # the Daft keyword


def test_build_names_an_unexpected_keyword() -> None:
    with pytest.raises(OptionError, match=r"^unknown option 'nonexistent'; valid options: batch_size, "):
        ReadOptions.build(repo="a/b", nonexistent=1)


def test_a_bad_value_through_from_strings_names_the_option() -> None:
    with pytest.raises(OptionError, match=r"^option shard_size='big': expected a size"):
        ReadOptions.from_strings({"shard_size": "big"}, repo="o/n")
    with pytest.raises(OptionError, match=r"^option min_shards='0': expected a whole number >= 1$"):
        ReadOptions.from_strings({"min_shards": "0"}, repo="o/n")
    with pytest.raises(OptionError, match=r"^option private='sure': expected true or false$"):
        WriteOptions.from_strings({"private": "sure"}, repo="o/n")


def test_read_defaults_and_typed_values() -> None:
    opts = ReadOptions.build(repo="o/n", endpoint="http://hub.local:8000/", columns="a,b", data_files="x/*.csv",
                             max_concurrency="4", pushdown_filters="true", daft_reader="hfconnect")
    assert opts.endpoint == "http://hub.local:8000"  # no trailing slash
    assert (opts.columns, opts.data_files, opts.max_concurrency) == (("a", "b"), ("x/*.csv",), 4)
    assert (opts.pushdown_filters, opts.daft_reader) == (True, "hfconnect")
    default = ReadOptions.build(repo="o/n")
    assert (default.split, default.revision, default.config, default.shard_size, default.min_shards,
            default.batch_size, default.batch_rows, default.prefetch, default.daft_reader) == (
        "train", "main", None, 128_000_000, None, None, 65_536, True, "native")
    assert ReadOptions.build(repo="o/n", batch_size="1000").batch_rows == 1_000
    assert replace(default, split="test").split == "test" and default.split == "train"
    assert pickle.loads(pickle.dumps(opts)) == opts


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"repo": ""}, r"^no dataset given: pass the repo id, e.g. load\('org/name'\) or repo='org/name'$"),
    ({"repo": None}, r"^no dataset given"),
    ({}, r"^no dataset given"),
    ({"repo": "o/n", "daft_reader": "arrow"}, r"^daft_reader='arrow': expected one of native, hfconnect$"),
])
def test_read_validation_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        ReadOptions.build(**kwargs)


def test_write_defaults() -> None:
    w = WriteOptions.build(repo="o/n")
    assert (w.split, w.config, w.data_dir, w.mode, w.revision, w.max_file_size, w.row_group_size, w.row_group_bytes,
            w.compression, w.cdc, w.page_index, w.private, w.create_pr, w.commit_message) == (
        "train", "default", "data", "append", "main", 512_000_000, None, 128 * 2**20, "zstd", True, True, False, False,
        None)
    assert WriteOptions.build(repo="o/n", config="fr").data_dir == "fr"  # a config writes under its own name
    assert WriteOptions.build(repo="o/n", data_dir="/x/y/").data_dir == "x/y"
    assert WriteOptions.build(repo="datasets/o/n").repo == "o/n"
    assert WriteOptions.build(repo="o/n", mode="Overwrite").mode == "overwrite"


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_is_accepted(mode: str) -> None:
    assert WriteOptions.build(repo="o/n", mode=mode.upper()).mode == mode


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"repo": "models/o/n"}, r"^'models/o/n' is not a dataset repo: hfconnect writes datasets; name a dataset repo$"),
    ({"repo": "spaces/o/n"}, r"^'spaces/o/n' is not a dataset repo"),
    ({"repo": "name"}, r"^repo 'name': expected 'namespace/name' of a dataset repo$"),
    ({"repo": "a/b/c"}, r"^repo 'a/b/c': expected 'namespace/name'"),
    ({"repo": "/n"}, r"^repo '/n': expected 'namespace/name'"),
    ({"repo": "o/"}, r"^repo 'o/': expected 'namespace/name'"),
    ({"repo": "o/n", "mode": "sometimes"},
     r"^mode 'sometimes' is not one of append, overwrite, error, errorifexists, ignore$"),
    ({"repo": "o/n", "compression": "zip"}, r"^compression='zip': use zstd, snappy, gzip, brotli, lz4 or none$"),
    ({"repo": "o/n", "max_file_size": "huge"}, r"^option max_file_size='huge': expected a size"),
    ({"repo": "o/n", "split_column": " "}, r"^split_column='': name the column that holds each row's split"),
])
def test_write_validation_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        WriteOptions.build(**kwargs)


@pytest.mark.parametrize("split", ["train", "validation", "test", "test-v2", "train.v1", "train_1", "split2"])
def test_write_split_names(split: str) -> None:
    assert WriteOptions.build(repo="o/n", split=split).split == split


@pytest.mark.parametrize("split", ["all", "a b", "../x", "", "a--b", "-a", "a/b", "a-"])
def test_bad_write_split_names(split: str) -> None:
    """Split names become file names ({split}-NNNNN-of-NNNNN.parquet) that datasets parses back; `all` is
    the read option for every split."""
    with pytest.raises(OptionError, match=rf"^split {split!r}: use a name such as train, validation or test$"):
        WriteOptions.build(repo="o/n", split=split)


def test_split_column_is_a_write_option_from_spark_and_by_keyword() -> None:
    assert WriteOptions.from_strings({"Split_Column": "split"}, repo="o/n").split_column == "split"
    assert WriteOptions.build(repo="o/n", split_column="part").split_column == "part"
    assert WriteOptions.build(repo="o/n").split_column is None


@pytest.mark.parametrize("cls", [ReadOptions, WriteOptions])
def test_the_token_never_shows(cls: type) -> None:
    opts = cls.build(repo="o/n", token="hf_secret_123")
    assert opts.token == "hf_secret_123"
    assert "hf_secret_123" not in repr(opts) and "hf_secret_123" not in str(opts)
    with pytest.raises(OptionError) as exc:
        cls.from_strings({"token": "hf_secret_123", "bogus": "1"}, repo="o/n")
    assert "hf_secret_123" not in str(exc.value)


def test_no_repo_at_all_says_what_to_pass() -> None:
    """Spark's load()/save() without a path: the options' own message, not a dataclass TypeError."""
    with pytest.raises(OptionError, match=r"^no dataset given: pass the repo id"):
        ReadOptions.from_strings({"split": "train"})
    with pytest.raises(OptionError, match=r"^repo '': expected 'namespace/name' of a dataset repo$"):
        WriteOptions.from_strings({"split": "train"})


def test_filters_in_pyspark_huggingfaces_python_form() -> None:
    """Their README's example: a list of tuples, as Python; sets for `in`; OR-ed groups."""
    assert parse_filters("filters", '[("language_score", ">", 0.99)]').equals(
        pq.filters_to_expression([("language_score", ">", 0.99)]))
    assert parse_filters("filters", "[[('a', 'in', {1, 2})], [('b', '<', 2)]]").equals(
        pq.filters_to_expression([[("a", "in", {1, 2})], [("b", "<", 2)]]))


def test_other_libraries_option_names() -> None:
    w = WriteOptions.from_strings({"max_bytes_per_file": "1000000", "use_content_defined_chunking": "false",
                                   "write_page_index": "false", "max_operations_per_commit": "100",
                                   "row_group_size": "100000"}, repo="o/n")
    assert (w.max_file_size, w.cdc, w.page_index, w.row_group_size) == (1_000_000, False, False, 100_000)
    assert WriteOptions.build(repo="o/n", target_filesize=5_000_000).max_file_size == 5_000_000
    assert ReadOptions.from_strings({"streaming": "true"}, repo="o/n").repo == "o/n"  # accepted, unused
    with pytest.raises(OptionError, match=r"^option max_operations_per_commit='many': expected a whole number"):
        WriteOptions.from_strings({"max_operations_per_commit": "many"}, repo="o/n")
    with pytest.raises(OptionError, match=r"^option use_content_defined_chunking=.*: expected true or false$"):
        WriteOptions.from_strings({"use_content_defined_chunking": "{'min_chunk_size': 1}"}, repo="o/n")
    with pytest.raises(OptionError, match=r"^option 'max_file_size' is given twice, as 'max_file_size' and "
                                          r"'max_bytes_per_file': give it once$"):
        WriteOptions.build(repo="o/n", max_file_size="1MB", max_bytes_per_file="2MB")


@pytest.mark.parametrize("value", ["64KiB", "128MB", "1e6"])
def test_row_group_size_counts_rows_and_a_byte_size_says_where_it_goes(value: str) -> None:
    with pytest.raises(OptionError, match=rf"^option row_group_size={value!r}: row_group_size counts rows \(as in "
                                          r"pyspark_huggingface, Daft and pyarrow\); for a size in bytes use "
                                          rf"row_group_bytes={value}$"):
        WriteOptions.from_strings({"row_group_size": value}, repo="o/n")
    assert WriteOptions.build(repo="o/n", row_group_size=5_000, row_group_bytes="64KiB").row_group_bytes == 65_536
