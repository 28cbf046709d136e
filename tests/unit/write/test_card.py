"""The dataset card hfconnect writes: features as `datasets` would declare them, splits and configs that
`datasets` reads back, and everything else in the README left as it was."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from hfconnect.hub.datafiles import parse_card_yaml, resolve_layout
from hfconnect.hub.snapshot import RepoFileInfo
from hfconnect.write.card import arrow_to_features, split_card, split_rows, update_card

FEATURE_TYPES = {
    "ints": [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()],
    "floats": [pa.float16(), pa.float32(), pa.float64()],
    "strings-and-bytes": [pa.string(), pa.large_string(), pa.binary(), pa.large_binary()],
    "bool-and-null": [pa.bool_(), pa.null()],
    "timestamps": [pa.timestamp("s"), pa.timestamp("ms"), pa.timestamp("us"), pa.timestamp("ns"),
                   pa.timestamp("us", tz="UTC"), pa.timestamp("ns", tz="Europe/Paris"),
                   pa.timestamp("ms", tz="+01:00")],
    "date32": [pa.date32()],
    "lists": [pa.list_(pa.int64()), pa.list_(pa.list_(pa.int32())), pa.list_(pa.null()),
              pa.list_(pa.timestamp("ms", tz="UTC"))],
    "large-lists": [pa.large_list(pa.string()), pa.list_(pa.large_list(pa.float32()))],
    "fixed-size-lists": [pa.list_(pa.float32(), 3), pa.list_(pa.list_(pa.int8(), 2))],
    "structs": [pa.struct([("a", pa.int32()), ("b", pa.string())]), pa.struct([])],
    "nested": [pa.struct([("a", pa.list_(pa.struct([("x", pa.float64())]))), ("b", pa.struct([("c", pa.bool_())]))]),
               pa.list_(pa.struct([("x", pa.int64()), ("y", pa.string())])),
               pa.list_(pa.struct([("a", pa.int8())]), 2)],
    "dictionary-is-its-values": [pa.dictionary(pa.int32(), pa.string()), pa.dictionary(pa.int8(), pa.int64())],
}


def _schema(types: list[pa.DataType]) -> pa.Schema:
    return pa.schema([(f"c{i}", t) for i, t in enumerate(types)])


def _datasets_view(root: Path, readme: str, config: str | None = None):
    """What `datasets` makes of a README next to an (empty) data file: the builder's info and data files."""
    import datasets

    (root / "README.md").write_text(readme)
    (root / "data").mkdir(exist_ok=True)
    for split in ("train", "validation", "test"):
        (root / "data" / f"{split}-00000-of-00001.parquet").write_bytes(b"")
    return datasets.load_dataset_builder(str(root), config)


@pytest.mark.parametrize("types", FEATURE_TYPES.values(), ids=FEATURE_TYPES.keys())
def test_features_equal_what_datasets_infers_from_the_arrow_schema(tmp_path: Path, types) -> None:
    """The card's features, read by `datasets` from README YAML, equal `Features.from_arrow_schema`."""
    from datasets import Features

    schema = _schema(types)
    readme = update_card(None, config="default", split="train", data_dir="data", schema=schema, num_rows=3,
                         splits_present=["train"])
    builder = _datasets_view(tmp_path, readme)
    assert builder.info.features == Features.from_arrow_schema(schema)
    assert builder.info.splits["train"].num_examples == 3


# Types arrow_to_features refuses: the card then has no `features` and `datasets` reads them from the files.
NO_DATASETS_FORM = {  # `datasets` has no dtype for these either (Features.from_arrow_schema raises)
    "map": pa.map_(pa.string(), pa.int64()),
    "decimal32": pa.decimal32(5, 2),
    "list-view": pa.list_view(pa.int8()),
    "struct-holding-a-map": pa.struct([("m", pa.map_(pa.string(), pa.int8()))]),
    "list-of-maps": pa.list_(pa.map_(pa.string(), pa.int8())),
}
# `datasets` does have a YAML dtype for these, but hfconnect leaves features out (conservative: most do not
# come back from Parquet as written: date64 reads as date32, time32[s] as time32[ms], views as plain types,
# duration as int64 without the stored Arrow schema). Loading still works: features come from the files.
NOT_DECLARED = {
    "date64": pa.date64(), "time32": pa.time32("s"), "time64": pa.time64("us"), "duration": pa.duration("s"),
    "decimal128": pa.decimal128(10, 2), "decimal256": pa.decimal256(40, 3), "fixed-size-binary": pa.binary(4),
    "string-view": pa.string_view(), "binary-view": pa.binary_view(),
}


