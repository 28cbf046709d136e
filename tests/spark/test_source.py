"""The Spark data source's bucket paths, against the local hub's own app in-process (no JVM: the source is plain
Python until Spark calls it): the plan made for schema() is the reader's too (a bucket has no revision to compare,
so no second listing), and spark.readStream of a bucket is refused, saying what to use instead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql.types import StructType

from hfconnect.errors import OptionError
from hfconnect.spark.source import HuggingFaceDataSource
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub, running_hub

pytestmark = pytest.mark.integration


@pytest.fixture
def inproc_hub() -> Iterator[InProcessHub]:
    with running_hub() as hub:
        yield hub


def test_a_bucket_plan_is_reused_by_the_reader(inproc_hub: InProcessHub) -> None:
    api = inproc_hub.api()
    bucket_id = api.create_bucket("me/spark-src").bucket_id
    api.batch_bucket_files(bucket_id, add=[(b'{"a": 1}\n{"a": 2}\n', "p/train.jsonl")])
    source = HuggingFaceDataSource({"path": f"buckets/{bucket_id}/p", "endpoint": inproc_hub.endpoint,
                                    "token": WRITE_TOKEN})
    schema = source.schema()
    assert schema.fieldNames()[:1] == ["a"]
    listings = inproc_hub.counters()["api"]["requests"]
    reader = source.reader(schema)
    assert reader.base is source._plan and reader.base is not None and reader.base.snapshot.is_bucket
    assert inproc_hub.counters()["api"]["requests"] == listings  # no second listing


def test_read_stream_of_a_bucket_is_refused() -> None:
    source = HuggingFaceDataSource({"path": "buckets/ns/name/events", "endpoint": "http://127.0.0.1:9"})
    with pytest.raises(OptionError, match="a bucket has none: read it with spark.read"):
        source.streamReader(StructType())
