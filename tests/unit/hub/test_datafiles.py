"""Configs and splits from a file listing, checked against `datasets` itself on the same files.

The reference is `datasets.load_dataset_builder` over a local directory holding the same (empty) files and
card: the data files its builder would read, per split, are what hfconnect must resolve. Only Parquet, JSON
Lines/JSON and CSV appear as data files: the formats both read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from hfconnect.errors import ConfigNotFoundError, HfConnectError, SplitNotFoundError
from hfconnect.hub.datafiles import (
    DataFile,
    DatasetLayout,
    convert_branch_layout,
    glob_regex,
    is_empty,
    parse_card_yaml,
    resolve_layout,
)
from hfconnect.hub.snapshot import RepoFileInfo

Splits = dict[str, list[str]]


def _card(yaml_data: dict[str, Any]) -> str:
    return f"---\n{yaml.safe_dump(yaml_data, sort_keys=False)}---\n# a dataset\n"


def _listing(root: Path, files: list[str], readme: str | None) -> list[RepoFileInfo]:
    """Create the files (empty) under root and return them as a tree listing would."""
    for i, path in enumerate(files):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"x" * i)
    if readme is not None:
        (root / "README.md").write_text(readme)
    listed = [*files, *(["README.md"] if readme is not None else [])]
    return [RepoFileInfo(p, (root / p).stat().st_size) for p in listed]


def _by_datasets(root: Path, config: str | None = None, **kwargs: Any) -> tuple[Splits, str]:
    """split -> sorted paths that `datasets` would read, and the builder's config name."""
    import datasets

    builder = datasets.load_dataset_builder(str(root), config, **kwargs)
    splits = {str(split): sorted(os.path.relpath(str(f), root).replace(os.sep, "/") for f in files)
              for split, files in builder.config.data_files.items()}
    return splits, builder.config.name


def _by_hfconnect(files: list[RepoFileInfo], readme: str | None, config: str | None = None,
                  **kwargs: Any) -> tuple[Splits, str]:
    card = parse_card_yaml(readme) if readme else None
    layout = resolve_layout(files, card, **kwargs)
    name, chosen = layout.select(config, "all")
    return {split: [f.path for f in fs] for split, fs in chosen.items()}, name


def _parity(tmp_path: Path, files: list[str], readme: str | None = None, config: str | None = None,
            hf_kwargs: dict[str, Any] | None = None, ds_kwargs: dict[str, Any] | None = None) -> Splits:
    """Resolve with both; the same splits, in the same order, with the same files. Returns hfconnect's."""
    listing = _listing(tmp_path, files, readme)
    ours, our_config = _by_hfconnect(listing, readme, config, **(hf_kwargs or {}))
    theirs, their_config = _by_datasets(tmp_path, config, **(ds_kwargs or {}))
    assert list(ours.items()) == list(theirs.items())
    if readme is not None and config is None:
        assert our_config == their_config  # the default config
    return ours


