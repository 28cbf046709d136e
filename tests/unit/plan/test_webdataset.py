"""WebDataset planning without a hub process: member keys as `datasets` splits them, the header walker against
`tarfile`'s own listing, the schema and `huggingface` features `datasets` infers for the same tar, cuts at
sample boundaries, and (on an in-process hub) the requests indexing a large tar costs."""

from __future__ import annotations

import io
import json
import tarfile

import pyarrow as pa
import pytest

from hfconnect.errors import DataFileError
from hfconnect.hub.datafiles import resolve_layout
from hfconnect.hub.snapshot import RepoFileInfo
from hfconnect.options import ReadOptions
from hfconnect.plan.tarfiles import TarWindow, group_samples, index_members, iter_members, sample_runs, split_key
from hfconnect.plan.webdataset import (
    MEDIA_TYPE,
    column_kind,
    features_metadata,
    first_samples,
    infer_schema,
    plan_tars,
)


def tar_bytes(members: list[tuple[str, bytes]], fmt: int = tarfile.GNU_FORMAT, gz: bool = False,
              dirs: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=fmt) as t:
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            t.addfile(info)
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def samples(n: int, start: int = 0, big: int = 0) -> list[tuple[str, bytes]]:
    """Samples with an image (of `big` bytes when given), json, txt (missing in sample 6) and cls members."""
    out = []
    for i in range(start, start + n):
        out.append((f"a.b/s{i:04d}.jpg", b"\xff\xd8" + bytes([i % 256]) * (big or 20)))
        out.append((f"a.b/s{i:04d}.json", json.dumps({"i": i, "tags": ["x", str(i)]}).encode()))
        if i != 6:
            out.append((f"a.b/s{i:04d}.txt", f"caption {i}".encode()))
        out.append((f"a.b/s{i:04d}.cls", str(i % 7).encode()))
    return out


def window(data: bytes, size: int = 512) -> TarWindow:
    return TarWindow(lambda a, b: data[a:b], len(data), size, "o/n/x.tar")


@pytest.mark.parametrize("name", ["s1.jpg", "dir/s1.seg.png", "a.b/c.d/s1.JPG", "./s1.json", "x/noext", "x/.hidden.txt",
                                  "x/__meta.txt", "abc..txt", "a.b/c"])
def test_keys_split_as_datasets_does(name: str) -> None:
    from datasets.packaged_modules.webdataset.webdataset import base_plus_ext

    hidden = name.rsplit("/", 1)[-1].startswith((".", "__"))
    expected = None if hidden or base_plus_ext(name) == (None, None) else base_plus_ext(name)
    assert split_key(name) == expected


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_walker_finds_what_tarfile_lists(fmt: int) -> None:
    long_dir = "deep/" + "d" * 120 + "/"  # a long name: GNU long-name, pax path or the ustar prefix
    members = [(long_dir + "k1.txt", b"one"), ("k1.dat", b""), (long_dir + "k2.txt", b"x" * 1000)]
    data = tar_bytes(members, fmt=fmt, dirs=("deep/",))
    assert [(m.name, m.offset, m.size) for m in iter_members(window(data))] == listing(data)


