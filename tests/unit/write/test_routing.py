"""Rows routed by `split_column`: each split's rows apart, the column not written, bad values and columns refused
with a message that says what to do."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hfconnect.errors import OptionError
from hfconnect.options import WriteOptions
from hfconnect.write.routing import check_split_column, data_schema, split_batches

OPTIONS = WriteOptions.build(repo="o/n", split_column="split")


def _batch(splits: list[str | None], split_type: pa.DataType | None = None) -> pa.RecordBatch:
    values = pa.array(splits, pa.string())
    values = values.dictionary_encode() if split_type and pa.types.is_dictionary(split_type) else \
        values.cast(split_type or pa.string())
    return pa.record_batch({"id": pa.array(range(len(splits)), pa.int64()), "split": values,
                            "text": pa.array([f"t{i}" for i in range(len(splits))])})


@pytest.mark.parametrize("split_type", [pa.string(), pa.large_string(), pa.dictionary(pa.int32(), pa.string())])
def test_each_split_gets_its_rows_in_order_without_the_column(split_type: pa.DataType) -> None:
    batch = _batch(["train", "test", "train", "validation", "test", "train"], split_type)
    routed = dict(split_batches(batch, "split"))
    assert set(routed) == {"train", "validation", "test"}
    assert routed["train"].column("id").to_pylist() == [0, 2, 5]
    assert routed["test"].column("id").to_pylist() == [1, 4]
    assert routed["validation"].column("text").to_pylist() == ["t3"]
    assert all(b.schema.names == ["id", "text"] for b in routed.values())


def test_a_batch_of_one_split_is_passed_whole() -> None:
    batch = _batch(["test"] * 5)
    [(split, rows)] = list(split_batches(batch, "split"))
    assert split == "test" and rows.num_rows == 5 and rows.schema.names == ["id", "text"]


@pytest.mark.parametrize("value", ["train set", "all", "../x", "a/b", "-a", ""])
def test_a_value_that_is_no_split_name_is_refused(value: str) -> None:
    with pytest.raises(OptionError, match=rf"^split_column 'split' holds {value!r}, which is not a valid split name: "
                                          r"use letters, digits and _ .* map the column's values"):
        list(split_batches(_batch(["train", value]), "split"))


def test_a_null_split_is_refused() -> None:
    with pytest.raises(OptionError, match=r"^split_column 'split' is null in some rows: every row needs a split "
                                          r"name such as train, validation or test; fill or filter those rows$"):
        list(split_batches(_batch(["train", None]), "split"))


def test_the_column_must_exist_hold_strings_and_not_be_alone() -> None:
    schema = _batch(["train"]).schema
    check_split_column(schema, OPTIONS)
    check_split_column(schema.remove(1), WriteOptions.build(repo="o/n"))  # no split_column: nothing to check
    with pytest.raises(OptionError, match=r"^split_column 'split' is not a column of the data; its columns are: id, "
                                          r"text\. Add a column naming each row's split"):
        check_split_column(schema.remove(1), OPTIONS)
    with pytest.raises(OptionError, match=r"^split_column 'split' has type int64: it must hold split names as "
                                          r"strings; cast it to string first$"):
        check_split_column(pa.schema([("id", pa.int64()), ("split", pa.int64())]), OPTIONS)
    with pytest.raises(OptionError, match=r"^split_column 'split' is the only column: there is nothing to write$"):
        check_split_column(pa.schema([("split", pa.string())]), OPTIONS)


def test_the_files_schema_has_no_split_column() -> None:
    schema = _batch(["train"]).schema
    assert data_schema(schema, OPTIONS).names == ["id", "text"]
    assert data_schema(schema, WriteOptions.build(repo="o/n")).names == ["id", "split", "text"]
