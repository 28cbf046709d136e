"""Image, audio and video columns from Daft: the Image dtype written as PNG with the Hub's Image feature, binary
columns named by `features=`, loaded by `datasets` with the same pixels and bytes; read back as `daft.read_parquet`
reads the same files, both readers agreeing. Also runs docs/media.md's Daft example."""

from __future__ import annotations

import json
import uuid

import daft
import numpy as np
import pyarrow.parquet as pq
import pytest

from hfconnect.daft import read_huggingface, write_huggingface
from tests.conftest import WRITE_TOKEN
from tests.data import png_bytes, wav_bytes

pytestmark = pytest.mark.integration

datasets = pytest.importorskip("datasets")


_png = png_bytes


def _wav(seed: int) -> bytes:
    return wav_bytes(bytes((seed * 3 + i) % 256 for i in range(128)))


def test_daft_images_and_named_audio_load_in_datasets(hub, api) -> None:
    from datasets import Audio, Image

    repo = f"tests/daft-media-{uuid.uuid4().hex[:8]}"
    n = 150
    df = daft.from_pydict({"id": list(range(n)), "png": [_png((i, 0, 255 - i)) for i in range(n)],
                           "sound": [_wav(i) for i in range(n)]})
    df = df.with_column("image", daft.col("png").decode_image()).exclude("png")  # Daft's Image dtype
    result = write_huggingface(df, repo, endpoint=hub.endpoint, token=WRITE_TOKEN, features={"sound": "Audio"})
    assert result.rows == n
    for name in result.files:
        meta = pq.ParquetFile(api.hf_hub_download(repo, name, repo_type="dataset"))
        assert json.loads(meta.schema_arrow.metadata[b"huggingface"]) == {"info": {"features": {
            "sound": {"_type": "Audio"}, "image": {"_type": "Image"}}}}
        assert all(meta.metadata.row_group(i).num_rows <= 100 for i in range(meta.metadata.num_row_groups))
    ds = datasets.load_dataset(repo, split="train")
    assert ds.features["image"] == Image() and ds.features["sound"] == Audio()
    ds = ds.sort("id").cast_column("sound", Audio(decode=False))  # decoding audio needs torchcodec
    for i in (0, 77, 149):
        assert ds["image"][i].getpixel((4, 2)) == (i, 0, 255 - i)
        assert ds["sound"][i]["bytes"] == _wav(i)


def test_daft_file_columns_are_written_as_their_bytes(hub, api, tmp_path) -> None:
    """Daft's File columns: File[Image] written as the files' bytes with the Image feature, File[Unknown] as
    bytes with the feature option `features` names (Audio here)."""
    from daft.functions import file, image_file
    from datasets import Audio, Image

    repo = f"tests/daft-files-{uuid.uuid4().hex[:8]}"
    paths = []
    for i in range(3):
        (tmp_path / f"{i}.png").write_bytes(_png((i * 40, 10, 20)))
        (tmp_path / f"{i}.wav").write_bytes(_wav(i))
        paths.append(str(tmp_path / f"{i}"))
    df = daft.from_pydict({"id": [0, 1, 2], "stem": paths})
    df = df.with_column("photo", image_file(daft.col("stem") + ".png")) \
        .with_column("clip", file(daft.col("stem") + ".wav")).exclude("stem")
    write_huggingface(df, repo, endpoint=hub.endpoint, token=WRITE_TOKEN, features="clip=Audio")
    ds = datasets.load_dataset(repo, split="train").sort("id").cast_column("clip", Audio(decode=False))
    assert ds.features["photo"] == Image()
    assert [ds["photo"][i].getpixel((0, 0)) for i in range(3)] == [(0, 10, 20), (40, 10, 20), (80, 10, 20)]
    assert [c["bytes"] for c in ds["clip"]] == [_wav(i) for i in range(3)]


def test_both_readers_read_media_as_daft_read_parquet_does(hub, api) -> None:
    """A `datasets`-written repo with Image, ClassLabel and list columns: hfconnect's two readers give the rows
    and types `daft.read_parquet` gives for the same files."""
    from datasets import ClassLabel, Features, Image, List, Value

    features = Features({"img": Image(), "label": ClassLabel(names=["a", "b"]), "tags": List(Value("string"))})
    repo = f"tests/daft-dsw-{uuid.uuid4().hex[:8]}"
    datasets.Dataset.from_dict({"img": [_png((9 * i, 1, 2)) for i in range(6)], "label": [i % 2 for i in range(6)],
                                "tags": [["t"] * i for i in range(6)]}, features=features).push_to_hub(
        repo, token=WRITE_TOKEN)
    [name] = [f for f in api.list_repo_files(repo, repo_type="dataset") if f.endswith(".parquet")]
    local = api.hf_hub_download(repo, name, repo_type="dataset")
    want = daft.read_parquet(local)
    for reader in ("native", "hfconnect"):
        got = read_huggingface(repo, split="train", endpoint=hub.endpoint, reader=reader)
        assert [(f.name, f.dtype) for f in got.schema()] == [(f.name, f.dtype) for f in want.schema()], reader
        assert got.to_pydict() == want.to_pydict(), reader
    back = f"tests/daft-back-{uuid.uuid4().hex[:8]}"  # the struct named back as Image, the label as it was
    write_huggingface(read_huggingface(repo, split="train", endpoint=hub.endpoint), back, endpoint=hub.endpoint,
                      token=WRITE_TOKEN,
                      features={"img": "Image", "label": {"_type": "ClassLabel", "names": ["a", "b"]}})
    loaded = datasets.load_dataset(back, split="train")
    assert loaded.features == features
    assert [np.asarray(im)[0, 0].tolist() for im in loaded["img"]] == [[9 * i, 1, 2] for i in range(6)]


DAFT_EXAMPLE = '''import daft
from hfconnect.daft import read_huggingface, write_huggingface

pets = read_huggingface("me/pets", split="train")  # image: struct<bytes, path>
thumbs = pets.with_column("thumb", pets["image"]["bytes"].decode_image().resize(8, 8))  # Daft's Image dtype
write_huggingface(thumbs.select("id", "thumb"), "me/pet-thumbs", mode="overwrite")  # PNG + Image feature
'''


def test_the_readme_daft_example(hub, monkeypatch) -> None:
    from tests.spark.test_media_features import readme_block

    assert readme_block("tests/daft/test_media_features.py") == DAFT_EXAMPLE, \
        "docs/media.md's example and this test's copy differ"
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    pets = daft.from_pydict({"id": [1, 2], "image": [_png((255, 0, 0)), _png((0, 0, 255))], "label": [0, 1]})
    write_huggingface(pets, "me/pets", mode="overwrite", features="image=Image")  # what the Spark example writes
    exec(compile(DAFT_EXAMPLE, "readme-daft-example", "exec"), {})
    thumbs = datasets.load_dataset("me/pet-thumbs", split="train").sort("id")
    assert thumbs.features["thumb"] == datasets.Image()
    assert [im.size for im in thumbs["thumb"]] == [(8, 8), (8, 8)]
    assert thumbs["thumb"][0].getpixel((3, 3)) == (255, 0, 0)
