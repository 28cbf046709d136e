"""plan/reuse.py: the plan made for Spark's schema() reused for a query's partitions (no planner, no Hub
request) only when the query's filter is the plan's; narrowed to the query's columns, read with its client."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hfconnect.errors import OptionError
from hfconnect.hub import HubClient
from hfconnect.hub.snapshot import Snapshot
from hfconnect.options import ReadOptions
from hfconnect.plan.model import FilePart, ReadPlan, Shard
from hfconnect.plan.reuse import reuse_plan, same_filter

SCHEMA = pa.schema([("id", pa.int64()), ("text", pa.string()), ("score", pa.float64())])
SHARDS = (Shard(0, (FilePart("data/train-0.parquet", 100, "parquet", "train", (0, 1)),), 100),)


def _plan(filter: pc.Expression | None = None) -> ReadPlan:
    return ReadPlan(Snapshot("o/n", "a" * 40, "main", "http://hub.invalid"), HubClient("http://hub.invalid", "old"),
                    "default", ("train",), SCHEMA, SCHEMA, SHARDS, filter=filter, total_files=1, total_bytes=100)


def _options(**kw: object) -> ReadOptions:
    return ReadOptions.build(repo="o/n", endpoint="http://hub.invalid", token="new", **kw)


def test_same_filter_compares_expressions_and_none() -> None:
    assert same_filter(None, None)
    assert same_filter(pc.field("id") > 3, pc.field("id") > 3)
    assert not same_filter(pc.field("id") > 3, pc.field("id") > 4)
    assert not same_filter(None, pc.field("id") > 3) and not same_filter(pc.field("id") > 3, None)


def test_a_plan_with_the_querys_filter_is_reused_narrowed_to_its_columns() -> None:
    base = _plan(pc.field("id") > 3)
    got = reuse_plan(_options(), base, filter=pc.field("id") > 3, columns=("score", "id"), filter_columns=("id",))
    assert got is not None
    assert got.shards == base.shards and got.snapshot == base.snapshot  # the same files at the same commit
    assert got.schema.names == ["score", "id"] and got.filter_columns == ("id",)
    assert got.client.token == "new"  # the query's client, not the one pickled with the schema's plan


def test_the_options_filters_count_when_no_filter_is_given() -> None:
    base = _plan(pc.field("id") > 3)
    assert reuse_plan(_options(filters='[["id", ">", 3]]'), base) is not None
    assert reuse_plan(_options(filters='[["id", ">", 4]]'), base) is None


def test_another_filter_or_no_plan_means_the_planner_runs() -> None:
    assert reuse_plan(_options(), None) is None
    assert reuse_plan(_options(), _plan(), filter=pc.field("id") > 3) is None  # new pruning needs footers
    assert reuse_plan(_options(), _plan(pc.field("id") > 3)) is None  # the query dropped the filter


def test_a_column_the_dataset_lacks_is_an_error_naming_it() -> None:
    with pytest.raises(OptionError, match=r"^column\(s\) \['nope'\] not in the dataset"):
        reuse_plan(_options(), _plan(), columns=("id", "nope"))


def test_a_media_folder_plan_keeps_the_features_of_the_columns_it_reads() -> None:
    """An image/audio folder's rows are built, not read from files carrying features: the schema says them."""
    import json

    from hfconnect.plan.reuse import media_schema

    features = {"image": {"_type": "Image"}, "label": {"names": ["a", "b"], "_type": "ClassLabel"}}
    schema = pa.schema([("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
                        ("label", pa.int64())], metadata={b"huggingface": json.dumps({"info": {"features": features}})})
    narrow = media_schema(schema, ["label", "split"], add_split=True)
    assert narrow.names == ["label", "split"]
    assert json.loads(narrow.metadata[b"huggingface"]) == {"info": {"features": {"label": features["label"]}}}
    base = ReadPlan(Snapshot("o/n", "a" * 40, "main", "http://hub.invalid"), HubClient("http://hub.invalid", "old"),
                    "default", ("train",), schema, schema, (), media_builder="imagefolder")
    reused = reuse_plan(_options(), base, columns=["image"])
    assert reused is not None and reused.schema.names == ["image"]
    assert json.loads(reused.schema.metadata[b"huggingface"]) == {"info": {"features": {"image": {"_type": "Image"}}}}
