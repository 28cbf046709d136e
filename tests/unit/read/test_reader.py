"""The shard reader over plans of datasets on the local hub's app run in-process: every row once, exactly the
filter's rows, only the projected columns' bytes fetched, row groups statistics pruned never fetched, files
conformed to the plan's schema, and failures named by file (or left to the Hub when it is the Hub's)."""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import random
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hfconnect.errors import DataFileError, HubRequestError, SchemaMismatchError
from hfconnect.hub.client import HubClient
from hfconnect.hub.http import signed_urls
from hfconnect.hub.rangefile import TAIL_BYTES
from hfconnect.hub.retry import RetryPolicy
from hfconnect.options import ReadOptions
from hfconnect.plan.model import FilePart, ReadPlan, Shard
from hfconnect.plan.planner import plan_read
from hfconnect.read.reader import read_shard
from tests.data import make_table, parquet_bytes
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

FAST = RetryPolicy(attempts=3, base=0.01, cap=0.05, budget=1.0)
COLUMNS = ("id", "label", "score")


def _table(n: int, offset: int, hex_digits: int = 32) -> pa.Table:
    """Rows offset..offset+n-1 with `blob`, random hex digits: most of a file's bytes, and incompressible."""
    rng = random.Random(offset)
    blobs = pa.array([f"{rng.getrandbits(hex_digits * 4):0{hex_digits}x}" for _ in range(n)])
    return make_table(n, offset, columns=COLUMNS).add_column(1, "blob", blobs)


TRAIN = [_table(4000, 4000 * i) for i in range(3)]  # ids 0-11999 over 3 files
TEST = _table(500, 100_000)


@functools.cache
def _files() -> dict[str, bytes]:
    files = {f"data/train-{i:05d}-of-00003.parquet": parquet_bytes(t, row_group_size=1000) for i, t in enumerate(TRAIN)}
    files["data/test-00000-of-00001.parquet"] = parquet_bytes(TEST, row_group_size=1000)
    return files


@pytest.fixture
def dataset(inproc_hub: InProcessHub) -> Iterator[InProcessHub]:
    inproc_hub.dataset("o/r", _files())
    yield inproc_hub


def _options(hub: InProcessHub, repo: str = "o/r", **kw: object) -> ReadOptions:
    return ReadOptions.build(repo=repo, endpoint=hub.endpoint, token=WRITE_TOKEN, **kw)


def _read(plan: ReadPlan) -> pa.Table:
    batches = [b for shard in plan.shards for b in read_shard(plan, shard)]
    assert all(b.schema.equals(plan.schema) for b in batches)
    return pa.Table.from_batches(batches, plan.schema).sort_by("id") if "id" in plan.schema.names else \
        pa.Table.from_batches(batches, plan.schema)


def _column_bytes(data: bytes, name: str) -> int:
    md = pq.ParquetFile(io.BytesIO(data)).metadata
    j = md.schema.names.index(name)
    return sum(md.row_group(i).column(j).total_compressed_size for i in range(md.num_row_groups))


def _sent(hub: InProcessHub) -> int:
    """File bytes the hub has sent (from `/resolve/` or the Xet bridge it redirects to), once the count settles
    (the planner's footer read would otherwise land in the read's count)."""
    return hub.bytes_sent()


def test_every_row_once_across_shards(dataset: InProcessHub) -> None:
    plan = plan_read(_options(dataset, min_shards=4, shard_size="60KB"))
    assert len(plan.shards) > 3  # files were split by row group
    assert _read(plan).equals(pa.concat_tables(TRAIN))


def test_projection_fetches_only_the_columns_read(inproc_hub: InProcessHub) -> None:
    """Column chunks closer than coalesce's gap (1 MiB) are fetched together; `blob` chunks here are larger."""
    table = _table(15_000, 0, hex_digits=256)
    data = parquet_bytes(table, row_group_size=5000)
    inproc_hub.dataset("o/wide", {"data/train.parquet": data})
    plan = plan_read(_options(inproc_hub, "o/wide", columns="score,id", min_shards=1))
    before = _sent(inproc_hub)
    got = _read(plan)
    assert got.column_names == ["score", "id"]  # in the order asked for
    assert got.equals(table.select(["score", "id"]))
    needed = _column_bytes(data, "id") + _column_bytes(data, "score")
    assert _column_bytes(data, "blob") > 0.9 * len(data)
    assert _sent(inproc_hub) - before <= TAIL_BYTES + needed + 3 * 4096  # the footer's tail, then id and score


