"""plan.buckets: a bucket prefix's layout (conventions, data_files and data_dir relative to the prefix, a prefix
naming one file), the errors for an empty prefix and a revision, and the pins the plan keeps on its parts (and
hands a task for its own files only), against the local hub's own app run in-process."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest

from hfconnect.errors import HfConnectError, OptionError
from hfconnect.hub.buckets import BucketPath
from hfconnect.hub.client import HubClient
from hfconnect.hub.snapshot import Snapshot
from hfconnect.options import ReadOptions
from hfconnect.plan.buckets import bucket_layout, pin_shards
from hfconnect.plan.model import FilePart, ReadPlan, Shard
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

H1, H2 = "1" * 64, "2" * 64


@pytest.fixture
def seeded(inproc_hub: InProcessHub) -> tuple[InProcessHub, str]:
    api = inproc_hub.api()
    bucket_id = api.create_bucket("me/layout").bucket_id
    api.batch_bucket_files(bucket_id, add=[(b'{"a": 1}\n', "p/train/x.jsonl"), (b'{"a": 2}\n', "p/test/y.jsonl"),
                                           (b"a\n3\n", "p/notes.csv"), (b"hello", "p/README.txt"),
                                           (b'{"a": 4}\n', "q/z.jsonl")])
    return inproc_hub, bucket_id


def _layout(hub: InProcessHub, bucket_id: str, prefix: str, **options: object):  # noqa: ANN202
    opts = ReadOptions.build(repo=str(BucketPath(bucket_id, prefix)), endpoint=hub.endpoint, **options)
    return bucket_layout(opts, HubClient(hub.endpoint, WRITE_TOKEN), BucketPath(bucket_id, prefix))


def test_conventions_under_the_prefix_and_the_pins(seeded: tuple[InProcessHub, str]) -> None:
    hub, bucket_id = seeded
    layout, snapshot = _layout(hub, bucket_id, "p")
    splits = layout.configs["default"]
    assert {s: [f.path for f in fs] for s, fs in splits.items()} == {"train": ["p/train/x.jsonl"],
                                                                     "test": ["p/test/y.jsonl"]}
    assert layout.source == "bucket prefix" and snapshot.is_bucket and snapshot.sha == "" and snapshot.revision == "p"
    assert set(snapshot.pins) >= {"p/train/x.jsonl", "p/test/y.jsonl"} and "q/z.jsonl" not in snapshot.pins
    assert snapshot.pins["p/train/x.jsonl"][1] == 9 and len(snapshot.pins["p/train/x.jsonl"][0]) == 64
    whole, _ = _layout(hub, bucket_id, "")
    assert whole.source == "bucket"


def test_data_files_and_data_dir_are_relative_to_the_prefix(seeded: tuple[InProcessHub, str]) -> None:
    hub, bucket_id = seeded
    layout, _ = _layout(hub, bucket_id, "p", data_files=("*.csv",))
    assert [f.path for f in layout.configs["default"]["train"]] == ["p/notes.csv"]
    layout, _ = _layout(hub, bucket_id, "p", data_dir="train")
    assert [f.path for f in layout.configs["default"]["train"]] == ["p/train/x.jsonl"]
    layout, _ = _layout(hub, bucket_id, "p/test/y.jsonl")
    assert layout.source == "bucket file" and [f.path for f in layout.configs["default"]["train"]] == ["p/test/y.jsonl"]


def test_nothing_to_read_and_revisions_are_errors(seeded: tuple[InProcessHub, str]) -> None:
    hub, bucket_id = seeded
    with pytest.raises(HfConnectError, match=r"buckets/.*/nope: no Parquet, JSON Lines or CSV data files under this "
                                             r"prefix \(no file at all\)"):
        _layout(hub, bucket_id, "nope")
    with pytest.raises(HfConnectError, match=r"matching data_files \['\*.parquet'\] \(5 file\(s\) listed"):
        _layout(hub, bucket_id, "", data_files=("*.parquet",))
    with pytest.raises(HfConnectError, match="p/README.txt: not a Parquet, JSON Lines or CSV file"):
        _layout(hub, bucket_id, "p/README.txt")
    with pytest.raises(OptionError, match="a bucket has no revisions"):
        _layout(hub, bucket_id, "p", revision="dev")


def test_parts_keep_the_pins_and_a_task_gets_only_its_own() -> None:
    snapshot = Snapshot("ns/b", "", "p", "http://hub.invalid", "bucket", pins={"p/a": (H1, 10), "p/b": (H2, 20)})
    shards = tuple(Shard(i, (FilePart(path, size, "json", "train"),), size)
                   for i, (path, size) in enumerate([("p/a", 10), ("p/b", 20)]))
    pinned = pin_shards(shards, snapshot)
    assert [p.version for s in pinned for p in s.parts] == [H1, H2]
    assert pin_shards(shards, Snapshot("o/d", "c" * 40, "main", "http://hub.invalid")) == shards  # repos: no pins
    plan = ReadPlan(snapshot=Snapshot("ns/b", "", "p", "http://hub.invalid", "bucket"), client=HubClient("http://x"),
                    config="default", splits=("train",), file_schema=pa.schema([]), schema=pa.schema([]),
                    shards=pinned)
    assert plan.snapshot_for(pinned[1].parts).pins == {"p/b": (H2, 20)}
    assert pickle.loads(pickle.dumps(plan)).shards[0].parts[0].version == H1
    assert "bucket ns/b, prefix 'p'" in plan.explain() and "Xet hash and size" in plan.explain()
    repo = ReadPlan(snapshot=Snapshot("o/d", "c" * 40, "main", "http://x"), client=HubClient("http://x"),
                    config="default", splits=("train",), file_schema=pa.schema([]), schema=pa.schema([]), shards=())
    assert repo.snapshot_for(()) is repo.snapshot