@pytest.mark.parametrize("arrow_type", NO_DATASETS_FORM.values(), ids=NO_DATASETS_FORM.keys())
def test_types_datasets_cannot_declare_leave_features_out(tmp_path: Path, arrow_type: pa.DataType) -> None:
    from datasets import Features

    schema = pa.schema([("id", pa.int64()), ("x", arrow_type)])
    with pytest.raises(ValueError, match="does not have a datasets dtype equivalent"):
        Features.from_arrow_schema(schema)
    assert arrow_to_features(schema) is None
    readme = update_card(None, config="default", split="train", data_dir="data", schema=schema, num_rows=1,
                         splits_present=["train"])
    assert "features" not in parse_card_yaml(readme)["dataset_info"]
    assert _datasets_view(tmp_path, readme).info.features is None


@pytest.mark.parametrize("arrow_type", NOT_DECLARED.values(), ids=NOT_DECLARED.keys())
def test_types_hfconnect_does_not_declare(arrow_type: pa.DataType) -> None:
    from datasets import Features

    schema = pa.schema([("x", arrow_type)])
    declared = Features.from_arrow_schema(schema)
    assert Features._from_yaml_list(declared._to_yaml_list()) == declared  # datasets' own form round-trips
    assert arrow_to_features(schema) is None
    assert arrow_to_features(pa.schema([("s", pa.struct([("x", arrow_type)]))])) is None
    assert arrow_to_features(pa.schema([("l", pa.list_(arrow_type))])) is None


def test_a_refused_type_removes_features_written_before() -> None:
    first = update_card(None, config="default", split="train", data_dir="data", schema=_schema([pa.int64()]),
                        num_rows=1, splits_present=["train"])
    assert "features" in parse_card_yaml(first)["dataset_info"]
    again = update_card(first, config="default", split="train", data_dir="data",
                        schema=pa.schema([("m", pa.map_(pa.string(), pa.int8()))]), num_rows=1,
                        splits_present=["train"])
    assert "features" not in parse_card_yaml(again)["dataset_info"]


PROSE = "\n# My dataset\n\nSome *prose* with a --- rule below.\n\n---\n\nAnd more.\n"
EXISTING = ("---\nlicense: mit\npretty_name: Mine\ntags:\n- a\n- b\n"
            "configs:\n- config_name: other\n  data_files: other/*.csv\n"
            "dataset_info:\n  config_name: other\n  features:\n  - name: q\n    dtype: string\n"
            "---" + PROSE)


def test_other_keys_configs_and_prose_are_preserved() -> None:
    readme = update_card(EXISTING, config="default", split="train", data_dir="data", schema=_schema([pa.int64()]),
                         num_rows=5, splits_present=["train"], num_bytes=40)
    meta, body = split_card(readme)
    assert readme.endswith("---\n" + PROSE) and body == PROSE.lstrip("\n")  # (+ a blank line after the YAML)
    assert (meta["license"], meta["pretty_name"], meta["tags"]) == ("mit", "Mine", ["a", "b"])
    assert meta["configs"][0] == {"config_name": "other", "data_files": "other/*.csv"}
    assert meta["configs"][1] == {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}
    assert meta["dataset_info"] == [
        {"config_name": "other", "features": [{"name": "q", "dtype": "string"}]},
        {"config_name": "default", "features": [{"name": "c0", "dtype": "int64"}],
         "splits": [{"name": "train", "num_bytes": 40, "num_examples": 5}]}]
    assert list(meta) == ["license", "pretty_name", "tags", "configs", "dataset_info"]


