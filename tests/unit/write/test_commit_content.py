"""What one commit changes when a job writes several splits: names per split, exactly the written splits' old
files deleted on overwrite, suffixed names on append, and a card that lists every split with its rows."""

from __future__ import annotations

import pyarrow as pa
from huggingface_hub import CommitOperationAdd, CommitOperationDelete

from hfconnect.hub.datafiles import parse_card_yaml, resolve_layout
from hfconnect.hub.snapshot import RepoFileInfo
from hfconnect.options import WriteOptions
from hfconnect.write.card import split_card
from hfconnect.write.commit_content import BranchState, commit_content
from hfconnect.write.task import UploadedFile

SCHEMA = pa.schema([("id", pa.int64()), ("text", pa.string())])
JOB = "0123456789abcdef"
SPLITS = ("train", "validation", "test")


def _upload(split: str, index: int, rows: int) -> UploadedFile:
    op = CommitOperationAdd(path_in_repo=f"staging/{split}-{index}.parquet", path_or_fileobj=b"x" * rows)
    return UploadedFile(op, "0" * 64, rows, rows, 1, index, split)


def _uploads() -> list[UploadedFile]:
    return [_upload("train", 0, 100), _upload("test", 0, 10), _upload("train", 1, 50), _upload("validation", 0, 7)]


def _state(files: dict[str, int], readme: str | None = None) -> BranchState:
    infos = [RepoFileInfo(p, size) for p, size in files.items()]
    layout = resolve_layout(infos, parse_card_yaml(readme) if readme else None).configs.get("default", {})
    return BranchState("sha0", infos, {s: [f.path for f in fs] for s, fs in layout.items() if fs}, readme)


def _card_splits(card: str) -> dict[str, int]:
    meta, _ = split_card(card)
    info = meta["dataset_info"]
    return {s["name"]: s["num_examples"] for s in info["splits"]}


def _readme(content) -> str:
    op = content.operations[-1]
    assert op.path_in_repo == "README.md"
    return op.path_or_fileobj.decode()


def test_a_new_repo_gets_every_split_numbered_apart_and_a_card_listing_them() -> None:
    options = WriteOptions.build(repo="o/n", split_column="split", mode="overwrite")
    content = commit_content(options, JOB[:8], _state({}), _uploads(), SCHEMA)
    assert content.names == ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet",
                             "data/validation-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"]
    assert content.deleted == []
    assert content.split_rows == [("train", 150), ("validation", 7), ("test", 10)]
    card = _readme(content)
    assert _card_splits(card) == {"train": 150, "validation": 7, "test": 10}
    meta, _ = split_card(card)
    assert meta["configs"][0]["data_files"] == [{"split": "train", "path": "data/train-*"},
                                                {"split": "validation", "path": "data/validation-*"},
                                                {"split": "test", "path": "data/test-*"}]
    assert [op.path_in_repo for op in content.operations[:-1]] == content.names  # the uploads, renamed


def test_overwrite_deletes_exactly_the_written_splits_old_files() -> None:
    options = WriteOptions.build(repo="o/n", split_column="split", mode="overwrite")
    first = commit_content(options, "aaaaaaaa", _state({}), [_upload(s, 0, 1) for s in SPLITS], SCHEMA)
    readme = _readme(first)  # a card written by an earlier job lists the three splits
    before = {"data/train-00000-of-00003.parquet": 1, "data/train-00001-of-00003.parquet": 1,
              "data/train-00002-of-00003.parquet": 1, "data/test-00000-of-00001.parquet": 1,
              "data/validation-00000-of-00001.parquet": 5, "README.md": len(readme)}
    uploads = [_upload("train", 0, 100), _upload("test", 0, 10)]
    content = commit_content(options, JOB[:8], _state(before, readme), uploads, SCHEMA)
    assert content.names == ["data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"]
    # every old train file goes; test's only file is replaced in place by the new one of the same name
    assert sorted(content.deleted) == ["data/train-00000-of-00003.parquet", "data/train-00001-of-00003.parquet",
                                       "data/train-00002-of-00003.parquet"]
    deletes = [op.path_in_repo for op in content.operations if isinstance(op, CommitOperationDelete)]
    assert sorted(deletes) == sorted(content.deleted)
    meta, _ = split_card(_readme(content))
    listed = [f["split"] for f in meta["configs"][0]["data_files"]]
    assert listed == ["train", "validation", "test"]  # the split not written stays in the card
    assert _card_splits(_readme(content)) == {"train": 100, "validation": 1, "test": 10}


def test_append_next_to_existing_files_suffixes_names_and_adds_to_the_card_counts() -> None:
    readme_options = WriteOptions.build(repo="o/n", split_column="split", mode="overwrite")
    first = commit_content(readme_options, "aaaaaaaa", _state({}), [_upload("train", 0, 100)], SCHEMA)
    readme = _readme(first)
    state = _state({"data/train-00000-of-00001.parquet": 100, "README.md": len(readme)}, readme)
    options = WriteOptions.build(repo="o/n", split_column="split", mode="append")
    content = commit_content(options, JOB[:8], state, [_upload("train", 0, 30), _upload("test", 0, 5)], SCHEMA)
    assert content.names == [f"data/train-00000-of-00001-{JOB[:8]}.parquet", "data/test-00000-of-00001.parquet"]
    assert content.deleted == []
    assert _card_splits(_readme(content)) == {"train": 130, "test": 5}


def test_one_split_without_split_column_is_as_before() -> None:
    options = WriteOptions.build(repo="o/n", split="test")
    plain = [UploadedFile(_upload("", 0, 3).operation, "0" * 64, 3, 3, 1, 0)]  # no split tag: the option's
    content = commit_content(options, JOB[:8], _state({}), plain, SCHEMA)
    assert content.names == ["data/test-00000-of-00001.parquet"]
    assert content.split_rows == [("test", 3)]
    assert isinstance(content.operations[0], CommitOperationAdd)
