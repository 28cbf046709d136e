"""Parity with `datasets`: a repo `datasets` wrote with every kind of feature hfconnect carries (Image, Audio, Video,
a list of images, an image in a struct, ClassLabel, lists with and without a length, Array2D), read by Spark and
written back with `df.write.format("huggingface")`, loads in `datasets` with the same features and values."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pyarrow as pa
import pytest

from tests.conftest import WRITE_TOKEN
from tests.data import png_bytes, wav_bytes

pytestmark = pytest.mark.integration

datasets = pytest.importorskip("datasets")
N = 8


def _png(i: int) -> bytes:
    return png_bytes((i * 20, 255 - i, 3), (4, 4))


def _wav(i: int) -> bytes:
    return wav_bytes(bytes((i + k) % 256 for k in range(64)), rate=8000)


def _features():
    from datasets import Array2D, Audio, ClassLabel, Features, Image, List, Value, Video

    return Features({
        "id": Value("int64"), "image": Image(), "audio": Audio(sampling_rate=8000), "video": Video(),
        "frames": List(Image()), "meta": {"thumb": Image(), "caption": Value("string")},
        "label": ClassLabel(names=["neg", "pos", "neutral"]), "tags": List(Value("string")),
        "xy": List(Value("float32"), length=2), "grid": Array2D((2, 3), "int32")})


def _source_table() -> pa.Table:
    """The rows in the features' storage, with `datasets`' metadata: how `datasets` holds them (encoding audio
    and video through `datasets` needs torchcodec)."""
    features = _features()
    media = lambda b, p: {"bytes": b, "path": p}  # noqa: E731
    table = pa.table({
        "id": list(range(N)), "image": [media(_png(i), f"{i}.png") for i in range(N)],
        "audio": [media(_wav(i), f"{i}.wav") for i in range(N)],
        "video": [media(b"\x00\x00\x00\x18ftypmp42", None)] * N,
        "frames": [[media(_png(i + k), None) for k in range(i % 3)] for i in range(N)],
        "meta": [{"thumb": media(_png(i), None), "caption": f"c{i}"} for i in range(N)],
        "label": [i % 3 for i in range(N)], "tags": [["x"] * (i % 2) for i in range(N)],
        "xy": [[i, -i] for i in range(N)],
        "grid": [(np.arange(6, dtype="int32").reshape(2, 3) + i).tolist() for i in range(N)],
    }, schema=features.arrow_schema)
    return table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features.to_dict()}})})


def _storage(ds) -> dict:
    """Every column's values undecoded."""
    from datasets import Audio, Image, List, Video

    for name, feature in ds.features.items():
        if isinstance(feature, Image | Audio | Video):
            ds = ds.cast_column(name, type(feature)(decode=False, **({"sampling_rate": feature.sampling_rate}
                                                                       if isinstance(feature, Audio) else {})))
        elif isinstance(feature, List) and isinstance(feature.feature, Image):
            ds = ds.cast_column(name, List(Image(decode=False)))
    ds = ds.cast_column("meta", {"thumb": datasets.Image(decode=False), "caption": datasets.Value("string")})
    rows = ds.sort("id").to_dict()
    rows["grid"] = [np.asarray(g).tolist() for g in rows["grid"]]
    return rows


def test_features_and_values_survive_a_spark_read_and_write(spark, hub) -> None:
    source, target = f"tests/rt-{uuid.uuid4().hex[:8]}", f"tests/rt-back-{uuid.uuid4().hex[:8]}"
    datasets.Dataset(_source_table()).push_to_hub(source, token=WRITE_TOKEN)
    original = datasets.load_dataset(source, split="train")
    assert original.features == _features()
    df = spark.read.format("huggingface").option("endpoint", hub.endpoint).load(source)
    (df.write.format("huggingface").mode("overwrite").option("endpoint", hub.endpoint).option("token", WRITE_TOKEN)
     .save(target))
    back = datasets.load_dataset(target, split="train")
    assert back.features == original.features
    assert _storage(back) == _storage(original)