def test_a_new_card_has_a_title_and_marks_its_first_config_default() -> None:
    readme = update_card(None, config="cfg", split="test", data_dir="cfg", schema=_schema([pa.string()]),
                         num_rows=2, splits_present=["test"])
    meta, body = split_card(readme)
    assert readme.endswith("---\n\n# cfg\n\nWritten with hfconnect.\n")
    assert meta["configs"] == [{"config_name": "cfg", "data_files": [{"split": "test", "path": "cfg/test-*"}],
                                "default": True}]
    assert meta["dataset_info"]["config_name"] == "cfg"  # one config: a mapping, as datasets writes it
    assert update_card("", config="default", split="train", data_dir="data", schema=_schema([pa.string()]),
                       num_rows=1, splits_present=["train"]).endswith("---\n\n# Dataset\n\nWritten with hfconnect.\n")
    titled = update_card("# Title only\n", config="default", split="train", data_dir="data",
                         schema=_schema([pa.string()]), num_rows=1, splits_present=["train"])
    assert titled.endswith("---\n\n# Title only\n")


def _write(readme: str | None, split: str, rows: int | None, present: list[str], config: str = "default") -> str:
    return update_card(readme, config=config, split=split, data_dir="data" if config == "default" else config,
                       schema=_schema([pa.int64()]), num_rows=rows, splits_present=present)


def test_splits_are_ordered_train_validation_test_then_by_name() -> None:
    readme = None
    present: list[str] = []
    for split in ("zeta", "test", "alpha", "validation", "train"):
        present.append(split)
        readme = _write(readme, split, 1, present)
    meta = parse_card_yaml(readme)
    order = ["train", "validation", "test", "alpha", "zeta"]
    assert [f["split"] for f in meta["configs"][0]["data_files"]] == order
    assert [s["name"] for s in meta["dataset_info"]["splits"]] == order


def test_append_counts_and_splits_that_are_gone() -> None:
    """split_rows gives what the card records, so an append writes old + new; a split whose files are gone
    (not in splits_present) leaves the card; an unknown row count removes the stale one."""
    readme = _write(_write(None, "train", 10, ["train"]), "test", 4, ["train", "test"])
    assert (split_rows(readme, "default", "train"), split_rows(readme, "default", "test")) == (10, 4)
    assert split_rows(readme, "default", "validation") is None and split_rows(readme, "nope", "train") is None
    appended = _write(readme, "train", split_rows(readme, "default", "train") + 5, ["train", "test"])
    assert split_rows(appended, "default", "train") == 15 and split_rows(appended, "default", "test") == 4
    dropped = _write(appended, "train", 1, ["train"])
    meta = parse_card_yaml(dropped)
    assert [f["split"] for f in meta["configs"][0]["data_files"]] == ["train"]
    assert [s["name"] for s in meta["dataset_info"]["splits"]] == ["train"]
    unknown = _write(dropped, "train", None, ["train"])
    assert split_rows(unknown, "default", "train") is None
    assert split_rows("no card", "default", "train") is None
    assert split_rows(yaml_card({"dataset_info": [{"splits": [{"name": "train", "num_examples": "7"}]}]}),
                      "default", "train") is None  # not a number: not trusted


def yaml_card(meta: dict) -> str:
    return f"---\n{yaml.safe_dump(meta)}---\n"


def test_malformed_configs_entries_are_replaced_not_kept() -> None:
    readme = yaml_card({"configs": [{"config_name": "default", "data_files": "data/*.parquet"}, "junk"]})
    meta = parse_card_yaml(_write(readme, "train", 1, ["train"]))
    assert meta["configs"] == [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]},
                               "junk"]


def test_datasets_and_hfconnect_read_the_configs_the_card_declares(tmp_path: Path) -> None:
    """Two configs written one after the other: `datasets` and hfconnect resolve the same files for each."""
    readme = _write(_write(_write(None, "train", 2, ["train"]), "test", 1, ["train", "test"]), "train", 3, ["train"],
                    config="extra")
    files = ["data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet",
             "extra/train-00000-of-00002.parquet", "extra/train-00001-of-00002.parquet"]
    for path in files:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(b"")
    (tmp_path / "README.md").write_text(readme)
    import datasets

    layout = resolve_layout([RepoFileInfo(p, 0) for p in files], parse_card_yaml(readme))
    assert layout.default_config == "default"
    for config in ("default", "extra"):
        builder = datasets.load_dataset_builder(str(tmp_path), config)
        theirs = {str(s): sorted(Path(f).relative_to(tmp_path).as_posix() for f in fs)
                  for s, fs in builder.config.data_files.items()}
        assert {s: [f.path for f in fs] for s, fs in layout.configs[config].items()} == theirs
    assert datasets.load_dataset_builder(str(tmp_path)).config.name == "default"