SHARD = "-00000-of-00001.parquet"
CONVENTIONS = {
    "sharded": ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet",
                "data/test-00000-of-00001.parquet", f"data/validation{SHARD}", f"data/custom{SHARD}"],
    "sharded-only-others-sorted-after-known": [f"data/zeta{SHARD}", f"data/alpha{SHARD}", f"data/test{SHARD}"],
    "sharded-wins-over-dirs": [f"data/train{SHARD}", "test/other.parquet"],
    "split-dirs": ["train/a.parquet", "train/b.parquet", "test/c.parquet", "README-notes/x.parquet"],
    "synonym-dirs": ["training/a.csv", "dev/b.csv", "eval/c.csv"],
    "synonym-dirs-valid-testing": ["train/a.csv", "valid/b.csv", "testing/c.csv"],
    "synonym-dirs-val-evaluation": ["train/a.csv", "val/b.csv", "evaluation/c.csv"],
    "keyword-dir-with-separators": ["my-train-set/a.parquet", "the_test/b.parquet", "train2/c.parquet"],
    "keyword-inside-a-word-is-not-a-split": ["trainer/a.parquet", "contest/b.parquet"],
    "nested-split-dirs": ["data/en/train/x.jsonl", "data/fr/train/y.jsonl", "data/en/validation/z.jsonl"],
    "dirs-win-over-file-names": ["train/a.csv", "dev/b.csv", "test.csv", "x_test.csv"],
    "file-names": ["corpus_train.csv", "corpus-dev.csv", "corpus.test.csv", "train_0.csv", "test 1.csv"],
    "file-name-synonyms": ["training.jsonl", "validation.jsonl", "testing.jsonl"],
    "test-suffix": ["a-train.parquet", "b-test.parquet", "c-test.parquet"],
    "no-keyword-is-all-train": ["data.parquet", "more/data.parquet"],
    "hidden-and-special-dirs": ["train.parquet", "test.parquet", ".hidden/train.parquet", "train/.cache.parquet",
                                "__pycache__/test.parquet", "data/__tmp__/x.parquet", ".test.parquet"],
    "non-data-files-beside": ["data.parquet", "LICENSE", ".gitattributes", "notes.md"],
    "most-common-format-wins": ["a.csv", "b.csv", "c.csv", "d.parquet"],
    "parquet-wins-a-tie": ["a.csv", "b.parquet"],
    "json-beats-csv-on-count": ["a.jsonl", "b.jsonl", "c.csv"],
    "jsonl-wins-a-tie-with-csv": ["a.csv", "b.jsonl"],
    "json-wins-a-tie-with-csv": ["a.csv", "b.json"],
    "json-and-jsonl-are-one-format": ["a.json", "b.jsonl", "c.ndjson"],
    "tsv-is-csv": ["train.tsv", "test.tsv"],
    "json-array-files": ["train.json", "test.json"],
    "ndjson": ["train.ndjson", "test.ndjson"],
    "json-and-jsonl-count-apart": ["a.jsonl", "b.json", "c.csv", "d.csv"],
    # (dataset_infos.json too, but `datasets` reads that one as legacy metadata: it cannot be an empty file)
    "metadata-file-names-are-not-data": ["data.jsonl", "config.json", "dataset_info.json", "dataset_dict.json"],
    "upper-case-keywords-are-not-splits": ["Train/a.parquet", "TEST/b.parquet"],
}


@pytest.mark.parametrize("files", CONVENTIONS.values(), ids=CONVENTIONS.keys())
def test_file_name_conventions_match_datasets(tmp_path: Path, files: list[str]) -> None:
    assert _parity(tmp_path, files)


CARDS = {
    "paths-per-split": {"configs": [{"config_name": "default", "data_files": [
        {"split": "train", "path": "x/train-*.parquet"},
        {"split": "test", "path": ["x/t1.parquet", "x/t2.parquet"]}]}]},
    "one-string": {"configs": [{"config_name": "default", "data_files": "x/*.parquet"}]},
    "list-of-strings": {"configs": [{"config_name": "default", "data_files": ["x/t1.parquet", "x/t2.parquet"]}]},
    "data-dir-with-conventions": {"configs": [{"config_name": "default", "data_dir": "y"}]},
    # `datasets` infers the format from the FIRST config's patterns taken at the repo root (not under its
    # data_dir): a config with data_dir and data_files comes second here, as it must on the Hub too.
    "data-dir-and-patterns": {"configs": [{"config_name": "first", "data_files": "z/*"},
                                          {"config_name": "default", "data_dir": "y",
                                           "data_files": [{"split": "test", "path": "test/*.parquet"}]}]},
    "no-files-no-dir-is-conventions": {"configs": [{"config_name": "default"}]},
    "recursive-glob": {"configs": [{"config_name": "default", "data_files": "**/*.parquet"}]},
    "character-class": {"configs": [{"config_name": "default", "data_files": "x/t[12].parquet"}]},
}
CARD_FILES = ["x/train-0.parquet", "x/train-1.parquet", "x/t1.parquet", "x/t2.parquet", "y/train/a.parquet",
              "y/test/b.parquet", "z/c.parquet"]


@pytest.mark.parametrize("card", CARDS.values(), ids=CARDS.keys())
def test_card_configs_match_datasets(tmp_path: Path, card: dict[str, Any]) -> None:
    assert _parity(tmp_path, CARD_FILES, _card(card))


def test_several_configs_and_the_default_one_match_datasets(tmp_path: Path) -> None:
    card = {"configs": [
        {"config_name": "first", "data_files": "x/*.parquet"},
        {"config_name": "second", "default": True, "data_dir": "y"},
        {"config_name": "third", "data_files": [{"split": "other", "path": "z/*.parquet"}]},
    ]}
    readme = _card(card)
    assert _parity(tmp_path, CARD_FILES, readme) == {"train": ["y/train/a.parquet"], "test": ["y/test/b.parquet"]}
    for name in ("first", "second", "third"):
        ours, _ = _by_hfconnect([RepoFileInfo(p, 0) for p in CARD_FILES], readme, name)
        theirs, _ = _by_datasets(tmp_path, name)
        assert ours == theirs, name


