"""plan.buckets: a bucket prefix's layout (conventions, data_files and data_dir relative to the prefix, a prefix
naming one file), the errors for an empty prefix and a revision, and the pins the plan keeps on its parts (and
hands a task for its own files only), against the local hub's own app run in-process."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest

from hfconnect.errors import DataFileError, HfConnectError, OptionError
from hfconnect.hub.bucket_manifest import MANIFEST_NAME, Manifest, ManifestError, ManifestFile, full_path, manifest_path
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


# ---- the manifest of a prefix hfconnect wrote ---------------------------------------------------------------
def _publish_manifest(hub: InProcessHub, bucket_id: str, prefix: str, names: list[str], job_id: str = "job1") -> None:
    """What a write job's batch 2 does: a manifest naming `names` (relative to `prefix`) as they are listed now."""
    from huggingface_hub import BucketFile

    api = hub.api()
    listed = {e.path: e for e in api.list_bucket_tree(bucket_id, recursive=True) if isinstance(e, BucketFile)}
    files = tuple(ManifestFile(n, listed[full_path(prefix, n)].size, listed[full_path(prefix, n)].xet_hash, 1)
                  for n in names)
    manifest = Manifest(bucket_id, prefix, job_id, "overwrite", files, "a:int64")
    api.batch_bucket_files(bucket_id, add=[(manifest.to_bytes(), manifest_path(prefix))])


@pytest.fixture
def written(inproc_hub: InProcessHub) -> tuple[InProcessHub, str]:
    """`t/` as a job left it: its two files in its manifest, plus an orphan of a job killed before its manifest,
    and `u/` without a manifest."""
    api = inproc_hub.api()
    bucket_id = api.create_bucket("me/manifest").bucket_id
    api.batch_bucket_files(bucket_id, add=[(b'{"a": 1}\n', "t/part-0.jsonl"), (b'{"a": 2}\n', "t/part-1.jsonl"),
                                           (b'{"a": 3}\n', "u/z.jsonl")])
    _publish_manifest(inproc_hub, bucket_id, "t", ["part-0.jsonl", "part-1.jsonl"])
    api.batch_bucket_files(bucket_id, add=[(b'{"a": 9}\n{"a": 9}\n', "t/part-9-orphan.jsonl")])
    return inproc_hub, bucket_id


def _paths(layout) -> dict[str, list[str]]:  # noqa: ANN001 - DatasetLayout
    return {s: [f.path for f in fs] for s, fs in layout.configs[layout.default_config].items()}


def test_a_manifest_decides_the_files_and_pins_them(written: tuple[InProcessHub, str]) -> None:
    hub, bucket_id = written
    before = hub.counters()
    layout, snapshot = _layout(hub, bucket_id, "t")
    after = hub.counters()
    assert _paths(layout) == {"train": ["t/part-0.jsonl", "t/part-1.jsonl"]}  # no orphan, no manifest
    assert "manifest t/_hfconnect_manifest.json of job job1 (2 file(s))" in layout.source
    assert set(snapshot.pins) == {"t/part-0.jsonl", "t/part-1.jsonl"} and snapshot.pins["t/part-0.jsonl"][1] == 9
    assert after["api"]["requests"] - before["api"]["requests"] == 1  # the listing
    assert after["resolve"]["requests"] - before["resolve"]["requests"] == 1  # the manifest, once
    # data_files and data_dir choose among the manifest's files only
    only, _ = _layout(hub, bucket_id, "t", data_files=("*-1.jsonl",))
    assert _paths(only) == {"train": ["t/part-1.jsonl"]}
    with pytest.raises(HfConnectError, match=r"matching data_files .*manifest t/_hfconnect_manifest.json"):
        _layout(hub, bucket_id, "t", data_files=("*orphan*",))
    # the whole bucket: t/ by its manifest, u/ (no manifest) every file
    whole, _ = _layout(hub, bucket_id, "")
    assert _paths(whole) == {"train": ["t/part-0.jsonl", "t/part-1.jsonl", "u/z.jsonl"]}
    # a file named alone is read as named; the manifest itself is not data
    one, _ = _layout(hub, bucket_id, "t/part-9-orphan.jsonl")
    assert _paths(one) == {"train": ["t/part-9-orphan.jsonl"]}
    with pytest.raises(HfConnectError, match=r"hfconnect's manifest of a prefix, not data: read its prefix, "
                                             rf"buckets/{bucket_id}/t$"):
        _layout(hub, bucket_id, f"t/{MANIFEST_NAME}")


