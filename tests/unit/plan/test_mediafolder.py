"""Image/audio folder planning without a hub process: the builder `datasets` picks, split files, labels, metadata
joins and the schema with its `huggingface` features, checked against `datasets`' own lists and features; shard
cuts over the rows."""

from __future__ import annotations

import io
import json

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets.load import infer_module_for_data_files_list

from hfconnect.errors import DataFileError, HfConnectError
from hfconnect.hub.snapshot import RepoFileInfo
from hfconnect.plan.mediafolder import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    MEDIA_TYPE,
    MODULE_OF_EXTENSION,
    MediaColumn,
    cut_media_shards,
    detect_media_folder,
    feature_of_type,
    plan_media_folder,
    resolve_media_splits,
)


def repo(files: dict[str, bytes]) -> tuple[list[RepoFileInfo], object]:
    """A listing and a dict-backed fetch that records what it was asked for."""
    asked: list[str] = []

    def fetch(path: str, size: int) -> bytes:
        asked.append(path)
        assert len(files[path]) == size
        return files[path]

    fetch.asked = asked  # type: ignore[attr-defined]
    return [RepoFileInfo(p, len(b)) for p, b in files.items()], fetch


def rows(plan, split: str) -> list[dict]:
    return plan.splits[split].rows.to_pylist()


def features(plan) -> datasets.Features:
    return datasets.Features.from_arrow_schema(plan.schema)


# ---- the lists and the builder choice, against datasets' own --------------------------------------------------
def test_extension_lists_are_the_builders_lists() -> None:
    from datasets.packaged_modules import _EXTENSION_TO_MODULE
    from datasets.packaged_modules.audiofolder.audiofolder import AudioFolder
    from datasets.packaged_modules.imagefolder.imagefolder import ImageFolder

    assert list(IMAGE_EXTENSIONS) == ImageFolder.EXTENSIONS
    assert list(AUDIO_EXTENSIONS) == AudioFolder.EXTENSIONS
    from datasets.packaged_modules import _ALL_ALLOWED_EXTENSIONS, _ALL_METADATA_FILENAMES

    from hfconnect.plan.mediafolder import _ALLOWED, _METADATA_NAMES

    assert set(_ALL_ALLOWED_EXTENSIONS) == _ALLOWED
    assert set(_ALL_METADATA_FILENAMES) == _METADATA_NAMES
    for ext, (module, _) in _EXTENSION_TO_MODULE.items():
        ours = MODULE_OF_EXTENSION.get(ext.lower())
        assert ours == (module if module in ("imagefolder", "audiofolder", "videofolder") else "other"), ext


@pytest.mark.parametrize("paths", [
    ["a/1.png", "a/2.jpg", "b/3.png"],
    ["x.wav", "y.mp3", "metadata.csv"],
    ["x.png", "y.png", "z.parquet", "w.parquet"],          # tie: parquet wins
    ["1.png", "2.png", "3.PNG", "data.csv", "metadata.jsonl"],
    ["clip.mp4", "clip2.mp4", "a.wav"],                      # video wins .mp4
    ["a.mpg", "b.mpg"],                                      # audio wins .mpg over image
    ["a.png", "metadata.csv", "metadata.csv", "b.csv"],     # metadata counts last
    ["notes.txt", "a.png"],
    ["a.tar.gz", "b.png"],
])
def test_builder_choice_matches_datasets(paths: list[str]) -> None:
    from hfconnect.plan.mediafolder import _module_of

    module, _ = infer_module_for_data_files_list(paths)
    ours = _module_of(paths)
    assert (ours if ours in ("imagefolder", "audiofolder") else None) == \
        (module if module in ("imagefolder", "audiofolder") else None)


def test_detect_and_split_files() -> None:
    files = [RepoFileInfo(p, 1) for p in ["README.md", "train/cat/a.png", "train/dog/b.png", "test/cat/c.png",
                                          ".hidden/x.png", "train/notes.md", "validation/d.JPG", "train/e.Png"]]
    assert detect_media_folder(files) == "imagefolder"
    splits = resolve_media_splits(files)
    assert list(splits) == ["train", "validation", "test"]
    # `.Png` is no extension datasets knows (it matches .png and .PNG exactly), so the file is not a data file
    assert [f.path for f in splits["train"]] == ["train/cat/a.png", "train/dog/b.png", "train/notes.md"]
    assert detect_media_folder([RepoFileInfo("data/train.parquet", 9)]) is None
    assert plan_media_folder([RepoFileInfo("data/train.parquet", 9)], lambda p, n: b"") is None