def test_filters_are_exact_and_pruned_row_groups_are_never_fetched(dataset: InProcessHub) -> None:
    plan = plan_read(_options(dataset, filters='[["id", ">=", 5500], ["id", "<", 6000], ["label", "in", [1, 2]]]'))
    parts = [p for s in plan.shards for p in s.parts]
    assert [(p.path, p.row_groups) for p in parts] == [("data/train-00001-of-00003.parquet", (1,))]
    before = _sent(dataset)
    got = _read(plan)
    everything = pa.concat_tables(TRAIN)
    want = everything.filter((pc.field("id") >= 5500) & (pc.field("id") < 6000) & pc.field("label").isin([1, 2]))
    assert got.equals(want) and got.num_rows == 200
    data = _files()["data/train-00001-of-00003.parquet"]
    md = pq.ParquetFile(io.BytesIO(data)).metadata
    kept = sum(md.row_group(1).column(j).total_compressed_size for j in range(md.num_columns))
    assert _sent(dataset) - before <= TAIL_BYTES + kept + 4096  # the footer's tail and row group 1, no more


@pytest.mark.parametrize("filter_columns", [(), ("id",)], ids=["from the expression", "given by the engine"])
def test_a_filter_on_a_column_not_projected(dataset: InProcessHub, filter_columns: tuple[str, ...]) -> None:
    plan = plan_read(_options(dataset, columns=["label"]), filter=pc.field("id") < 3, filter_columns=filter_columns)
    got = _read(plan)
    assert got.column_names == ["label"] and got["label"].to_pylist() == [0, 1, 2]


def test_split_all_adds_the_split_column(dataset: InProcessHub) -> None:
    plan = plan_read(_options(dataset, split="all", columns="id,split", filters='[["id", "<", 2]]'), )
    got = _read(plan)
    assert got.to_pylist() == [{"id": 0, "split": "train"}, {"id": 1, "split": "train"}]
    plan = plan_read(_options(dataset, split="all", filters='[["id", ">=", 100498]]'))
    assert _read(plan).select(["id", "split"]).to_pylist() == [{"id": 100498, "split": "test"},
                                                               {"id": 100499, "split": "test"}]


def test_files_are_conformed_to_the_splits_schema(inproc_hub: InProcessHub) -> None:
    """The planner reads the first file's footer for the schema; the others are conformed as they are read:
    narrower ints widened, missing columns null, columns the split does not have dropped."""
    first = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]})
    other = pa.table({"id": pa.array([3, 4], pa.int32()), "extra": [0.5, 1.5]})
    inproc_hub.dataset("o/mixed", {"data/train-0.parquet": parquet_bytes(first),
                                   "data/train-1.parquet": parquet_bytes(other)})
    plan = plan_read(_options(inproc_hub, "o/mixed", min_shards=1))
    assert plan.schema == first.schema
    assert _read(plan).to_pylist() == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": None},
                                       {"id": 4, "name": None}]


def test_json_lines_and_csv_files(inproc_hub: InProcessHub) -> None:
    rows = [{"id": i, "text": f"t{i}"} for i in range(6)]
    jsonl = "\n".join(json.dumps(r) for r in rows).encode()
    csv = b"id,text\n" + b"".join(f"{r['id']},{r['text']}\n".encode() for r in rows)
    inproc_hub.dataset("o/jsonl", {"train.jsonl": jsonl})
    inproc_hub.dataset("o/csv", {"train.csv": csv})
    for repo in ("o/jsonl", "o/csv"):
        plan = plan_read(_options(inproc_hub, repo, columns="text", filters='[["id", ">", 3]]'))
        assert _read(plan).to_pylist() == [{"text": "t4"}, {"text": "t5"}]


