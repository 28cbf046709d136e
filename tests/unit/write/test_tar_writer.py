"""write.tar_writer: rows -> WebDataset tar shards that WebDataset readers (datasets' builder, tarfile) read back as
the same samples; deterministic bytes; rolled between samples; clear errors for columns and keys no reader takes."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pyarrow as pa
import pytest
from PIL import Image

from hfconnect.errors import OptionError
from hfconnect.features import MEDIA_STORAGE
from hfconnect.write.tar_writer import RollingTarWriter


def _png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (shade, 0, 255 - shade)).save(out, format="PNG")
    return out.getvalue()


def _batch(start: int, n: int, keys: bool = True) -> pa.RecordBatch:
    cols = {
        "png": pa.array([{"bytes": _png(i % 256), "path": None} for i in range(start, start + n)], MEDIA_STORAGE),
        "txt": pa.array([f"caption {i}" for i in range(start, start + n)]),
        "cls": pa.array([i % 3 for i in range(start, start + n)], pa.int64()),
        "json": pa.array([{"id": i, "tags": ["a", "b"][: i % 3]} for i in range(start, start + n)]),
    }
    if keys:
        cols = {"__key__": pa.array([f"shard/s{i:04d}" for i in range(start, start + n)]), **cols}
    return pa.RecordBatch.from_pydict(cols)


def _members(path: str) -> list[tuple[str, bytes]]:
    with tarfile.open(path) as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]


def test_rows_become_samples_with_a_member_per_column(tmp_path: Path) -> None:
    batch = _batch(0, 3)
    w = RollingTarWriter(batch.schema, 10**9, str(tmp_path))
    w.write(batch)
    [f] = w.close()
    members = _members(f.local_path)
    assert [name for name, _ in members[:4]] == ["shard/s0000.png", "shard/s0000.txt", "shard/s0000.cls",
                                                  "shard/s0000.json"]
    assert dict(members)["shard/s0002.png"] == _png(2) and dict(members)["shard/s0002.cls"] == b"2"
    assert json.loads(dict(members)["shard/s0002.json"]) == {"id": 2, "tags": ["a", "b"]}
    assert f.rows == 3 and f.size == Path(f.local_path).stat().st_size
    assert f.sha256 == __import__("hashlib").sha256(Path(f.local_path).read_bytes()).hexdigest()


def test_datasets_webdataset_builder_reads_the_same_samples(tmp_path: Path) -> None:
    import datasets

    batch = _batch(0, 5)
    w = RollingTarWriter(batch.schema, 10**9, str(tmp_path))
    w.write(batch)
    [f] = w.close()
    ds = datasets.load_dataset("webdataset", data_files={"train": [f.local_path]}, split="train",
                               cache_dir=str(tmp_path / "cache"))
    assert ds["__key__"] == [f"shard/s{i:04d}" for i in range(5)]
    assert ds["txt"] == [f"caption {i}" for i in range(5)] and ds["cls"] == [i % 3 for i in range(5)]
    assert ds["json"][4] == {"id": 4, "tags": ["a"]}
    assert isinstance(ds.features["png"], datasets.Image)
    assert ds[3]["png"].getpixel((0, 0)) == (3, 0, 252)


def test_generated_keys_deterministic_bytes_and_rolling(tmp_path: Path) -> None:
    def write(max_size: int) -> list:
        w = RollingTarWriter(_batch(0, 1, keys=False).schema, max_size, str(tmp_path), key_prefix="p00001_")
        for start in range(0, 40, 10):
            w.write(_batch(start, 10, keys=False))
        return w.close()

    one, again = write(10**9), write(10**9)
    assert len(one) == 1 and one[0].sha256 == again[0].sha256  # same rows, same bytes: a re-write dedupes
    names = [n for n, _ in _members(one[0].local_path)]
    assert names[0] == "p00001_000000000.png" and names[-1] == "p00001_000000039.json"
    rolled = write(20_000)
    assert len(rolled) > 1 and sum(f.rows for f in rolled) == 40
    keys = [n.split(".")[0] for f in rolled for n, _ in _members(f.local_path)]
    assert len(set(keys)) == 40 and all(f.size >= 20_000 for f in rolled[:-1])  # cut between samples only


def test_nulls_write_no_member_and_an_empty_job_writes_an_empty_tar(tmp_path: Path) -> None:
    batch = pa.RecordBatch.from_pydict({"__key__": ["a", "b"], "txt": ["x", None], "cls": [1, 2]})
    w = RollingTarWriter(batch.schema, 10**9, str(tmp_path))
    w.write(batch)
    assert [n for n, _ in _members(w.close()[0].local_path)] == ["a.txt", "a.cls", "b.cls"]
    empty = RollingTarWriter(batch.schema, 10**9, str(tmp_path)).close(at_least_one=True)
    assert len(empty) == 1 and empty[0].rows == 0 and _members(empty[0].local_path) == []


@pytest.mark.parametrize(("schema", "message"), [
    (pa.schema([("a/b", pa.string())]), "cannot be a member's extension"),
    (pa.schema([("t", pa.timestamp("s"))]), "no WebDataset reader decodes"),
    (pa.schema([("__key__", pa.string())]), "no column to write"),
])
def test_columns_no_reader_takes_are_refused(tmp_path: Path, schema: pa.Schema, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        RollingTarWriter(schema, 10**9, str(tmp_path))


@pytest.mark.parametrize(("keys", "txt", "message"), [
    (["ok", "dir.v2/bad.key"], ["x", "y"], "cannot name a sample"),
    (["ok", "dir/__hidden"], ["x", "y"], "cannot name a sample"),
    (["ok", "dir/"], ["x", "y"], "cannot name a sample"),
    (["same", "same"], ["x", "y"], "two consecutive rows have __key__ 'same'"),
    (["ok", "empty"], ["x", None], "every column of the row with key 'empty' is null"),
])
def test_rows_readers_would_lose_or_merge_are_refused_and_abort_leaves_nothing(
        tmp_path: Path, keys: list[str], txt: list, message: str) -> None:
    batch = pa.RecordBatch.from_pydict({"__key__": keys, "txt": txt})
    w = RollingTarWriter(batch.schema, 10**9, str(tmp_path))
    with pytest.raises(OptionError, match=message):
        w.write(batch)
    w.abort()
    assert list(tmp_path.iterdir()) == []
