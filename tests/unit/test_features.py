"""hfconnect.features against `datasets` 5: the `huggingface` schema metadata and the card's YAML features are
what `datasets` itself writes, and `datasets` reads them back as the same features."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hfconnect.errors import OptionError
from hfconnect.features import (
    FEATURE_KEY,
    HF_KEY,
    MEDIA_STORAGE,
    conform_batch,
    feature_to_yaml,
    media_columns,
    parse_features,
    pop_features_option,
    schema_features,
    with_features,
    with_field_features,
)
from hfconnect.write.card import arrow_to_features, update_card

datasets = pytest.importorskip("datasets")


def _png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (3, 2), color).save(buf, "PNG")
    return buf.getvalue()


def _reference_features():
    from datasets import Array2D, Audio, ClassLabel, Features, Image, List, Value, Video

    return Features({
        "img": Image(), "img_rgb": Image(mode="RGB"), "clip": Audio(),
        "clip16k": Audio(sampling_rate=16000, decode=False),
        "video": Video(), "label": ClassLabel(names=["cat", "dog"]), "ints": List(Value("int32")),
        "pair": List(Value("int8"), length=2), "grid": Array2D((2, 3), "float32"), "obj": {"a": Value("string")},
        "objs": List({"q": Value("int8")}), "nested": {"pic": Image()},
    })


def test_the_yaml_form_is_datasets_own_for_every_kind_of_feature() -> None:
    features = _reference_features()
    ours = [{"name": name, **feature_to_yaml(f)} for name, f in features.to_dict().items()]
    assert ours == features._to_yaml_list()


def test_the_schema_metadata_is_what_datasets_writes_and_reads(tmp_path: Path) -> None:
    """A table of media columns from binary and {bytes, path}: our metadata is `datasets`' own JSON, and a
    Parquet file with it loads with decoded images."""
    from datasets import Audio, Features, Image

    schema = pa.schema([("id", pa.int64()), ("img", pa.binary()), ("clip", MEDIA_STORAGE)])
    out = with_features(schema, parse_features("features", '{"img": "Image", "clip": "audio"}'))
    assert out.field("img").type == MEDIA_STORAGE
    expected = datasets.arrow_writer.ArrowWriter._build_metadata(
        datasets.DatasetInfo(features=Features({"img": Image(), "clip": Audio()})))
    assert json.loads(out.metadata[HF_KEY]) == json.loads(expected["huggingface"])
    assert Features.from_arrow_schema(out) == Features({"id": datasets.Value("int64"), "img": Image(),
                                                        "clip": Audio()})
    assert media_columns(out) == ["img", "clip"]
    batch = pa.record_batch({"id": [1, 2], "img": pa.array([_png((255, 0, 0)), None], pa.binary()),
                             "clip": pa.array([{"bytes": b"RIFF", "path": "a.wav"}, None], MEDIA_STORAGE)})
    conformed = conform_batch(batch, out)
    assert conformed.column("img").to_pylist() == [{"bytes": _png((255, 0, 0)), "path": None}, None]
    pq.write_table(pa.Table.from_batches([conformed]), tmp_path / "x.parquet")
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "x.parquet"), split="train")
    assert ds.features["img"] == Image() and ds.features["clip"] == Audio()
    ds = ds.cast_column("clip", Audio(decode=False))  # decoding audio needs torchcodec
    assert ds[0]["img"].getpixel((0, 0)) == (255, 0, 0) and ds[1]["img"] is None
    assert ds[0]["clip"] == {"bytes": b"RIFF", "path": "a.wav"}


def test_a_datasets_written_schema_survives_a_read_and_a_write(tmp_path: Path) -> None:
    """Features a read brings (in the fields' metadata) come back unchanged; those the Arrow type gives anyway
    are not repeated, and `datasets` reads the same features from what we write."""
    import numpy as np

    features = _reference_features()
    for name in ("clip", "clip16k", "video"):  # encoding audio/video needs torchcodec: written as raw storage
        del features[name]
    rows = {"img": [_png((0, 0, 255))], "img_rgb": [_png((0, 255, 0))], "label": [1], "ints": [[1, 2]],
            "pair": [[3, 4]], "grid": [np.ones((2, 3), "float32")], "obj": [{"a": "x"}], "objs": [[{"q": 1}]],
            "nested": [{"pic": _png((1, 2, 3))}]}
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(tmp_path / "d.parquet"))
    read = with_field_features(pq.read_schema(tmp_path / "d.parquet"))
    assert json.loads(read.field("label").metadata[FEATURE_KEY.encode()])["_type"] == "ClassLabel"
    assert FEATURE_KEY.encode() not in (read.field("ints").metadata or {})  # list<int32> says it all
    written = with_features(read.remove_metadata())  # an engine keeps the fields' metadata only
    again = datasets.Features.from_dict(schema_features(written))
    assert {k: again[k] for k in again} == {k: features[k] for k in again}
    assert set(again) == {"img", "img_rgb", "label", "pair", "grid", "nested"}
    yaml_features = arrow_to_features(written)
    assert datasets.Features._from_yaml_list(yaml_features) == features


def test_the_card_declares_the_features_for_datasets(tmp_path: Path) -> None:
    schema = with_features(pa.schema([("img", pa.binary()), ("n", pa.int32())]), {"img": {"_type": "Image"}})
    readme = update_card(None, config="default", split="train", data_dir="data", schema=schema, num_rows=1,
                         splits_present=["train"])
    (tmp_path / "README.md").write_text(readme)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train-00000-of-00001.parquet").write_bytes(b"")
    builder = datasets.load_dataset_builder(str(tmp_path))
    assert builder.info.features == datasets.Features({"img": datasets.Image(), "n": datasets.Value("int32")})


def test_the_option_takes_json_pairs_and_dicts_and_says_what_is_wrong() -> None:
    assert parse_features("features", "img=Image, clip:VIDEO") == {"img": {"_type": "Image"},
                                                                    "clip": {"_type": "Video"}}
    assert parse_features("features", {"a": {"_type": "Audio", "sampling_rate": 8000}}) == {
        "a": {"_type": "Audio", "sampling_rate": 8000}}
    with pytest.raises(OptionError, match="Image, Audio or Video"):
        parse_features("features", '{"img": "Picture"}')
    with pytest.raises(OptionError, match="JSON object"):
        parse_features("features", "{img: Image")
    with pytest.raises(OptionError, match="column=Type"):
        parse_features("features", "img")
    values = {"Features": "img=Image", "split": "train"}
    assert pop_features_option(values) == {"img": {"_type": "Image"}} and values == {"split": "train"}


def test_a_column_that_cannot_be_media_is_refused_by_name() -> None:
    schema = pa.schema([("img", pa.string())])
    with pytest.raises(OptionError, match="'img' is string: an Image column must be binary"):
        with_features(schema, {"img": {"_type": "Image"}})
    with pytest.raises(OptionError, match="'image' that the data does not have; its columns are img"):
        with_features(schema, {"image": {"_type": "Image"}})


def test_a_reads_feature_on_a_column_since_changed_is_dropped() -> None:
    """A label cast to string, an image replaced by its path: their old features would mislead `datasets`."""
    meta = {FEATURE_KEY.encode(): b'{"_type": "ClassLabel", "names": ["a"]}'}
    img = {FEATURE_KEY.encode(): b'{"_type": "Image"}'}
    out = with_features(pa.schema([pa.field("label", pa.string(), metadata=meta),
                                   pa.field("img", pa.string(), metadata=img)]))
    assert out.metadata is None and out.field("label").metadata is None and out.field("img").metadata is None