def listing(data: bytes) -> list[tuple[str, int, int]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return [(i.name, i.offset_data, i.size) for i in t.getmembers() if i.isreg()]


@pytest.mark.parametrize("inner", [False, True])
def test_regions_walked_in_parallel_chain_into_tarfiles_listing(inner: bool) -> None:
    """Regions of ~20 KB walked from scanned candidate headers: the same members as one walk from the start, also
    when members are tars themselves (their headers are candidates the chain must reject) and when names are pax
    records spanning region boundaries."""
    members = []
    for i in range(60):
        key = f"{'p' * 150 if i % 5 == 0 else 'k'}/s{i:03d}"  # every fifth name needs a pax record
        body = tar_bytes([(f"inner{j}.txt", b"i" * 700) for j in range(8)]) if inner else bytes([i]) * 3000
        members += [(f"{key}.{'tar' if inner else 'bin'}", body), (f"{key}.txt", b"t" * (i * 37 % 900))]
    data = tar_bytes(members, fmt=tarfile.PAX_FORMAT)
    calls = []

    def fetch(a: int, b: int) -> bytes:
        calls.append((a, b))
        return data[a:b]

    index = index_members(fetch, len(data), "x", window=4096, max_window=1 << 20, concurrency=4,
                          region_bytes=10_000)
    assert [(m.name, m.offset, m.size) for m in index.members] == listing(data)
    assert index.requests == len(calls)


def test_samples_group_by_key_and_skip_hidden_members() -> None:
    data = tar_bytes([("k1.jpg", b"1"), ("k1.txt", b"t"), ("._k1.jpg", b"mac"), ("k2.jpg", b"2"), ("noext", b"?")])
    got = [(s.key, [f for f, _ in s.members]) for s in group_samples(iter_members(window(data)), "x")]
    assert got == [("k1", ["jpg", "txt"]), ("k2", ["jpg"])]


def test_a_field_twice_in_a_sample_is_an_error() -> None:
    data = tar_bytes([("k1.txt", b"a"), ("k1.txt", b"b")])
    with pytest.raises(DataFileError, match="twice"):
        list(group_samples(iter_members(window(data)), "o/n/x.tar"))


@pytest.mark.parametrize("damage", ["checksum", "truncated"])
def test_a_corrupt_tar_names_the_file(damage: str) -> None:
    data = bytearray(tar_bytes(samples(3)))
    if damage == "checksum":
        data[512 * 2 + 100] ^= 0xFF  # the second member's header
    else:
        data = data[:700]
    with pytest.raises(DataFileError, match="o/n/x.tar"):
        list(iter_members(window(bytes(data))))


def test_schema_and_features_are_what_datasets_infers(tmp_path, monkeypatch) -> None:
    """The same tar through `datasets.load_dataset("webdataset")` (local files): same columns, types, features."""
    import datasets

    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    members = samples(8) + [("a.b/s0099.seg.PNG", b"png")]
    (tmp_path / "train.tar").write_bytes(tar_bytes(members))
    ds = datasets.load_dataset("webdataset", data_files={"train": str(tmp_path / "train.tar")}, split="train",
                               cache_dir=str(tmp_path / "cache"))
    data = (tmp_path / "train.tar").read_bytes()
    win = window(data)
    rows = [(s.key, [(f, bytes(win.get(m.offset, m.size))) for f, m in s.members])
            for s in group_samples(iter_members(win), "x")]
    schema = infer_schema(rows, "x")
    assert schema.names == ds.column_names
    assert schema == ds.data.schema.remove_metadata()
    assert json.loads(schema.metadata[b"huggingface"]) == json.loads(ds.data.schema.metadata[b"huggingface"])


def test_columns_are_typed_by_extension() -> None:
    assert [column_kind(f) for f in ("jpg", "seg.PNG", "wav", "flac", "mp4", "json", "txt", "cls", "npy",
                                     "json.gz", "jpg.gz")] == \
        ["image", "image", "audio", "audio", "video", "json", "text", "int", "binary", "json", "binary"]
    meta = json.loads(features_metadata(pa.schema([("x.wav", MEDIA_TYPE), ("jpg", MEDIA_TYPE)]))[b"huggingface"])
    assert meta == {"info": {"features": {"x.wav": {"_type": "Audio"}, "jpg": {"_type": "Image"}}}}


def test_runs_cut_at_sample_starts_about_evenly() -> None:
    data = tar_bytes(samples(40, big=3000))
    found = list(group_samples(iter_members(window(data)), "x"))
    end = max(m.end for s in found for _, m in s.members)
    runs = sample_runs(found, end, 4)
    assert len(runs) == 4 and runs[0][0] == 0 and runs[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(runs, runs[1:], strict=False))
    assert sum(len(r[2]) for r in runs) == 40 and all(len(r[2]) == 10 for r in runs)


def test_tar_files_resolve_as_datasets_resolves_them() -> None:
    files = [RepoFileInfo(p, 10, "x") for p in ("train/000.tar", "train/001.tar.gz", "test/000.tar",
                                                "test/notes.csv", "README.md")]
    layout = resolve_layout(files)
    got = {s: [f.path for f in fs] for s, fs in layout.configs["default"].items()}
    assert got == {"train": ["train/000.tar", "train/001.tar.gz"], "test": ["test/000.tar"]}
    assert {f.format for fs in layout.configs["default"].values() for f in fs} == {"webdataset"}


def test_card_configs_name_tars() -> None:
    files = [RepoFileInfo(p, 10, "x") for p in ("clips/a-000.tar", "clips/a-001.tar", "clips/b.tar.gz", "x.csv")]
    card = {"configs": [{"config_name": "clips", "data_files": [{"split": "train", "path": "clips/a-*.tar"},
                                                                {"split": "extra", "path": "clips/*.tar.gz"}]}]}
    layout = resolve_layout(files, card)
    got = {s: [f.path for f in fs] for s, fs in layout.configs["clips"].items()}
    assert got == {"train": ["clips/a-000.tar", "clips/a-001.tar"], "extra": ["clips/b.tar.gz"]}


def test_indexing_a_large_tar_reads_only_headers(inproc_hub) -> None:
    """A tar of 200 samples with 20 KB images: its index costs about one small request per sample, a sliver of
    the file; the first samples for the schema cost one request."""
    data = tar_bytes(samples(200, big=20_000))
    sha = inproc_hub.dataset("o/large-tar", {"train/000.tar": data})
    opts = ReadOptions.build(repo="o/large-tar", endpoint=inproc_hub.endpoint)
    from hfconnect.hub.datafiles import DataFile
    from hfconnect.hub.snapshot import Snapshot

    snapshot = Snapshot("o/large-tar", sha, "main", inproc_hub.endpoint)
    f = DataFile("train/000.tar", len(data), "webdataset")
    before = inproc_hub.downloads()
    plan = plan_tars(opts.client, snapshot, [("train", f)], len(data) // 5)
    assert plan.schema_requests == 1
    assert len(plan.units) == 5 and plan.index_requests <= 210
    assert plan.index_bytes < len(data) // 5  # 4 KiB per sample of ~24 KB
    assert inproc_hub.downloads() - before <= plan.index_requests + plan.schema_requests + 2  # + resolves
    parts = [p for p, _ in plan.units]
    assert sum(len({n.rsplit(".", 1)[0] for n, _, _ in p.members}) for p in parts) == 200
    assert all(p.byte_range[1] == q.byte_range[0] for p, q in zip(parts, parts[1:], strict=False))


def test_first_samples_of_a_tar_gz_come_from_its_first_bytes(inproc_hub) -> None:
    data = tar_bytes(samples(300, big=5_000), gz=True)
    sha = inproc_hub.dataset("o/gz", {"train/000.tar.gz": data})
    from hfconnect.hub.datafiles import DataFile
    from hfconnect.hub.snapshot import Snapshot

    opts = ReadOptions.build(repo="o/gz", endpoint=inproc_hub.endpoint)
    rows, requests = first_samples(opts.client, Snapshot("o/gz", sha, "main", inproc_hub.endpoint),
                                   DataFile("train/000.tar.gz", len(data), "webdataset"))
    assert [key for key, _ in rows] == [f"a.b/s{i:04d}" for i in range(5)] and requests == 1


def test_many_tars_are_read_whole_unless_tasks_would_be_too_few(inproc_hub) -> None:
    """Indexing costs a request per sample: with more than two tars per core each tar is one task, unless
    min_shards asks for more tasks than there are tars."""
    from hfconnect.plan import plan_read

    inproc_hub.dataset("o/many", {f"train/{i:03d}.tar": tar_bytes(samples(20, 20 * i, big=5_000)) for i in range(3)})

    def parts(**kw: str) -> list:
        plan = plan_read(ReadOptions.build(repo="o/many", endpoint=inproc_hub.endpoint, shard_size="40KB", **kw),
                         parallelism=1)
        return [p for s in plan.shards for p in s.parts]

    assert all(p.members is None for p in parts()) and len(parts()) == 3
    cut = parts(min_shards="6")
    assert len(cut) >= 6 and all(p.members for p in cut)
