"""The options only streams have: parsed strictly, in Spark's camelCase or hfconnect's snake_case, and kept apart
from the batch options they travel with."""

from __future__ import annotations

import pytest

from hfconnect.errors import OptionError
from hfconnect.stream.options import (
    STREAM_READ_KEYS,
    STREAM_WRITE_KEYS,
    StreamReadOptions,
    split_stream_options,
)

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_defaults_read_everything_from_the_first_commit_without_limits() -> None:
    o = StreamReadOptions()
    assert (o.starting, o.max_files_per_trigger, o.max_bytes_per_trigger, o.on_deleted_files) == \
        ("earliest", None, None, "error")
    assert not o.limited


def test_spark_and_hfconnect_spellings_parse_to_the_same_options() -> None:
    spark = StreamReadOptions.from_strings({"maxFilesPerTrigger": "3", "maxBytesPerTrigger": "10MB",
                                            "onDeletedFiles": "Continue", "starting": "LATEST"})
    ours = StreamReadOptions.from_strings({"max_files_per_trigger": "3", "MAX_BYTES_PER_TRIGGER": "10000000",
                                           "on_deleted_files": "continue", "starting": "latest"})
    assert spark == ours == StreamReadOptions("latest", 3, 10_000_000, "continue")
    assert spark.limited


def test_a_sha_is_a_starting_point() -> None:
    assert StreamReadOptions.from_strings({"starting": SHA.upper()}).starting == SHA


@pytest.mark.parametrize(("options", "named"), [
    ({"starting": "yesterday"}, "starting='yesterday': expected earliest, latest or a 40-character commit sha"),
    ({"starting": "abc123"}, "starting='abc123'"),
    ({"maxFilesPerTrigger": "0"}, "maxFilesPerTrigger='0': expected a whole number >= 1"),
    ({"maxFilesPerTrigger": "two"}, "maxFilesPerTrigger='two': expected a whole number"),
    ({"maxBytesPerTrigger": "lots"}, "maxBytesPerTrigger='lots': expected a size"),
    ({"on_deleted_files": "ignore"}, "on_deleted_files='ignore': expected error or continue"),
])
def test_bad_values_name_the_option_and_what_it_takes(options: dict, named: str) -> None:
    with pytest.raises(OptionError) as info:
        StreamReadOptions.from_strings(options)
    assert named in str(info.value)


def test_stream_keys_are_split_from_the_rest_case_insensitively() -> None:
    options = {"path": "o/n", "split": "train", "maxFilesPerTrigger": "2", "STARTING": "latest", "token": "x"}
    ours, rest = split_stream_options(options, STREAM_READ_KEYS)
    assert ours == {"maxFilesPerTrigger": "2", "STARTING": "latest"}
    assert rest == {"path": "o/n", "split": "train", "token": "x"}
    ours, rest = split_stream_options({"checkpointLocation": "/tmp/ck", "path": "o/n"}, STREAM_WRITE_KEYS)
    assert ours == {"checkpointLocation": "/tmp/ck"} and rest == {"path": "o/n"}