def _plan_by_hand(hub: InProcessHub, repo: str, path: str, size: int, schema: pa.Schema, **kw: object) -> ReadPlan:
    client = HubClient(hub.endpoint, WRITE_TOKEN, FAST)
    snap = client.snapshot(repo, "main")
    shard = Shard(0, (FilePart(path, size, "parquet", "train"),), size)
    return ReadPlan(snapshot=snap, client=client, config="default", splits=("train",), file_schema=schema,
                    schema=schema, shards=(shard,), **kw)


def test_a_column_that_cannot_be_read_as_the_splits_type_names_file_and_column(inproc_hub: InProcessHub) -> None:
    data = parquet_bytes(pa.table({"id": ["1", "x"]}))
    inproc_hub.dataset("o/strings", {"data/train.parquet": data})
    plan = _plan_by_hand(inproc_hub, "o/strings", "data/train.parquet", len(data), pa.schema([("id", pa.int64())]))
    with pytest.raises(SchemaMismatchError, match=r"^o/strings/data/train\.parquet: column 'id' is string, which "
                                                  r"cannot be read as the split's int64: ") as exc:
        _read(plan)
    assert exc.value.path == "data/train.parquet"


def test_a_corrupt_row_group_names_file_and_row_group(inproc_hub: InProcessHub) -> None:
    table = make_table(3000, columns=("id", "hex"))
    data = bytearray(parquet_bytes(table, row_group_size=1000))
    md = pq.ParquetFile(io.BytesIO(bytes(data))).metadata
    col = md.row_group(1).column(1)
    start = col.data_page_offset
    data[start:start + col.total_compressed_size] = b"\xff" * col.total_compressed_size  # its pages are garbage
    inproc_hub.dataset("o/corrupt", {"data/train.parquet": bytes(data)})
    plan = _plan_by_hand(inproc_hub, "o/corrupt", "data/train.parquet", len(data), table.schema, prefetch=False)
    batches = read_shard(plan, plan.shards[0])
    assert next(batches).num_rows > 0  # row group 0 is fine
    with pytest.raises(DataFileError, match=r"^o/corrupt/data/train\.parquet: row group 1 cannot be read: "):
        list(batches)


def test_a_failing_hub_is_the_hubs_error_not_the_files(dataset: InProcessHub) -> None:
    plan = plan_read(_options(dataset, columns="id"))
    plan = dataclasses.replace(plan, client=HubClient(dataset.endpoint, WRITE_TOKEN, FAST))
    # Xet files' bytes come from the bridge `/resolve/` redirects to; the first file's read goes straight there,
    # to the signed URL planning got. The error names the file's resolve path, never the signed URL.
    dataset.set_faults([{"route": "bridge", "action": "status", "status": 503}])
    want = (r"^GET /datasets/o/r/resolve/\w{40}/data/train-00000-of-00003\.parquet: giving up after 3 failed "
            r"attempt\(s\) in \d+s \(HTTP 503 x3\)")
    with pytest.raises(HubRequestError, match=want) as exc:
        list(read_shard(plan, plan.shards[0]))
    assert "Signature" not in str(exc.value) and "/bridge/" not in str(exc.value)


def test_a_consumer_that_stops_early_leaves_nothing_fetching(dataset: InProcessHub) -> None:
    """A LIMIT stops reading: the footers fetched ahead are closed and no prefetch goes on behind it."""
    import time

    plan = plan_read(_options(dataset, min_shards=1, batch_size=100))
    (shard,) = plan.shards
    assert len(shard.parts) == 3
    before = dataset.downloads()
    list(read_shard(plan, shard))
    whole = dataset.downloads() - before
    before = dataset.downloads()
    batches = read_shard(plan, shard)
    assert next(batches).num_rows == 100
    batches.close()
    stopped = dataset.downloads()
    time.sleep(0.2)
    assert dataset.downloads() == stopped  # nothing still running after close()
    assert stopped - before < whole


