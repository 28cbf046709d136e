"""Parquet footers over HTTP from the local hub's app run in-process: one suffix request per footer, the facts
planning keeps (schema, row-group bytes, row groups a filter keeps), and which failure is the file's fault
(DataFileError naming it) and which the Hub's (HubRequestError, never blamed on the file)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hfconnect.errors import DataFileError, HubRequestError
from hfconnect.hub.client import HubClient
from hfconnect.hub.retry import RetryPolicy
from hfconnect.hub.snapshot import Snapshot
from hfconnect.plan.footers import inspect_many, inspect_parquet, open_fragment
from tests.data import make_table, parquet_bytes
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05, budget=1.0)
TABLE = make_table(10_000)
DATA = parquet_bytes(TABLE, row_group_size=1000)  # 10 row groups, ids 0-9999 in order
FILES = {"data/a.parquet": DATA, "data/b.parquet": parquet_bytes(make_table(50, columns=("id", "score"))),
         "data/bad.parquet": b"PAR1 this is not parquet at all PAR1", "data/empty.parquet": parquet_bytes(TABLE[:0])}
assert len(DATA) > 2 * 64 * 1024  # more than the tail a footer read keeps


@pytest.fixture
def hub_files(inproc_hub: InProcessHub) -> Iterator[tuple[InProcessHub, HubClient, Snapshot]]:
    inproc_hub.dataset("o/f", FILES)
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    yield inproc_hub, client, client.snapshot("o/f", "main")


def test_a_footer_is_one_range_request(hub_files: tuple[InProcessHub, HubClient, Snapshot]) -> None:
    """A Xet file: `/resolve/` answers 302 (no bytes), the bridge it redirects to serves the one range."""
    hub, client, snap = hub_files
    before, sent = hub.counters(), hub.bytes_sent(("bridge",))
    footer = open_fragment(client, snap, "data/a.parquet", len(DATA))
    after, sent = hub.counters(), hub.bytes_sent(("bridge",)) - sent
    assert after["resolve"]["requests"] - before["resolve"]["requests"] == 1
    assert after["bridge"]["requests"] - before["bridge"]["requests"] == 1
    assert 0 < sent < len(DATA)  # the tail, not the file (the file is small)
    assert footer.schema.equals(TABLE.schema)
    assert footer.metadata.num_rows == 10_000 and footer.metadata.num_row_groups == 10
    footer.file.close()


def test_facts_and_row_groups_a_filter_keeps(hub_files: tuple[InProcessHub, HubClient, Snapshot]) -> None:
    _, client, snap = hub_files
    facts = inspect_parquet(client, snap, "data/a.parquet", len(DATA))
    md = pq.ParquetFile(pa.BufferReader(DATA)).metadata
    assert facts.row_group_bytes == tuple(
        sum(md.row_group(i).column(j).total_compressed_size for j in range(md.num_columns)) for i in range(10))
    assert facts.kept == tuple(range(10))
    assert inspect_parquet(client, snap, "data/a.parquet", len(DATA), pc.field("id") >= 8500).kept == (8, 9)
    assert inspect_parquet(client, snap, "data/a.parquet", len(DATA), pc.field("id") > 50_000).kept == ()
    both = (pc.field("id") < 1500) | (pc.field("id") >= 9500)
    assert inspect_parquet(client, snap, "data/a.parquet", len(DATA), both).kept == (0, 1, 9)


@pytest.mark.parametrize("undecidable", [pc.field("nope") > 1, pc.field("text") > 1])
def test_a_filter_statistics_cannot_decide_keeps_every_row_group(
        hub_files: tuple[InProcessHub, HubClient, Snapshot], undecidable: pc.Expression) -> None:
    """The reader filters rows exactly; pruning is only ever an optimisation, so doubt keeps the row group."""
    _, client, snap = hub_files
    assert inspect_parquet(client, snap, "data/a.parquet", len(DATA), undecidable).kept == tuple(range(10))


def test_an_empty_file_has_its_schema_and_no_row_groups(hub_files: tuple[InProcessHub, HubClient, Snapshot]) -> None:
    _, client, snap = hub_files
    facts = inspect_parquet(client, snap, "data/empty.parquet", len(FILES["data/empty.parquet"]),
                            pc.field("id") > 1)
    assert facts.schema.equals(TABLE.schema)
    assert len(facts.row_group_bytes) == len(facts.kept) <= 1  # pyarrow writes one empty row group, or none


def test_a_file_that_is_not_parquet_is_named(hub_files: tuple[InProcessHub, HubClient, Snapshot]) -> None:
    _, client, snap = hub_files
    with pytest.raises(DataFileError, match=r"^o/f/data/bad\.parquet: not a readable Parquet file \(.+\)$") as exc:
        inspect_parquet(client, snap, "data/bad.parquet", len(FILES["data/bad.parquet"]))
    assert exc.value.path == "data/bad.parquet"


def test_a_failing_hub_is_not_blamed_on_the_file(hub_files: tuple[InProcessHub, HubClient, Snapshot]) -> None:
    hub, client, snap = hub_files
    hub.set_faults([{"route": "resolve", "action": "status", "status": 503}])
    with pytest.raises(HubRequestError, match=r"^GET /datasets/o/f/resolve/\w{40}/data/a\.parquet: giving up"):
        open_fragment(client, snap, "data/a.parquet", len(DATA))


def test_int96_timestamps_read_as_microseconds_outside_the_nanosecond_range(inproc_hub: InProcessHub) -> None:
    """Old Spark/Impala files: nanoseconds would overflow for dates outside 1677-2262."""
    far = pa.table({"t": pa.array([dt.datetime(1000, 1, 1), dt.datetime(3000, 6, 1)], pa.timestamp("us"))})
    data = parquet_bytes(far, use_deprecated_int96_timestamps=True)
    inproc_hub.dataset("o/int96", {"t.parquet": data})
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    footer = open_fragment(client, client.snapshot("o/int96", "main"), "t.parquet", len(data))
    assert footer.schema.field("t").type == pa.timestamp("us")
    assert footer.fragment.to_table()["t"].to_pylist() == [dt.datetime(1000, 1, 1), dt.datetime(3000, 6, 1)]
    footer.file.close()


def test_inspect_many(hub_files: tuple[InProcessHub, HubClient, Snapshot]) -> None:
    hub, client, snap = hub_files
    before = hub.counters()["resolve"]["requests"]
    assert inspect_many(client, snap, []) == {}
    assert hub.counters()["resolve"]["requests"] == before
    files = [("data/a.parquet", len(DATA)), ("data/b.parquet", len(FILES["data/b.parquet"]))]
    facts = inspect_many(client, snap, files, filter=pc.field("id") < 10, concurrency=1)
    assert set(facts) == {"data/a.parquet", "data/b.parquet"}
    assert facts["data/a.parquet"].kept == (0,) and facts["data/b.parquet"].schema.names == ["id", "score"]
    assert hub.counters()["resolve"]["requests"] == before + 2
    with pytest.raises(DataFileError, match="data/bad.parquet"):
        inspect_many(client, snap, [*files, ("data/bad.parquet", len(FILES["data/bad.parquet"]))])


def test_footers_larger_than_the_tail_are_one_request_once_one_is_known(inproc_hub: InProcessHub) -> None:
    """A wide schema's footer is past the 64 KiB a first read fetches: the first file costs two requests, the next
    files' first reads fetch as much as it was, so each of them is one."""
    wide = pa.table({f"column_with_a_long_name_{i:04d}": pa.array([i, i + 1]) for i in range(600)})
    data = parquet_bytes(wide)
    assert pq.ParquetFile(pa.BufferReader(data)).metadata.serialized_size > 64 * 1024
    files = {f"data/w{i}.parquet": data for i in range(4)}
    inproc_hub.dataset("o/wide-footers", files)
    client = HubClient(inproc_hub.endpoint, WRITE_TOKEN, FAST)
    snap = client.snapshot("o/wide-footers", "main")
    before = inproc_hub.counters()["bridge"]["requests"]
    facts = inspect_many(client, snap, [(p, len(data)) for p in files], concurrency=1)
    assert all(f.schema.equals(wide.schema) for f in facts.values())
    assert all(f.footer_bytes > 64 * 1024 for f in facts.values())
    assert inproc_hub.counters()["bridge"]["requests"] - before == 2 + 3  # two for the first, then one each
