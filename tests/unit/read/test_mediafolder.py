"""Reading image/audio folder shards without a hub process: rows in order with bytes and `path` as `datasets`
embeds them, no media fetched unless a media column is read, several fetches in flight, bytes held bounded."""

from __future__ import annotations

import json
import threading

import pyarrow as pa
import pytest

from hfconnect.errors import DataFileError, HfConnectError
from hfconnect.hub.snapshot import RepoFileInfo
from hfconnect.plan.mediafolder import MEDIA_TYPE, cut_media_shards, plan_media_folder
from hfconnect.read.mediafolder import project_schema, read_media_shard


class Store:
    """A dict-backed fetch that counts what it served and what is in flight."""

    def __init__(self, files: dict[str, bytes], barrier: threading.Barrier | None = None) -> None:
        self.files = files
        self.asked: list[str] = []
        self.lock = threading.Lock()
        self.served = 0
        self.barrier = barrier

    def listing(self) -> list[RepoFileInfo]:
        return [RepoFileInfo(p, len(b)) for p, b in self.files.items()]

    def __call__(self, path: str, size: int) -> bytes:
        with self.lock:
            self.asked.append(path)
            self.served += size
        if self.barrier is not None and len(self.asked) <= self.barrier.parties:
            self.barrier.wait()
        return self.files[path]


def read_all(store: Store, columns: list[str] | None = None, **kw) -> pa.Table:
    plan = plan_media_folder(store.listing(), store)
    store.asked.clear()
    out = []
    for split in plan.splits.values():
        for shard in cut_media_shards(split, plan.media_columns, 1 << 20):
            out += list(read_media_shard(shard, plan.schema, store, columns=columns, **kw))
    return pa.Table.from_batches(out, schema=project_schema(plan.schema, columns))


def test_rows_with_bytes_labels_and_base_names() -> None:
    store = Store({"train/cat/a b.PNG": b"cat-a", "train/dog/c.jpg": b"dog-c", "train/cat/d.png": b"cat-d"})
    table = read_all(store)
    assert table.schema.field("image").type == MEDIA_TYPE
    assert json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]["label"]["names"] == ["cat", "dog"]
    assert table.to_pylist() == [{"image": {"bytes": b"cat-a", "path": "a b.PNG"}, "label": 0},
                                 {"image": {"bytes": b"cat-d", "path": "d.png"}, "label": 0},
                                 {"image": {"bytes": b"dog-c", "path": "c.jpg"}, "label": 1}]


def test_a_read_without_media_columns_fetches_no_media() -> None:
    meta = "".join(json.dumps({"file_name": f"{i}.wav", "n": i}) + "\n" for i in range(5)).encode()
    store = Store({**{f"{i}.wav": bytes([i]) * 10 for i in range(5)}, "metadata.jsonl": meta})
    table = read_all(store, columns=["n"])
    assert table.column("n").to_pylist() == [0, 1, 2, 3, 4] and store.asked == []
    both = read_all(store, columns=["n", "audio"])
    assert both.schema.names == ["n", "audio"] and sorted(store.asked) == [f"{i}.wav" for i in range(5)]
    assert both.column("audio").to_pylist()[3] == {"bytes": b"\x03" * 10, "path": "3.wav"}
    with pytest.raises(HfConnectError, match="no column 'nope'"):
        read_all(store, columns=["nope"])


def test_a_filter_on_labels_fetches_only_the_rows_it_keeps() -> None:
    import pyarrow.compute as pc

    store = Store({f"{c}/{i}.png": f"{c}{i}".encode() for c in ("ant", "bee", "cat") for i in range(3)})
    table = read_all(store, filter=pc.field("label") == 1)
    assert table.to_pylist() == [{"image": {"bytes": f"bee{i}".encode(), "path": f"{i}.png"}, "label": 1}
                                 for i in range(3)]
    assert sorted(store.asked) == ["bee/0.png", "bee/1.png", "bee/2.png"]
    with pytest.raises(HfConnectError, match="not on the media column"):
        read_all(store, filter=pc.field("image") == "x")


def test_missing_file_keeps_its_row_with_null_bytes_and_list_columns() -> None:
    meta = (json.dumps({"file_name": "a.png", "frame_file_names": ["a.png", "gone.png"]}) + "\n"
            + json.dumps({"file_name": "gone.png", "frame_file_names": None}) + "\n").encode()
    store = Store({"a.png": b"A", "metadata.jsonl": meta})
    assert read_all(store).to_pylist() == [
        {"image": {"bytes": b"A", "path": "a.png"},
         "frame": [{"bytes": b"A", "path": "a.png"}, {"bytes": None, "path": "gone.png"}]},
        {"image": {"bytes": None, "path": "gone.png"}, "frame": None}]
    assert store.asked == ["a.png", "a.png"]


def test_several_fetches_in_flight() -> None:
    # both fetches must be running at once to pass the barrier (a serial reader would raise BrokenBarrierError)
    store = Store({f"c{i % 2}/{i}.png": b"x" * 100 for i in range(6)}, threading.Barrier(2, timeout=30))
    assert read_all(store, threads=2).num_rows == 6


def test_bytes_held_stay_under_the_budget() -> None:
    sizes = [300, 100, 700, 50, 400, 400, 20, 900, 10, 250] * 3
    store = Store({f"f{i:02d}.wav": b"z" * n for i, n in enumerate(sizes)})
    plan = plan_media_folder(store.listing(), store)
    (shard,) = cut_media_shards(plan.splits["train"], plan.media_columns, 1 << 30)
    budget, received, worst = 1000, 0, 0
    for batch in read_media_shard(shard, plan.schema, store, max_bytes_held=budget, threads=4, batch_rows=1000):
        worst = max(worst, store.served - received)
        received += sum(len(v["bytes"]) for v in batch.column("audio").to_pylist())
        assert batch.num_rows >= 1
    assert received == sum(sizes) and store.served == sum(sizes)
    assert worst <= budget + max(sizes)


def test_fetch_errors_name_the_file_and_empty_shards_read_nothing() -> None:
    store = Store({"a.png": b"A", "b.png": b"B"})
    plan = plan_media_folder(store.listing(), store)
    (shard,) = cut_media_shards(plan.splits["train"], plan.media_columns, 100)

    def broken(path: str, size: int) -> bytes:
        raise OSError("connection reset")

    with pytest.raises(DataFileError, match="b.png: could not be fetched: connection reset"):
        list(read_media_shard(shard.__class__(**{**shard.__dict__, "rows": shard.rows.slice(1)}), plan.schema,
                              broken))
    empty = shard.__class__(**{**shard.__dict__, "rows": shard.rows.slice(0, 0)})
    assert list(read_media_shard(empty, plan.schema, broken)) == []