def test_data_dir_and_data_files_options_match_datasets(tmp_path: Path) -> None:
    _listing(tmp_path, CARD_FILES, None)
    listing = [RepoFileInfo(p, 0) for p in CARD_FILES]
    ours, _ = _by_hfconnect(listing, None, data_dir="y")
    assert ours == _by_datasets(tmp_path, data_dir="y")[0] == {"train": ["y/train/a.parquet"],
                                                               "test": ["y/test/b.parquet"]}
    ours, _ = _by_hfconnect(listing, None, data_files=("train=x/train-*.parquet", "test=x/t?.parquet"))
    theirs, _ = _by_datasets(tmp_path, data_files={"train": "x/train-*.parquet", "test": "x/t?.parquet"})
    assert ours == theirs
    ours, _ = _by_hfconnect(listing, None, data_files=("z/*.parquet",))
    assert ours == _by_datasets(tmp_path, data_files="z/*.parquet")[0] == {"train": ["z/c.parquet"]}
    ours, _ = _by_hfconnect(listing, None, data_dir="y", data_files=("test=test/*",))
    assert ours == _by_datasets(tmp_path, data_dir="y", data_files={"test": "test/*"})[0]


def test_options_override_the_card(tmp_path: Path) -> None:
    """data_files/data_dir options replace the card's configs, as `datasets` does with the same arguments."""
    readme = _card({"configs": [{"config_name": "default", "data_files": "x/*.parquet"}]})
    files = [RepoFileInfo(p, 0) for p in CARD_FILES]
    layout = resolve_layout(files, parse_card_yaml(readme), data_dir="y")
    assert layout.source == "data_dir" and list(layout.configs["default"]) == ["train", "test"]
    layout = resolve_layout(files, parse_card_yaml(readme), data_files=("z/*",))
    assert layout.source == "data_files" and [f.path for f in layout.configs["default"]["train"]] == ["z/c.parquet"]
    assert resolve_layout(files, parse_card_yaml(readme)).source == "card"
    assert resolve_layout(files, {}).source == "conventions"


def _paths(layout: DatasetLayout) -> Splits:
    return {split: [f.path for f in fs] for split, fs in layout.configs["default"].items()}


def test_data_files_option_split_syntax() -> None:
    """`split=glob` names the split when the left side is a split name; else the whole text is a glob (train).
    So a hive-style `key=value/` directory needs its split spelled out: `train=year=2024/*`."""
    files = [RepoFileInfo(p, 1) for p in ("year=2024/a.parquet", "q/r.parquet", "q/s.parquet")]
    assert _paths(resolve_layout(files, data_files=("test=q/*", "train=q/s*"))) == {
        "test": ["q/r.parquet", "q/s.parquet"], "train": ["q/s.parquet"]}
    assert _paths(resolve_layout(files, data_files=("x/y=q/*",))) == {}  # a glob, matching nothing
    assert _paths(resolve_layout(files, data_files=("q/r.parquet", "q/s.parquet"))) == {
        "train": ["q/r.parquet", "q/s.parquet"]}
    assert _paths(resolve_layout(files, data_files=("year=2024/*",))) == {}  # split "year", glob "2024/*"
    assert _paths(resolve_layout(files, data_files=("train=year=2024/*",))) == {"train": ["year=2024/a.parquet"]}


def test_sizes_and_formats_are_kept() -> None:
    files = [RepoFileInfo("train.csv", 11), RepoFileInfo("test.csv", 12), RepoFileInfo("x/notes.txt", 13)]
    assert resolve_layout(files).configs == {"default": {"train": (DataFile("train.csv", 11, "csv"),),
                                                         "test": (DataFile("test.csv", 12, "csv"),)}}
    formats = {p: resolve_layout([RepoFileInfo(p, 1)]).configs["default"]["train"][0].format
               for p in ("a.parquet", "a.jsonl", "a.ndjson", "a.json", "a.csv", "a.tsv", "a.PARQUET")}
    assert formats == {"a.parquet": "parquet", "a.jsonl": "json", "a.ndjson": "json", "a.json": "json",
                       "a.csv": "csv", "a.tsv": "csv", "a.PARQUET": "parquet"}
    assert resolve_layout([RepoFileInfo("a.txt", 1), RepoFileInfo("b.arrow", 1)]).configs == {"default": {}}


def test_a_pattern_naming_a_metadata_file_reads_it(tmp_path: Path) -> None:
    """`datasets` skips config.json & co. unless the pattern names the file itself."""
    files = ["config.json", "data.json"]
    readme = _card({"configs": [{"config_name": "default", "data_files": "config.json"}]})
    assert _parity(tmp_path, files, readme) == {"train": ["config.json"]}


