"""A Daft write uploads each file as it rolls, while the source is still producing rows (native runner).

The source's one task stops half way and waits until the test's own hub has received uploads: if the sink only
uploaded after the source was exhausted, the wait would time out."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from daft.io.source import DataSource, DataSourceTask
from daft.recordbatch import RecordBatch
from daft.schema import Schema

from hfconnect.daft import write_huggingface
from hfconnect.localhub import HubMode, LocalHub
from tests.conftest import WRITE_TOKEN
from tests.data import make_table
from tests.stream.common import repo_rows

pytestmark = pytest.mark.integration

BATCHES, ROWS_PER_BATCH, GATE = 24, 2_000, 12
SCHEMA = make_table(1, columns=("id", "hex")).schema


def _uploads(endpoint: str) -> int:
    with urllib.request.urlopen(f"{endpoint}/_admin/counters", timeout=30) as answer:
        return json.loads(answer.read())["upload"]["requests"]


class GatedTask(DataSourceTask):
    """Yields BATCHES batches; before batch GATE it waits (up to 60 s) for uploads at the hub, and records what
    it saw in `report`."""

    def __init__(self, endpoint: str, report: str) -> None:
        self.endpoint, self.report = endpoint, report

    @property
    def schema(self) -> Schema:
        return Schema.from_pyarrow_schema(SCHEMA)

    async def read(self) -> AsyncIterator[RecordBatch]:
        for i in range(BATCHES):
            if i == GATE:
                seen, waited = 0, 0.0
                while waited < 60 and not seen:
                    seen = await asyncio.to_thread(_uploads, self.endpoint)
                    if not seen:
                        await asyncio.sleep(0.1)
                        waited += 0.1
                Path(self.report).write_text(json.dumps({"uploads_before_exhausted": seen, "batches_left":
                                                         BATCHES - i}))
            batch = make_table(ROWS_PER_BATCH, i * ROWS_PER_BATCH, columns=("id", "hex")).to_batches()[0]
            yield RecordBatch.from_arrow_record_batches([batch], SCHEMA)


class GatedSource(DataSource):
    def __init__(self, endpoint: str, report: str) -> None:
        self.endpoint, self.report = endpoint, report

    @property
    def name(self) -> str:
        return "GatedSource"

    @property
    def schema(self) -> Schema:
        return Schema.from_pyarrow_schema(SCHEMA)

    async def get_tasks(self, pushdowns) -> AsyncIterator[DataSourceTask]:  # noqa: ANN001
        yield GatedTask(self.endpoint, self.report)


@pytest.mark.parametrize("real_hub", [False, True], ids=["local", "real-hub-mode"])
def test_files_upload_while_the_source_is_still_producing(tmp_path, real_hub: bool) -> None:
    report = tmp_path / "report.json"
    mode = HubMode.real_hub() if real_hub else None  # redirects to signed URLs, rate limits, commit quota
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=mode) as hub:
        df = GatedSource(hub.endpoint, str(report)).read()
        result = write_huggingface(df, "me/rolling", endpoint=hub.endpoint, token=WRITE_TOKEN,
                                   row_group_bytes="64KiB")
        seen = json.loads(report.read_text())
        assert seen["uploads_before_exhausted"] > 0 and seen["batches_left"] == BATCHES - GATE
        assert len(result.files) >= 4 and result.rows == BATCHES * ROWS_PER_BATCH
        ids = sorted(repo_rows(hub.endpoint, "me/rolling").column("id").to_pylist())
        counters = hub.counters()
    assert ids == list(range(BATCHES * ROWS_PER_BATCH))
    if real_hub:
        assert counters["rate_limits"]["commits"]["requests"] == 1
        assert counters["cdn"]["authorized"] == counters["bridge"]["authorized"] == 0