def test_splits_of_different_kinds_are_refused() -> None:
    files = [RepoFileInfo(p, 1) for p in ["train/a.png", "test/b.wav"]]
    with pytest.raises(HfConnectError, match="different kinds"):
        detect_media_folder(files)


# ---- labels -------------------------------------------------------------------------------------------------------
def test_labels_from_folders_sorted_as_datasets() -> None:
    files, fetch = repo({"dog/1.png": b"d1", "Cat/2.png": b"c2", "cat/3.jpeg": b"c3"})
    plan = plan_media_folder(files, fetch)
    assert plan.builder == "imagefolder" and plan.label_names == ("Cat", "cat", "dog")
    assert features(plan) == datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=["Cat", "cat", "dog"])})
    assert plan.schema.equals(features(plan).arrow_schema, check_metadata=True)
    assert rows(plan, "train") == [{"image": "Cat/2.png", "label": 0}, {"image": "cat/3.jpeg", "label": 1},
                                   {"image": "dog/1.png", "label": 2}]
    assert fetch.asked == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(("paths", "labels"), [
    (["a/1.wav", "a/b/2.wav"], False),                  # two depths: no labels
    (["a/1.wav", "a/2.wav"], False),                    # one folder name: no labels
    (["1.wav", "2.wav"], False),
])
def test_no_labels(paths: list[str], labels: bool) -> None:
    files, fetch = repo(dict.fromkeys(paths, b"x"))
    plan = plan_media_folder(files, fetch)
    assert plan.builder == "audiofolder" and plan.schema.names == ["audio"] and plan.label_names is None
    assert json.loads(plan.schema.metadata[b"huggingface"]) == {"info": {"features": {"audio": {"_type": "Audio"}}}}


def test_drop_labels_forces_either_way() -> None:
    files, fetch = repo({"a/1.wav": b"x", "a/b/2.wav": b"y"})
    forced = plan_media_folder(files, fetch, drop_labels=False)
    assert forced.label_names == ("a", "b") and [r["label"] for r in rows(forced, "train")] == [0, 1]
    files, fetch = repo({"a/1.wav": b"x", "b/2.wav": b"y"})
    assert plan_media_folder(files, fetch, drop_labels=True).schema.names == ["audio"]


def test_split_folders_without_classes_label_as_datasets_does() -> None:
    # datasets analyses splits in order: train sees one folder name (no labels yet), test sees two
    files, fetch = repo({"train/1.png": b"a", "test/2.png": b"b"})
    plan = plan_media_folder(files, fetch)
    assert plan.label_names == ("test", "train")
    assert rows(plan, "train") == [{"image": "train/1.png", "label": None}]
    assert rows(plan, "test") == [{"image": "test/2.png", "label": 0}]


# ---- metadata ------------------------------------------------------------------------------------------------------
def jsonl(*records: dict) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_metadata_jsonl_rows_come_from_the_metadata() -> None:
    files, fetch = repo({
        "train/a.png": b"AA", "train/sub/b.png": b"BBB", "train/orphan.png": b"O",
        "train/metadata.jsonl": jsonl({"file_name": "sub/b.png", "caption": "bee", "n": 2},
                                      {"file_name": "a.png", "caption": "ay", "n": 1},
                                      {"file_name": "gone.png", "caption": None, "n": 3}),
    })
    plan = plan_media_folder(files, fetch)
    assert plan.schema.names == ["image", "caption", "n"] and plan.label_names is None
    assert features(plan) == datasets.Features(
        {"image": datasets.Image(), "caption": datasets.Value("string"), "n": datasets.Value("int64")})
    assert plan.schema.equals(features(plan).arrow_schema, check_metadata=True)
    # the orphan has no row; the row naming a missing file stays
    assert rows(plan, "train") == [{"image": "train/sub/b.png", "caption": "bee", "n": 2},
                                   {"image": "train/a.png", "caption": "ay", "n": 1},
                                   {"image": "train/gone.png", "caption": None, "n": 3}]
    assert fetch.asked == ["train/metadata.jsonl"]  # type: ignore[attr-defined]
    assert "train/gone.png" not in plan.splits["train"].sizes and plan.splits["train"].missing == ("train/gone.png",)


