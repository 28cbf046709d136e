"""WebDataset repos through the real local hub: Spark and Daft (both readers) give the rows `datasets`' webdataset
builder gives for the same files (images, json, txt, cls members, a sample missing its txt, dots in directory
names, an uppercase and a two-dot extension), a large tar read by several tasks, the features in the plan's
schema; and the WebDataset examples of docs/media.md as written."""

from __future__ import annotations

import io
import json
import random
import tarfile
import uuid
from typing import Any

import pytest

from hfconnect.errors import DataFileError
from hfconnect.options import ReadOptions
from hfconnect.plan import plan_read

pytestmark = pytest.mark.integration

datasets = pytest.importorskip("datasets")
REPO = "me/street-signs"  # the README examples' repo
PAGE, README_SECTION = "docs/media.md", "WebDataset"
SPLITS = {"train": ("train/0000.tar", "train/0001.tar"), "test": ("test/0000.tar",)}
SAMPLES = {"train/0000.tar": (0, 12), "train/0001.tar": (12, 48), "test/0000.tar": (100, 6)}

SPARK_EXAMPLE = '''\
# spark: a SparkSession (see Quickstart). me/street-signs holds train/*.tar and test/*.tar shards whose
# samples are a .jpg, a .seg.PNG, a .json, a .txt and a .cls member each
signs = spark.read.format("huggingface").load("me/street-signs")
signs.printSchema()  # jpg, seg.PNG: struct<bytes, path> (Image); json: struct<...>; txt; cls: long; __key__; __url__
signs.where("cls = 2").select("__key__", "json.label").show(3, truncate=False)
# Only the members of the columns read are fetched. Spark tells a Python source no .select(): name them
captions = spark.read.format("huggingface").option("columns", "__key__,txt").load("me/street-signs")
print(captions.where("__key__ like '%cam-01%'").count())  # reads no image bytes
'''

DAFT_EXAMPLE = '''\
import hfconnect.daft

signs = hfconnect.daft.read_huggingface("me/street-signs", split="train")
print(signs.schema())
print(signs.where(signs["cls"] == 2).select("__key__", "txt").limit(3).to_pylist())
# a large tar is cut into tasks at sample boundaries (hfconnect's reader; shard_size sets the task size)
signs = hfconnect.daft.read_huggingface("me/street-signs", split="train", reader="hfconnect", shard_size="256KB")
print(signs.count_rows())
'''


