"""Reading WebDataset tars on an in-process hub: every way in (a large tar's indexed parts, a small tar walked, a
.tar.gz streamed) gives the same rows; columns not asked for are never fetched; filters are exact; a tar
corrupt past its first samples fails its task naming the file."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hfconnect.errors import DataFileError
from hfconnect.options import ReadOptions
from hfconnect.plan import plan_read
from hfconnect.read import read_shard
from tests.unit.plan.test_webdataset import samples, tar_bytes

IMAGE = 30_000
N = 60


def read(plan) -> pa.Table:
    return pa.Table.from_batches([b for s in plan.shards for b in read_shard(plan, s)], schema=plan.schema)


@pytest.fixture
def repo(inproc_hub):
    """train: two tars of 60 samples with 30 KB images; test: one .tar.gz of the same samples as train's first."""
    files = {"train/000.tar": tar_bytes(samples(N, big=IMAGE)), "train/001.tar": tar_bytes(samples(N, N, big=IMAGE)),
             "test/000.tar.gz": tar_bytes(samples(N, big=IMAGE), gz=True)}
    inproc_hub.dataset("o/wds", files)
    return inproc_hub


def opts(hub, **kw) -> ReadOptions:
    return ReadOptions.build(repo="o/wds", endpoint=hub.endpoint, **kw)


def expected_row(i: int, path: str, sha: str) -> dict:
    return {"jpg": {"bytes": b"\xff\xd8" + bytes([i % 256]) * IMAGE, "path": f"a.b/s{i:04d}.jpg"},
            "json": {"i": i, "tags": ["x", str(i)]}, "txt": None if i == 6 else f"caption {i}", "cls": i % 7,
            "__key__": f"a.b/s{i:04d}", "__url__": f"hf://datasets/o/wds@{sha}/{path}"}


def test_indexed_parts_walked_tars_and_tar_gz_give_the_same_rows(repo) -> None:
    whole = plan_read(opts(repo))
    cut = plan_read(opts(repo, shard_size="400KB"))
    assert len(whole.shards) == 1 and whole.shards[0].parts[0].members is None
    assert len(cut.shards) >= 8 and all(p.members for s in cut.shards for p in s.parts)
    sha = whole.snapshot.sha
    want = [expected_row(i, f"train/00{i // N}.tar", sha) for i in range(2 * N)]
    assert read(whole).to_pylist() == want
    assert read(cut).to_pylist() == want
    test = read(plan_read(opts(repo, split="test", shard_size="400KB")))
    assert test.to_pylist() == [expected_row(i, "test/000.tar.gz", sha) for i in range(N)]


@pytest.mark.parametrize("shard_size", ["400KB", "128MB"])
def test_columns_not_asked_for_are_never_fetched(repo, shard_size: str) -> None:
    """Reading txt and cls fetches none of the 30 KB images, from an indexed tar (exact member ranges) as from
    a walked one (header windows of a few KB)."""
    plan = plan_read(opts(repo, columns=["__key__", "txt", "cls"], shard_size=shard_size))
    before = repo.bytes_sent()
    got = read(plan)
    fetched = repo.bytes_sent() - before
    assert got.num_rows == 2 * N and got.column("cls").to_pylist() == [i % 7 for i in range(2 * N)]
    images = 2 * N * IMAGE
    assert fetched < images / 5, fetched
    if shard_size == "400KB":  # the index: only the wanted members' bytes (and headers between adjacent ones)
        assert fetched < 2 * N * 4 * 512


def test_filters_on_key_txt_and_cls_are_exact(repo) -> None:
    expr = (pc.field("cls") == 3) & (pc.field("__key__") != "a.b/s0003") | (pc.field("txt") == "caption 100")
    plan = plan_read(opts(repo, shard_size="400KB"), filter=expr, columns=["__key__"])
    got = read(plan).column("__key__").to_pylist()
    want = [f"a.b/s{i:04d}" for i in range(2 * N) if (i % 7 == 3 and i != 3) or i == 100]
    assert got == want and plan.schema.names == ["__key__"]


def test_json_that_does_not_fit_the_first_samples_type_names_the_file(inproc_hub) -> None:
    members = samples(8) + [("a.b/z.json", json.dumps({"i": "not a number", "tags": []}).encode())]
    inproc_hub.dataset("o/bad-json", {"train.tar": tar_bytes(members)})
    plan = plan_read(ReadOptions.build(repo="o/bad-json", endpoint=inproc_hub.endpoint))
    with pytest.raises(DataFileError, match=r"o/bad-json/train\.tar: column 'json'"):
        read(plan)


def test_a_tar_corrupt_past_its_first_samples_fails_naming_it(inproc_hub) -> None:
    data = bytearray(tar_bytes(samples(40, big=2000)))
    data[len(data) // 2: len(data) // 2 + 2048] = b"\x07" * 2048  # headers in the middle destroyed
    inproc_hub.dataset("o/corrupt", {"train/000.tar": bytes(data)})
    plan = plan_read(ReadOptions.build(repo="o/corrupt", endpoint=inproc_hub.endpoint))
    with pytest.raises(DataFileError, match=r"o/corrupt/train/000\.tar: not a valid tar file"):
        read(plan)
    with pytest.raises(DataFileError, match=r"o/corrupt/train/000\.tar"):  # indexing while planning
        plan_read(ReadOptions.build(repo="o/corrupt", endpoint=inproc_hub.endpoint, shard_size="20KB"))


def test_a_whole_tar_read_through_small_windows_reads_ahead(repo, monkeypatch) -> None:
    """Windows smaller than the members: each fetch takes the window read ahead and fetches the rest."""
    import hfconnect.read.webdataset as reader

    monkeypatch.setattr(reader, "WALK_WINDOW", 4096)
    plan = plan_read(opts(repo))
    assert read(plan).column("__key__").to_pylist() == [f"a.b/s{i:04d}" for i in range(2 * N)]