def test_the_shallowest_manifest_governs_its_folder(written: tuple[InProcessHub, str]) -> None:
    hub, bucket_id = written
    api = hub.api()
    api.batch_bucket_files(bucket_id, add=[(b'{"a": 5}\n', "t/sub/s.jsonl"), (b'{"a": 6}\n', "u/v/w.jsonl"),
                                           (b'{"a": 7}\n', "u/v/orphan.jsonl")])
    _publish_manifest(hub, bucket_id, "t/sub", ["s.jsonl"])  # under t/, whose manifest does not name it
    _publish_manifest(hub, bucket_id, "u/v", ["w.jsonl"])
    whole, _ = _layout(hub, bucket_id, "")
    assert _paths(whole) == {"train": ["t/part-0.jsonl", "t/part-1.jsonl", "u/v/w.jsonl", "u/z.jsonl"]}
    assert "2 manifests (t/_hfconnect_manifest.json, u/v/_hfconnect_manifest.json)" in whole.source
    sub, _ = _layout(hub, bucket_id, "t/sub")  # read on its own, the sub-prefix follows its own manifest
    assert _paths(sub) == {"train": ["t/sub/s.jsonl"]}


@pytest.mark.parametrize("change", ["replaced", "deleted"])
def test_a_file_of_the_manifest_changed_by_hand_is_an_error(written: tuple[InProcessHub, str], change: str) -> None:
    hub, bucket_id = written
    api = hub.api()
    if change == "replaced":
        api.batch_bucket_files(bucket_id, add=[(b'{"a": 100}\n', "t/part-1.jsonl")])
        says = r"t/part-1.jsonl: changed since the manifest buckets/.*/t/_hfconnect_manifest.json was written \(Xet"
    else:
        api.batch_bucket_files(bucket_id, delete=["t/part-1.jsonl"])
        says = r"t/part-1.jsonl: the manifest buckets/.*/t/_hfconnect_manifest.json names this file, which is missing"
    with pytest.raises(DataFileError, match=says) as err:
        _layout(hub, bucket_id, "t")
    assert err.value.changed is True and err.value.path == f"buckets/{bucket_id}/t/part-1.jsonl"
    assert "re-run the read" in str(err.value) and "mode overwrite" in str(err.value)
    assert "delete the manifest" in str(err.value) and WRITE_TOKEN not in str(err.value)


@pytest.mark.parametrize("data", [b"{not json", b'{"format": "something else"}',
                                  b'{"format": "hfconnect-bucket-manifest", "version": 1, "files": "x"}'])
def test_a_manifest_that_does_not_parse_is_an_error_naming_it(written: tuple[InProcessHub, str], data: bytes) -> None:
    hub, bucket_id = written
    hub.api().batch_bucket_files(bucket_id, add=[(data, f"t/{MANIFEST_NAME}")])
    with pytest.raises(ManifestError, match=rf"buckets/{bucket_id}/t/{MANIFEST_NAME} is not a valid hfconnect bucket "
                                            "manifest") as err:
        _layout(hub, bucket_id, "t")
    text = str(err.value)
    assert "mode overwrite" in text and "delete the manifest to read every data file" in text
    assert WRITE_TOKEN not in text
    _layout(hub, bucket_id, "u")  # other prefixes read as before


def test_a_manifest_replaced_while_planning_is_read_again(written: tuple[InProcessHub, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A job publishes between the listing and the read of the manifest: the planner lists once more and reads
    the new manifest (the real hub's answers; only the moment is chosen here)."""
    import hfconnect.plan.buckets as plan_buckets

    hub, bucket_id = written
    real = plan_buckets.list_bucket_files
    calls: list[int] = []

    def listing_then_publish(client: HubClient, bucket: BucketPath):  # noqa: ANN202
        listed = real(client, bucket)
        calls.append(1)
        if len(calls) == 1:
            _publish_manifest(hub, bucket_id, "t", ["part-9-orphan.jsonl"], job_id="job2")
        return listed

    monkeypatch.setattr(plan_buckets, "list_bucket_files", listing_then_publish)
    layout, snapshot = _layout(hub, bucket_id, "t")
    assert len(calls) == 2 and _paths(layout) == {"train": ["t/part-9-orphan.jsonl"]} and "job2" in layout.source
    assert set(snapshot.pins) == {"t/part-9-orphan.jsonl"}