def test_a_split_keyword_in_a_non_data_file_only(tmp_path: Path) -> None:
    """Divergence, on purpose: `datasets` finds split names over every file, then fails when the `train`
    files (scripts/train.py) hold no data; hfconnect names splits from data files only and reads `test`."""
    files = ["data/a.parquet", "data/test.parquet", "scripts/train.py"]
    listing = _listing(tmp_path, files, None)
    with pytest.raises(ValueError, match="Couldn't infer the same data file format for all splits"):
        _by_datasets(tmp_path)
    assert _by_hfconnect(listing, None)[0] == {"test": ["data/test.parquet"]}


def test_dict_data_files_in_a_card_are_an_extension(tmp_path: Path) -> None:
    """Divergence, on purpose: hfconnect also reads `data_files: {split: pattern}` in a card (the form
    load_dataset takes as an argument); `datasets` refuses it in README YAML."""
    readme = _card({"configs": [{"config_name": "default",
                                 "data_files": {"train": "x/train-*.parquet", "validation": ["x/t1.parquet"]}}]})
    listing = _listing(tmp_path, CARD_FILES, readme)
    with pytest.raises(ValueError, match="Expected data_files in YAML to be either a string or a list"):
        _by_datasets(tmp_path)
    assert _by_hfconnect(listing, readme)[0] == {"train": ["x/train-0.parquet", "x/train-1.parquet"],
                                                 "validation": ["x/t1.parquet"]}


def test_select_errors_list_what_exists() -> None:
    readme = _card({"configs": [{"config_name": "a", "data_files": "x/*.parquet"},
                                {"config_name": "b", "data_files": {"train": "x/t1*", "test": "x/t2*"}}]})
    layout = resolve_layout([RepoFileInfo(p, 0) for p in CARD_FILES], parse_card_yaml(readme))
    assert layout.default_config == "a"
    with pytest.raises(ConfigNotFoundError, match=r"config 'c' not found; this dataset's configs are: a, b") as exc:
        layout.select("c", "train")
    assert exc.value.available == ["a", "b"]
    with pytest.raises(SplitNotFoundError, match=r"split 'dev' not found in config 'b'; its splits are: train, test") \
            as exc:
        layout.select("b", "dev")
    assert exc.value.available == ["train", "test"]
    assert list(layout.select("b", "all")[1]) == ["train", "test"]
    assert layout.select(None, "train")[0] == "a"


def test_card_yaml_front_matter() -> None:
    assert parse_card_yaml("---\na: 1\n---\n# title\n") == {"a": 1}
    assert parse_card_yaml("# no front matter\n---\na: 1\n---\n") == {}
    assert parse_card_yaml("---\n- a list\n---\n") == {}
    with pytest.raises(HfConnectError, match="the dataset card's YAML header is invalid") as exc:
        parse_card_yaml("---\na: [1\n---\n")
    assert type(exc.value) is HfConnectError


def test_convert_branch_layout() -> None:
    files = [RepoFileInfo(p, 5) for p in ("default/train/0000.parquet", "default/train/0001.parquet",
                                          "default/partial-test/0000.parquet", "other/train/0000.parquet",
                                          "README.md", "default/train/nested/x.parquet")]
    layout = convert_branch_layout(files)
    assert layout.source == "convert" and layout.default_config == "default"
    assert {c: {s: [f.path for f in fs] for s, fs in splits.items()} for c, splits in layout.configs.items()} == {
        "default": {"train": ["default/train/0000.parquet", "default/train/0001.parquet"],
                    "test": ["default/partial-test/0000.parquet"]},
        "other": {"train": ["other/train/0000.parquet"]}}
    assert convert_branch_layout([RepoFileInfo("b/train/0.parquet", 1)]).default_config == "b"
    assert is_empty(convert_branch_layout([])) and not is_empty(layout)


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("*.parquet", "a.parquet", True), ("*.parquet", "d/a.parquet", False), ("**/*.parquet", "a.parquet", True),
    ("**/*.parquet", "d/e/a.parquet", True), ("d/**", "d/e/a", True), ("d/?.csv", "d/a.csv", True),
    ("d/?.csv", "d/ab.csv", False), ("t[12].csv", "t2.csv", True), ("t[!12].csv", "t2.csv", False),
    ("t[!12].csv", "t3.csv", True), ("a+b.csv", "a+b.csv", True), ("a.csv", "aXcsv", False), ("[x", "[x", True),
])
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    """fsspec's: `*`/`?` stay in a path segment, `**` crosses them, `[!...]` negates; the rest is literal."""
    assert bool(glob_regex(pattern).match(path)) is matches