def test_tasks_read_from_the_signed_urls_the_planner_got(dataset: InProcessHub) -> None:
    """Xet files: `/resolve/` redirects to the bridge, whose signed URLs planning got and the tasks reuse."""
    hub = dataset
    plan = plan_read(_options(hub, filters='[["id", "<", 10]]'))  # a filter: every footer read while planning
    shard = plan.shards[0]
    assert shard.targets and all(t.signed and "/bridge/" in t.url for _, t in shard.targets)
    for url, target in shard.targets:  # a task in another process knows none of them
        signed_urls.drop(url, target)
    resolves, bridge = hub.counters()["resolve"]["requests"], hub.counters()["bridge"]["requests"]
    assert sum(b.num_rows for b in read_shard(plan, shard)) == 10
    assert hub.counters()["resolve"]["requests"] == resolves  # all of it from the bridge
    assert hub.counters()["bridge"]["requests"] > bridge and hub.counters()["bridge"]["authorized"] == 0


def test_an_image_folder_shard_fetches_only_the_media_of_the_rows_and_columns_read(inproc_hub: InProcessHub) -> None:
    meta = "".join(json.dumps({"file_name": f"{i}.png", "stars": i}) + "\n" for i in range(5))
    files = {f"{i}.png": bytes([i]) * 50 for i in range(5)} | {"metadata.jsonl": meta.encode()}
    inproc_hub.dataset("o/imgs", files)
    plan = plan_read(_options(inproc_hub, "o/imgs", split="all"))
    got = _read(plan)
    assert got.column_names == ["image", "stars", "split"]
    assert got.to_pylist()[2] == {"image": {"bytes": files["2.png"], "path": "2.png"}, "stars": 2, "split": "train"}
    before = inproc_hub.downloads()
    assert _read(plan_read(_options(inproc_hub, "o/imgs", columns="stars"))).column("stars").to_pylist() == [
        0, 1, 2, 3, 4]
    assert inproc_hub.downloads() == before + 1  # metadata.jsonl, to plan: no image
    kept = plan_read(_options(inproc_hub, "o/imgs", filters='[["stars", ">=", 3]]'))
    before = inproc_hub.downloads()
    assert [r["image"]["path"] for r in _read(kept).to_pylist()] == ["3.png", "4.png"]
    assert inproc_hub.downloads() - before <= 2 * 2  # two images (a Xet file: resolve's 302, then the bridge)


def test_the_read_ahead_runs_across_files_within_its_budget(dataset: InProcessHub, tmp_path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Several row groups' chunks in flight per task, on into the next files as their footers arrive, within the
    budget (the next row group is fetched even past it); rows exact. The task's stats line says what it held."""
    from hfconnect.read import ahead

    stats = tmp_path / "stats.jsonl"
    monkeypatch.setenv(ahead.STATS_ENV, str(stats))
    plan = plan_read(_options(dataset, min_shards=1))
    (shard,) = plan.shards
    assert len(shard.parts) == 3
    per_group = max(n for p in shard.parts for n in [p.size // 4])  # 4 row groups a file
    from hfconnect.read import reader

    monkeypatch.setattr(reader, "_budget", lambda plan: 3 * per_group)
    assert _read(plan).equals(pa.concat_tables(TRAIN))
    (line,) = stats.read_text().splitlines()
    record = json.loads(line)
    assert record["budget"] == 3 * per_group and record["row_groups"] == 12
    assert 0 < record["peak_bytes"] <= record["budget"] and record["over_budget"] == 0
    assert record["asked_bytes"] >= sum(p.size for p in shard.parts) // 2  # the blob column: most of the bytes


def test_without_prefetch_nothing_is_read_ahead(dataset: InProcessHub, tmp_path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from hfconnect.read import ahead

    monkeypatch.setenv(ahead.STATS_ENV, str(tmp_path / "stats.jsonl"))
    plan = plan_read(_options(dataset, min_shards=1, prefetch=False))
    assert _read(plan).equals(pa.concat_tables(TRAIN))
    assert not (tmp_path / "stats.jsonl").exists()


def test_the_read_ahead_budget_is_the_option(dataset: InProcessHub, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hfconnect.read import ahead

    stats = tmp_path / "stats.jsonl"
    monkeypatch.setenv(ahead.STATS_ENV, str(stats))
    plan = plan_read(_options(dataset, min_shards=1, read_ahead_bytes="100KB"))
    assert plan.read_ahead_bytes == 100_000
    assert plan_read(_options(dataset)).read_ahead_bytes == 128_000_000
    assert _read(plan).equals(pa.concat_tables(TRAIN))
    assert json.loads(stats.read_text().splitlines()[0])["budget"] == 100_000