def test_metadata_csv_typed_as_pandas_reads_it() -> None:
    csv = b"file_name,score,text,day\nx.wav,1,hello,2024-01-02\ny.wav,,bye,2024-01-03\n"
    files, fetch = repo({"x.wav": b"1", "y.wav": b"2", "metadata.csv": csv})
    import pandas as pd

    plan = plan_media_folder(files, fetch)
    assert plan.builder == "audiofolder"
    text = datasets.Value(str(pa.Table.from_pandas(pd.DataFrame({"s": ["a"]})).schema.field("s").type))
    assert features(plan) == datasets.Features({"audio": datasets.Audio(), "score": datasets.Value("float64"),
                                                "text": text, "day": text})
    assert [r["audio"] for r in rows(plan, "train")] == ["x.wav", "y.wav"]


def test_metadata_parquet_keeps_its_features_and_several_media_columns() -> None:
    feats = datasets.Features({"file_name": datasets.Value("string"), "cond_file_name": datasets.Value("string"),
                               "label": datasets.ClassLabel(names=["no", "yes"]),
                               "frame_file_names": datasets.List(datasets.Value("string"))})
    table = pa.table({"file_name": ["a.png"], "cond_file_name": ["c/b.png"], "label": [1],
                      "frame_file_names": [["a.png", "c/b.png"]]}).cast(feats.arrow_schema)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    files, fetch = repo({"d/a.png": b"A", "d/c/b.png": b"B", "d/metadata.parquet": buf.getvalue()})
    plan = plan_media_folder(files, fetch)
    expected = datasets.Features({"image": datasets.Image(), "cond": datasets.Image(),
                                  "label": datasets.ClassLabel(names=["no", "yes"]),
                                  "frame": datasets.List(datasets.Image())})
    assert features(plan) == expected
    assert plan.media_columns == (MediaColumn("image"), MediaColumn("cond"), MediaColumn("frame", many=True))
    assert rows(plan, "train") == [{"image": "d/a.png", "cond": "d/c/b.png", "label": 1,
                                    "frame": ["d/a.png", "d/c/b.png"]}]


def test_metadata_per_split_and_drop_metadata() -> None:
    files, fetch = repo({"train/a.png": b"A", "train/cat/b.png": b"B", "test/c.png": b"C",
                         "train/metadata.jsonl": jsonl({"file_name": "a.png", "k": 1}),
                         "test/metadata.jsonl": jsonl({"file_name": "c.png", "k": 3})})
    plan = plan_media_folder(files, fetch)
    assert {s: rows(plan, s) for s in plan.splits} == {"train": [{"image": "train/a.png", "k": 1}],
                                                       "test": [{"image": "test/c.png", "k": 3}]}
    dropped = plan_media_folder(files, fetch, drop_metadata=True)  # metadata present: no labels either
    assert dropped.schema.names == ["image"] and len(rows(dropped, "train")) == 2


def test_later_metadata_files_of_a_split_are_taken_by_name_and_cast() -> None:
    files, fetch = repo({"a/x.png": b"X", "b/y.png": b"Y",
                         "a/metadata.jsonl": jsonl({"file_name": "x.png", "score": 1.5, "note": "n"}),
                         "b/metadata.jsonl": jsonl({"score": 2, "file_name": "y.png"})})
    plan = plan_media_folder(files, fetch)
    assert rows(plan, "train") == [{"image": "a/x.png", "score": 1.5, "note": "n"},
                                   {"image": "b/y.png", "score": 2.0, "note": None}]


