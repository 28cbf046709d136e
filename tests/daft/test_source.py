"""hfconnect.daft's source with Daft's native runner, against the local hub's own app in-process: the `filters`
option (the plan's own filter, which Daft's native Parquet tasks never see) filters rows with reader="native" too,
as with reader="hfconnect"; Daft's own .where() reaches either reader."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from daft import col

from hfconnect.daft import read_huggingface
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub, running_hub

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hub_repo() -> Iterator[tuple[InProcessHub, str]]:
    table = pa.table({"id": pa.array(range(1_000), pa.int64()), "group": [i % 4 for i in range(1_000)]})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=250)
    with running_hub() as hub:
        hub.dataset("me/filtered", {"data/train-00000-of-00001.parquet": sink.getvalue()})
        yield hub, "me/filtered"


@pytest.mark.parametrize("reader", ["native", "hfconnect"])
def test_the_filters_option_filters_rows_with_either_reader(hub_repo: tuple[InProcessHub, str], reader: str) -> None:
    hub, repo = hub_repo
    df = read_huggingface(repo, endpoint=hub.endpoint, token=WRITE_TOKEN, split="train", reader=reader,
                          filters=[("group", "=", 2)])
    ids = sorted(df.to_pydict()["id"])
    assert ids == [i for i in range(1_000) if i % 4 == 2]
    where = read_huggingface(repo, endpoint=hub.endpoint, token=WRITE_TOKEN, split="train", reader=reader)
    assert sorted(where.where(col("group") == 1).to_pydict()["id"]) == [i for i in range(1_000) if i % 4 == 1]
