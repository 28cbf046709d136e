"""Image, audio and video columns from Spark: written with the Hub's features (every file's `huggingface` metadata
and the card), loaded by `datasets` as decoded images with the same pixels; read back with each column's feature
in its StructField's metadata, so a DataFrame written back keeps it. Also runs docs/media.md's Spark example."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import WRITE_TOKEN
from tests.data import png_bytes, wav_bytes

pytestmark = pytest.mark.integration

datasets = pytest.importorskip("datasets")
PAGE, README_SECTION = "docs/media.md", "Image, audio and video columns"


def _png(color: tuple[int, int, int]) -> bytes:
    return png_bytes(color, (6, 4))


def _wav(seed: int, frames: int = 64) -> bytes:
    return wav_bytes(bytes((seed + i) % 256 for i in range(frames * 2)), rate=8000)


def _files(api, repo: str) -> list[str]:
    return sorted(f for f in api.list_repo_files(repo, repo_type="dataset") if f.endswith(".parquet"))


def test_spark_media_columns_load_in_datasets_as_images_and_audio(spark, hub, api) -> None:
    """struct<bytes, path> and binary columns named by option `features`: the features in every file and the card,
    rows in row groups of 100, the same pixels and audio bytes back from `datasets`."""
    from datasets import Audio, Image

    repo = f"tests/media-{uuid.uuid4().hex[:8]}"
    rows = [(i, {"bytes": _png((i, 255 - i, 7)), "path": f"img/{i}.png"}, _wav(i), i % 3) for i in range(240)]
    df = spark.createDataFrame(rows, "id long, image struct<bytes: binary, path: string>, sound binary, n int")
    (df.repartition(2).write.format("huggingface").mode("append").option("endpoint", hub.endpoint)
     .option("token", WRITE_TOKEN)
     .option("features", '{"image": "Image", "sound": {"_type": "Audio", "sampling_rate": 8000}}')
     .save(repo))
    files = _files(api, repo)
    assert len(files) == 2  # one per task: 120 rows each
    for name in files:
        meta = pq.ParquetFile(api.hf_hub_download(repo, name, repo_type="dataset"))
        assert json.loads(meta.schema_arrow.metadata[b"huggingface"]) == {"info": {"features": {
            "image": {"_type": "Image"}, "sound": {"_type": "Audio", "sampling_rate": 8000}}}}
        assert [meta.metadata.row_group(i).num_rows for i in range(meta.metadata.num_row_groups)] == [100, 20]
    card = api.hf_hub_download(repo, "README.md", repo_type="dataset")
    assert "dtype: image" in Path(card).read_text()
    ds = datasets.load_dataset(repo, split="train")
    assert ds.features["image"] == Image() and ds.features["sound"] == Audio(sampling_rate=8000)
    ds = ds.sort("id").cast_column("sound", Audio(decode=False))  # decoding audio needs torchcodec
    for i in (0, 117, 239):
        assert ds["image"][i].getpixel((5, 3)) == (i, 255 - i, 7)
        assert ds["sound"][i]["bytes"] == _wav(i)
    assert ds["image"][3].size == (6, 4)


def test_a_wrong_features_option_fails_before_anything_is_written(spark, hub, api) -> None:
    repo = f"tests/media-bad-{uuid.uuid4().hex[:8]}"
    df = spark.createDataFrame([(1, "a.png")], "id long, image string")
    with pytest.raises(Exception, match=re.escape("'image' is string: an Image column must be binary")):
        (df.write.format("huggingface").mode("append").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
         .option("features", "image=Image").save(repo))  # the other wrong options: tests/unit/test_features.py
    assert not api.repo_exists(repo, repo_type="dataset")


def _datasets_repo(api, tmp_path: Path) -> tuple[str, object]:
    """A repo `datasets` wrote (its Parquet and card): Image, ClassLabel, a list, a fixed-length list, Array2D."""
    import numpy as np
    from datasets import Array2D, ClassLabel, Features, Image, List, Value

    features = Features({"img": Image(), "label": ClassLabel(names=["cat", "dog", "eel"]),
                         "tags": List(Value("string")), "pair": List(Value("int16"), length=2),
                         "grid": Array2D((2, 2), "float32")})
    ds = datasets.Dataset.from_dict({
        "img": [_png((10 * i, 0, 0)) for i in range(5)], "label": [i % 3 for i in range(5)],
        "tags": [["a"] * i for i in range(5)], "pair": [[i, -i] for i in range(5)],
        "grid": [np.full((2, 2), i, "float32") for i in range(5)]}, features=features)
    repo = f"tests/dsw-{uuid.uuid4().hex[:8]}"
    ds.push_to_hub(repo, token=WRITE_TOKEN)
    return repo, features


def test_a_read_keeps_the_features_and_a_write_back_keeps_them(spark, hub, api, tmp_path: Path) -> None:
    """A `datasets`-written repo read by Spark: each column's feature in its StructField's metadata; the same
    DataFrame written back (no option) loads in `datasets` with the same features and pixels."""
    from hfconnect.spark import write

    source, features = _datasets_repo(api, tmp_path)
    df = spark.read.format("huggingface").option("endpoint", hub.endpoint).load(source)
    metadata = {f.name: f.metadata for f in df.schema.fields}
    assert json.loads(metadata["img"]["huggingface.feature"]) == {"_type": "Image"}
    assert json.loads(metadata["label"]["huggingface.feature"])["names"] == ["cat", "dog", "eel"]
    assert "huggingface.feature" not in metadata["tags"]  # list<string>: the Arrow type says it all
    target = f"tests/back-{uuid.uuid4().hex[:8]}"
    write(df.select("img", "label", "tags", "pair", "grid"), target, endpoint=hub.endpoint, token=WRITE_TOKEN)
    back = datasets.load_dataset(target, split="train")
    assert back.features == features
    original = datasets.load_dataset(source, split="train")
    assert back.sort("label").to_dict()["pair"] == original.sort("label").to_dict()["pair"]
    got = {row["grid"][0][0]: row["img"].getpixel((0, 0)) for row in back}
    assert got == {float(i): (10 * i, 0, 0) for i in range(5)}
    again = spark.read.format("huggingface").option("endpoint", hub.endpoint).load(target)  # and once more
    assert {f.name: f.metadata for f in again.schema.fields}["img"] == metadata["img"]


SPARK_EXAMPLE = '''import io
from PIL import Image
from datasets import load_dataset

def png(color):
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buf, format="PNG")
    return buf.getvalue()

# spark: a SparkSession (see Quickstart)
pets = spark.createDataFrame([(1, png("red"), 0), (2, png("blue"), 1)], "id long, image binary, label int")
pets.write.format("huggingface").mode("overwrite").option("features", "image=Image").save("me/pets")

pets_ds = load_dataset("me/pets", split="train")
print(pets_ds.features["image"])        # Image(mode=None, decode=True)
print(pets_ds["image"][0].getpixel((0, 0)))  # (255, 0, 0): a PIL image
'''


def readme_block(marker_test: str) -> str | None:
    """The block of docs/media.md's section that names `marker_test`."""
    from tests.readme.blocks import section_blocks

    found = [b.text for b in section_blocks(README_SECTION, PAGE) if b.marker and marker_test in b.marker[1]]
    return found[0] if found else None


def test_the_readme_spark_example(hub, tmp_path: Path) -> None:
    """As a reader runs it: a Python of its own (its Spark workers see HF_TOKEN), the session hub as HF_ENDPOINT."""
    in_readme = readme_block("tests/spark/test_media_features.py")
    assert in_readme == SPARK_EXAMPLE, "docs/media.md's example and this test's copy differ"
    session = ('from pyspark.sql import SparkSession\n'
               'spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()\n'
               'spark.sparkContext.setLogLevel("ERROR")\n')
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_TOKEN": WRITE_TOKEN, "PYSPARK_PYTHON": sys.executable,
           "HF_HOME": str(tmp_path / "hf-home")}
    run = subprocess.run([sys.executable, "-c", session + SPARK_EXAMPLE], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert re.search(r"Image\(mode=None, decode=True", run.stdout) and "(255, 0, 0)" in run.stdout, run.stdout
