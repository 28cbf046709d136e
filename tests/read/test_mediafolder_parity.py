"""Image and audio folders on the real local hub: plan/mediafolder and read/mediafolder, fetching over HTTP through
`HubClient.read_file` (as the lead wires it), give `datasets.load_dataset`'s splits, rows (same order), columns,
features, labels and label names for the same repo; media bytes equal the files `datasets` downloaded."""

from __future__ import annotations

import functools
import json
import posixpath
import uuid
from pathlib import Path

import datasets
import pyarrow as pa
import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from hfconnect.hub import HubClient
from hfconnect.plan.mediafolder import cut_media_shards, plan_media_folder
from hfconnect.read.mediafolder import read_media_shard
from tests.conftest import READ_TOKEN, WRITE_TOKEN

pytestmark = pytest.mark.integration


def publish(api: HfApi, files: dict[str, bytes]) -> str:
    repo_id = f"tests/media-{uuid.uuid4().hex[:10]}"
    api.create_repo(repo_id, repo_type="dataset")
    api.create_commit(repo_id, repo_type="dataset", commit_message="media",
                      operations=[CommitOperationAdd(p, b) for p, b in files.items()])
    return repo_id


def ours(endpoint: str, repo_id: str, shard_bytes: int = 64, token: str | None = None):
    """(plan, {split: table}) read shard by shard, bytes fetched with the client the lead passes to tasks."""
    client = HubClient(endpoint, token)
    snapshot = client.snapshot(repo_id, "main")
    fetch = functools.partial(client.read_file, snapshot)
    plan = plan_media_folder(client.list_files(snapshot), fetch)
    assert plan is not None
    tables = {}
    for name, split in plan.splits.items():
        batches = [b for shard in cut_media_shards(split, plan.media_columns, shard_bytes)
                   for b in read_media_shard(shard, plan.schema, fetch, threads=3)]
        tables[name] = pa.Table.from_batches(batches, schema=plan.schema)
    return plan, tables


def theirs(repo_id: str, column: str) -> datasets.DatasetDict:
    feature = datasets.Image(decode=False) if column == "image" else datasets.Audio(decode=False)
    loaded = datasets.load_dataset(repo_id)
    return loaded, {s: d.cast_column(column, feature).to_list() for s, d in loaded.items()}


def assert_same(plan, tables, loaded, rows, column: str) -> None:
    assert list(tables) == list(loaded)  # same splits, same order
    for split, table in tables.items():
        assert loaded[split].features == datasets.Features.from_arrow_schema(plan.schema)
        assert plan.schema.equals(loaded[split].features.arrow_schema, check_metadata=True)
        got = table.to_pylist()
        assert len(got) == len(rows[split])
        for mine, want in zip(got, rows[split], strict=True):
            media, expected = mine.pop(column), want.pop(column)
            assert mine == want  # metadata columns and labels
            assert media["path"] == posixpath.basename(expected["path"])  # what datasets embeds
            on_disk = Path(expected["path"])
            assert media["bytes"] == (on_disk.read_bytes() if on_disk.exists() else None)


def test_labels_from_class_folders_in_split_folders_with_odd_names(hub, api) -> None:
    files = {"train/cat/a b.PNG": b"cat-1", "train/Dog/c.JPG": b"dog-22", "train/cat/z.jpeg": b"cat-333",
             "test/Dog/y y.png": b"dog-4444", "test/cat/x.webp": b"cat-5", "README.md": b"# pets\n"}
    repo_id = publish(api, files)
    plan, tables = ours(hub.endpoint, repo_id)
    loaded, rows = theirs(repo_id, "image")
    assert plan.label_names == ("Dog", "cat") == tuple(loaded["train"].features["label"].names)
    assert_same(plan, tables, loaded, rows, "image")
    assert tables["train"].to_pylist()[1] == {"image": {"bytes": b"cat-1", "path": "a b.PNG"}, "label": 1}