def jpeg(seed: int, size: int) -> bytes:
    """A real JPEG of noise (about size*size/2 bytes)."""
    from PIL import Image

    rng = random.Random(seed)
    img = Image.frombytes("RGB", (size, size), bytes(rng.randrange(256) for _ in range(size * size * 3)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def png(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (4, 4), seed % 256).save(buf, "PNG")
    return buf.getvalue()


def signs_tar(start: int, count: int, image: int) -> bytes:
    """Samples `start`..: shots.v2/cam-NN/img_NNNN with jpg, seg.PNG, json, txt (sample 7 has none) and cls."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(start, start + count):
            key = f"shots.v2/cam-{i % 3:02d}/img_{i:04d}"
            members = [("jpg", jpeg(i, image)), ("seg.PNG", png(i)),
                       ("json", json.dumps({"label": f"sign {i % 4}", "bbox": [i, i + 1, 10, 12]}).encode())]
            if i != 7:
                members.append(("txt", f"a sign on camera {i % 3}".encode()))
            members.append(("cls", str(i % 4).encode()))
            for ext, data in members:
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="module")
def signs(api) -> dict[str, Any]:
    """The README's repo: 2 train tars (the second ~0.8 MB, 48 samples) and a test tar."""
    from huggingface_hub import CommitOperationAdd

    files = {path: signs_tar(*SAMPLES[path], image=48 if path == "train/0001.tar" else 16) for path in SAMPLES}
    api.create_repo(REPO, repo_type="dataset", exist_ok=True)
    sha = api.create_commit(REPO, repo_type="dataset", commit_message="WebDataset shards",
                            operations=[CommitOperationAdd(p, d) for p, d in files.items()]).oid
    loaded = datasets.load_dataset(REPO, revision=sha)
    return {"sha": sha, "files": files, "datasets": loaded}


def expected(signs: dict[str, Any], split: str) -> list[dict[str, Any]]:
    """`datasets`' rows (raw Arrow: images not decoded) without `__url__` (a local cache path there)."""
    table = signs["datasets"][split].with_format("arrow")[:]
    return table.drop_columns(["__url__"]).to_pylist()


def urls(signs: dict[str, Any], split: str) -> list[str]:
    return [f"hf://datasets/{REPO}@{signs['sha']}/{path}" for path in SPLITS[split]
            for _ in range(SAMPLES[path][1])]


def plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spark's bytearrays as bytes."""
    def fix(v: Any) -> Any:
        if isinstance(v, bytearray):
            return bytes(v)
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v
    return [fix(r) for r in rows]


def test_the_plan_has_datasets_columns_types_and_features(hub, signs) -> None:
    ds = signs["datasets"]["train"]
    plan = plan_read(ReadOptions.build(repo=REPO, endpoint=hub.endpoint, revision=signs["sha"], split="train"))
    assert plan.schema.names == ds.column_names
    assert plan.schema.remove_metadata() == ds.data.schema.remove_metadata()
    assert json.loads(plan.schema.metadata[b"huggingface"]) == json.loads(ds.data.schema.metadata[b"huggingface"])
    assert ds.features["jpg"] == datasets.Image() and ds.features["seg.PNG"] == datasets.Image()


@pytest.mark.parametrize("shard_size", [None, "200KB"])
def test_spark_reads_the_rows_datasets_reads(spark, hub, signs, shard_size: str | None) -> None:
    for split in SPLITS:
        reader = spark.read.format("huggingface").option("split", split).option("revision", signs["sha"])
        if shard_size:
            reader = reader.option("shard_size", shard_size)
        df = reader.load(REPO)
        if shard_size and split == "train":
            assert df.rdd.getNumPartitions() >= 4  # the 0.8 MB tar cut at sample boundaries
        got = plain([r.asDict(recursive=True) for r in df.collect()])
        assert [r.pop("__url__") for r in got] == urls(signs, split)
        assert got == expected(signs, split), split
        assert df.columns == signs["datasets"][split].column_names


def test_spark_projection_and_filters(spark, hub, signs) -> None:
    df = spark.read.format("huggingface").option("revision", signs["sha"]).load(REPO)
    rows = df.where("cls = 2 and txt is not null").select("__key__", "json.label").collect()
    assert [(r["__key__"], r["label"]) for r in rows] == [
        (f"shots.v2/cam-{i % 3:02d}/img_{i:04d}", "sign 2") for i in range(60) if i % 4 == 2]


@pytest.mark.parametrize("reader", ["native", "hfconnect"])
def test_daft_reads_the_rows_datasets_reads(hub, signs, reader: str) -> None:
    import hfconnect.daft

    kw = {"shard_size": "200KB"} if reader == "hfconnect" else {}
    for split in SPLITS:
        df = hfconnect.daft.read_huggingface(REPO, split=split, revision=signs["sha"], reader=reader, **kw)
        got = df.to_arrow().to_pylist()
        assert [r.pop("__url__") for r in got] == urls(signs, split)
        assert got == expected(signs, split), (split, reader)
    narrow = hfconnect.daft.read_huggingface(REPO, split="train", revision=signs["sha"], reader=reader, **kw)
    keys = narrow.where(narrow["cls"] == 1).select("__key__").to_pydict()["__key__"]
    assert keys == [f"shots.v2/cam-{i % 3:02d}/img_{i:04d}" for i in range(60) if i % 4 == 1]
    every = hfconnect.daft.read_huggingface(REPO, revision=signs["sha"], reader=reader, **kw)  # split="all"
    counts = every.groupby("split").count("__key__").to_pydict()
    assert dict(zip(counts["split"], counts["__key__"], strict=True)) == {"train": 60, "test": 6}


def test_a_corrupt_tar_fails_naming_the_file(spark, hub, api) -> None:
    """Garbage where a tar's first header should be: Spark's and Daft's errors say which file and what is wrong."""
    from huggingface_hub import CommitOperationAdd
    from pyspark.errors import AnalysisException

    import hfconnect.daft

    repo = f"tests/corrupt-wds-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset")
    api.create_commit(repo, repo_type="dataset", commit_message="bad", operations=[
        CommitOperationAdd("train/0000.tar", b"not a tar " * 200)])
    with pytest.raises(AnalysisException, match=rf"{repo}/train/0000\.tar: not a valid tar file"):
        spark.read.format("huggingface").load(repo).collect()
    with pytest.raises(DataFileError, match=rf"{repo}/train/0000\.tar: not a valid tar file"):
        hfconnect.daft.read_huggingface(repo)


def readme_blocks(marker_test: str) -> list[str]:
    """The WebDataset blocks of docs/media.md that name `marker_test`."""
    from tests.readme.blocks import section_blocks

    return [b.text for b in section_blocks(README_SECTION, PAGE) if b.marker and marker_test in b.marker[1]]


def test_the_readme_examples(spark, hub, signs, capsys) -> None:
    """Both examples of docs/media.md as written, in this process (HF_ENDPOINT is the session hub)."""
    blocks = readme_blocks("tests/read/test_webdataset.py")
    assert blocks == [SPARK_EXAMPLE, DAFT_EXAMPLE], "docs/media.md's examples and this test's copies differ"
    exec(SPARK_EXAMPLE, {"spark": spark})  # noqa: S102 - the README's example, verbatim
    out = capsys.readouterr().out
    assert "jpg: struct" in out and "|shots.v2/cam-02/img_0002|sign2|" in out.replace(" ", "")
    assert out.strip().splitlines()[-1] == "20"  # 60 train + 6 test samples, those of camera 1 with a txt
    exec(DAFT_EXAMPLE, {})  # noqa: S102
    out = capsys.readouterr().out
    assert "'__key__': 'shots.v2/cam-02/img_0002', 'txt': 'a sign on camera 2'" in out
    assert out.strip().splitlines()[-1] == "60"