@pytest.mark.parametrize(("files", "match"), [
    ({"a/x.png": b"A", "a/metadata.jsonl": jsonl({"file_name": "x.png", "n": 1}), "b/y.png": b"B",
      "b/metadata.jsonl": jsonl({"file_name": "y.png", "n": "one"})}, "column 'n' is string, not int64"),
    ({"a.png": b"A", "metadata.jsonl": jsonl({"file_name": "../x.png"})}, "relative path"),
    ({"a.png": b"A", "metadata.jsonl": jsonl({"file_name": "hf://x.png"})}, "relative path"),
    ({"a.png": b"A", "metadata.jsonl": jsonl({"name": "a.png"})}, "needs a `file_name`"),
    ({"a/x.png": b"A", "a/metadata.jsonl": jsonl({"file_name": "x.png"}), "b/y.png": b"B",
      "b/metadata.csv": b"file_name\ny.png\n"}, "different extensions"),
    ({"a/x.png": b"A", "a/metadata.jsonl": jsonl({"file_name": "x.png"}), "train/y.png": b"B",
      "train/metadata.jsonl": jsonl({"file_name": "y.png", "extra": 1}), "test/z.png": b"C",
      "test/metadata.jsonl": jsonl({"file_name": "z.png"})}, "different columns"),
    ({"a.png": b"A", "metadata.jsonl": b"{not json\n"}, "cannot be read"),
])
def test_bad_metadata_is_a_clear_error(files: dict[str, bytes], match: str) -> None:
    listing, fetch = repo(files)
    with pytest.raises(DataFileError, match=match):
        plan_media_folder(listing, fetch)


# ---- types and shards --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("t", [pa.int8(), pa.uint64(), pa.float32(), pa.float64(), pa.float16(), pa.bool_(),
                               pa.string(), pa.large_string(), pa.binary(), pa.date32(), pa.date64(),
                               pa.timestamp("us"), pa.timestamp("ms", tz="UTC"), pa.decimal128(5, 2), pa.null(),
                               pa.list_(pa.int64()),
                               pa.large_list(pa.string()), pa.list_(pa.int32(), 3),
                               pa.struct([("a", pa.int64()), ("b", pa.list_(pa.string()))])])
def test_feature_of_type_matches_datasets(t: pa.DataType) -> None:
    expected = datasets.Features.from_arrow_schema(pa.schema([("c", t)])).to_dict()["c"]
    assert feature_of_type(t) == expected


def test_cut_media_shards_by_bytes() -> None:
    sizes = {"a.wav": 40, "b.wav": 40, "c.wav": 500, "d.wav": 10, "e.wav": 10, "f.wav": 10}
    files, fetch = repo({p: b"x" * n for p, n in sizes.items()})
    plan = plan_media_folder(files, fetch)
    split = plan.splits["train"]
    shards = cut_media_shards(split, plan.media_columns, 100)
    assert [s.rows.column("audio").to_pylist() for s in shards] == [["a.wav", "b.wav"], ["c.wav"],
                                                                    ["d.wav", "e.wav", "f.wav"]]
    assert [s.est_bytes for s in shards] == [80, 500, 30] and [s.start for s in shards] == [0, 2, 3]
    assert [s.index for s in shards] == [0, 1, 2] and shards[1].sizes == {"c.wav": 500}
    assert len(cut_media_shards(split, plan.media_columns, 10_000)) == 1
    assert [s.index for s in cut_media_shards(split, plan.media_columns, 10_000, start_index=7)] == [7]
    with pytest.raises(HfConnectError, match="positive"):
        cut_media_shards(split, plan.media_columns, 0)


def test_a_shard_pickles_only_its_rows() -> None:
    import pickle

    meta = "".join(json.dumps({"file_name": f"{i:05d}.png", "caption": "words " * 20}) + "\n" for i in range(5000))
    files, fetch = repo({**{f"{i:05d}.png": b"p" for i in range(5000)}, "metadata.jsonl": meta.encode()})
    plan = plan_media_folder(files, fetch)
    shards = cut_media_shards(plan.splits["train"], plan.media_columns, 10)
    assert len(shards) == 500 and shards[7].rows.column("image").to_pylist()[0] == "00070.png"
    assert len(pickle.dumps(shards[7])) < 10_000 < len(pickle.dumps(plan.splits["train"].rows))


def test_empty_split_cuts_one_empty_shard_and_media_type() -> None:
    files, fetch = repo({"train/a.png": b"A", "test/b.png": b"B",
                         "train/metadata.jsonl": jsonl({"file_name": "a.png"})})
    plan = plan_media_folder(files, fetch)
    assert plan.splits["test"].num_rows == 0  # datasets: metadata elsewhere, none for this split -> no rows
    shards = cut_media_shards(plan.splits["test"], plan.media_columns, 100)
    assert len(shards) == 1 and shards[0].rows.num_rows == 0
    assert plan.schema.field("image").type == MEDIA_TYPE