def test_split_folders_without_classes(hub, api) -> None:
    repo_id = publish(api, {"train/1.png": b"one", "train/2.png": b"two", "test/3.png": b"three"})
    plan, tables = ours(hub.endpoint, repo_id)
    loaded, rows = theirs(repo_id, "image")
    assert_same(plan, tables, loaded, rows, "image")
    assert tables["train"].column("label").null_count == 2


def test_metadata_jsonl_extra_columns_a_file_without_a_row_and_a_row_without_a_file(hub, api) -> None:
    meta = [{"file_name": "imgs/b.png", "caption": "a bee", "score": 0.5, "tags": ["x", "y"]},
            {"file_name": "a.jpg", "caption": "an ant", "score": 1.5, "tags": []},
            {"file_name": "imgs/C D.GIF", "caption": None, "score": None, "tags": ["z"]},
            {"file_name": "gone.png", "caption": "not in the repo", "score": 0.0, "tags": []}]
    files = {"a.jpg": b"ant", "imgs/b.png": b"bee", "imgs/C D.GIF": b"cd", "imgs/orphan.png": b"no row",
             "metadata.jsonl": "".join(json.dumps(m) + "\n" for m in meta).encode()}
    repo_id = publish(api, files)
    plan, tables = ours(hub.endpoint, repo_id)
    loaded, rows = theirs(repo_id, "image")
    assert plan.schema.names == ["image", "caption", "score", "tags"]
    assert_same(plan, tables, loaded, rows, "image")
    # the orphan has no row; the row naming a missing file stays, without bytes (datasets: a dangling path)
    assert tables["train"].num_rows == 4
    assert tables["train"].column("image").to_pylist()[3] == {"bytes": None, "path": "gone.png"}


def test_audio_metadata_csv_per_split(hub, api, monkeypatch) -> None:
    # datasets' Audio.encode_example imports torch/torchcodec (not installed) before anything else; for a path
    # (all an audiofolder gives it) it returns {"bytes": None, "path": path}: the same, without the import
    original = datasets.Audio.encode_example
    monkeypatch.setattr(datasets.Audio, "encode_example", lambda self, value: {"bytes": None, "path": value}
                        if isinstance(value, str) else original(self, value))
    files = {"data/train/a.wav": b"RIFF-a", "data/train/sub/b.MP3": b"ID3-b", "data/test/c.flac": b"fLaC-c",
             "data/train/metadata.csv": b"file_name,speaker,seconds\nsub/b.MP3,bob,2.5\na.wav,ann,1\n",
             "data/test/metadata.csv": b"file_name,speaker,seconds\nc.flac,cy,3.5\n"}
    repo_id = publish(api, files)
    plan, tables = ours(hub.endpoint, repo_id)
    assert plan.builder == "audiofolder"
    loaded, rows = theirs(repo_id, "audio")
    assert_same(plan, tables, loaded, rows, "audio")
    assert tables["train"].column("speaker").to_pylist() == ["bob", "ann"]


def test_real_hub_mode_fetches_through_signed_urls(tmp_path) -> None:
    from tests.realhub.conftest import counts, start_hub

    real = start_hub(tmp_path / "real")
    try:
        api = HfApi(endpoint=real.endpoint, token=WRITE_TOKEN)
        files = {f"{c}/{i}.png": f"{c}{i}".encode() * 100 for c in ("cat", "dog") for i in range(3)}
        repo_id = publish(api, files)
        real.reset_counters()
        plan, tables = ours(real.endpoint, repo_id, shard_bytes=1000, token=READ_TOKEN)
        got = tables["train"].to_pylist()
        assert [(r["image"]["path"], r["label"]) for r in got] == [(f"{i}.png", c) for c in (0, 1) for i in range(3)]
        assert [r["image"]["bytes"] for r in got] == list(files.values())
        c = counts(real)
        assert c["cdn_with_token"] == 0 and c["limited"] == 0 and c["cdn"] >= len(files)
    finally:
        real.close()
