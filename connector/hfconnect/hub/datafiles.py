"""Configs and splits as the `datasets` library sees them, from a commit's file listing.

Order, as in `datasets`: the dataset card's YAML `configs:`; else the Hub's file-name conventions
(`data/{split}-NNNNN-of-NNNNN.*`, `train/`, `*-test.*`, synonyms such as `dev` for validation); the caller
falls back to the `refs/convert/parquet` branch when nothing here is a data file.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import ConfigNotFoundError, HfConnectError, SplitNotFoundError
from .snapshot import RepoFileInfo

__all__ = ["DataFile", "DatasetLayout", "convert_branch_layout", "parse_card_yaml", "resolve_layout"]

FORMATS = {".parquet": "parquet", ".jsonl": "json", ".ndjson": "json", ".json": "json", ".csv": "csv",
           ".tsv": "csv", ".tar": "webdataset", ".tar.gz": "webdataset", ".tgz": "webdataset"}
# `datasets` counts every suffix of a name: `x.tar.gz` counts as a `.tar` (WebDataset) file.
_COUNTED_AS = {".tar.gz": ".tar", ".tgz": ".tar"}
SPLIT_KEYWORDS = {
    "train": ("train", "training"),
    "validation": ("validation", "valid", "dev", "val"),
    "test": ("test", "testing", "eval", "evaluation"),
}
# Names `datasets` skips when it resolves data files (dataset_infos.json it reads as legacy metadata).
FILES_TO_IGNORE = frozenset({"README.md", "config.json", "dataset_info.json", "dataset_infos.json",
                             "dummy_data.zip", "dataset_dict.json"})
_TIE_ORDER = (".parquet", ".jsonl", ".json", ".csv")  # `datasets`' order among equally common extensions
_SEP = "[-._ 0-9]"
_SHARDED = re.compile(r"^data/(?P<split>\w+)-\d{5}-of-\d{5}[^/]*\.[^/]+$")
_CONVERT = re.compile(r"^(?P<config>[^/]+)/(?:partial-)?(?P<split>[^/]+)/[^/]+\.parquet$")
_SPLIT_NAME = re.compile(r"^\w+(?:\.\w+)*$")


@dataclass(frozen=True)
class DataFile:
    path: str
    size: int
    format: str


@dataclass(frozen=True)
class DatasetLayout:
    """config -> split -> files, the default config, and where the layout came from."""

    configs: dict[str, dict[str, tuple[DataFile, ...]]]
    default_config: str
    source: str

    def select(self, config: str | None, split: str) -> tuple[str, dict[str, tuple[DataFile, ...]]]:
        """The files of one split (or of every split for split='all'); errors list what exists."""
        name = config or self.default_config
        if name not in self.configs:
            raise ConfigNotFoundError(
                f"config {name!r} not found; this dataset's configs are: {', '.join(sorted(self.configs))}",
                config=name, available=sorted(self.configs))
        splits = self.configs[name]
        if split == "all":
            return name, dict(splits)
        if split not in splits:
            raise SplitNotFoundError(
                f"split {split!r} not found in config {name!r}; its splits are: {', '.join(splits)} "
                "(or split='all' for every split)", split=split, available=list(splits))
        return name, {split: splits[split]}


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """fsspec-style glob: `*` and `?` stay within a path segment, `**` crosses them, `[...]` is a class."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1:j].replace("\\", "\\\\")
                out.append(f"[{'^' + body[1:] if body.startswith('!') else body}]")
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def _data_files(files: list[RepoFileInfo]) -> list[DataFile]:
    """Files with a data extension, not hidden (a segment starting with '.' or '__'), as datasets skips them."""
    out = []
    for f in files:
        parts = f.path.split("/")
        if any(p.startswith(".") or p.startswith("__") for p in parts):
            continue
        if (ext := _extension(f.path)) is not None:
            out.append(DataFile(f.path, f.size, FORMATS[ext]))
    return out


def _extension(path: str) -> str | None:
    """The data extension a path ends with (a key of FORMATS), or None."""
    lower = path.lower()
    return next((ext for ext in FORMATS if lower.endswith(ext)), None)


def _ignored(path: str, pattern: str = "") -> bool:
    """A metadata file `datasets` never reads as data, unless a pattern names it exactly."""
    name = posixpath.basename(path)
    return name in FILES_TO_IGNORE and name != posixpath.basename(pattern)


def _match(files: list[DataFile], patterns: list[str], base: str = "") -> list[DataFile]:
    prefix = f"{base.strip('/')}/" if base.strip("/") else ""
    full = [prefix + p.lstrip("/") for p in patterns]
    return [f for f in files if any(glob_regex(p).match(f.path) and not _ignored(f.path, p) for p in full)]


def _by_conventions(files: list[DataFile], base: str = "") -> dict[str, list[DataFile]]:
    """The Hub's split conventions, tried in the order `datasets` tries them."""
    prefix = f"{base.strip('/')}/" if base.strip("/") else ""
    scoped = [f for f in files if f.path.startswith(prefix) and not _ignored(f.path)]
    rel = {f.path: f.path[len(prefix):] for f in scoped}
    sharded: dict[str, list[DataFile]] = {}
    for f in scoped:
        if m := _SHARDED.match(rel[f.path]):
            sharded.setdefault(m["split"], []).append(f)
    if sharded:
        order = [s for s in SPLIT_KEYWORDS if s in sharded] + sorted(set(sharded) - set(SPLIT_KEYWORDS))
        return {s: sharded[s] for s in order}
    dir_patterns = ["**/{kw}/**", "**/{kw}" + _SEP + "*/**", "**/*" + _SEP + "{kw}/**",
                    "**/*" + _SEP + "{kw}" + _SEP + "*/**"]
    name_patterns = ["**/{kw}" + _SEP + "*", "**/*" + _SEP + "{kw}" + _SEP + "*"]
    for family in (dir_patterns, name_patterns):
        found: dict[str, list[DataFile]] = {}
        for split, keywords in SPLIT_KEYWORDS.items():
            for kw in keywords:
                pats = [p.format(kw=kw) for p in family]
                hits = [f for f in scoped if any(glob_regex(p).match(rel[f.path]) for p in pats)]
                if hits:
                    found[split] = hits
                    break
        if found:
            return found
    return {"train": scoped} if scoped else {}


def _one_format(splits: dict[str, list[DataFile]]) -> dict[str, tuple[DataFile, ...]]:
    """Like `datasets`, read the format of the most common file extension and ignore the others. Extensions
    count apart (2 .csv beat 1 .json + 1 .jsonl); a tie goes to .parquet, then .jsonl, .json, .csv."""
    counts = Counter(_COUNTED_AS.get(ext, ext) for files in splits.values() for f in files
                     if (ext := _extension(f.path)) is not None)
    if not counts:
        return {}
    ext = max(counts, key=lambda e: (counts[e], *(e == p for p in _TIE_ORDER), e))
    fmt = FORMATS[ext]
    out = {s: tuple(sorted((f for f in fs if f.format == fmt), key=lambda f: f.path)) for s, fs in splits.items()}
    return {s: fs for s, fs in out.items() if fs}


def parse_card_yaml(readme: str) -> dict[str, Any]:
    """The YAML front matter of a dataset card (README.md), or {} when there is none."""
    import yaml

    m = re.match(r"^---\s*\n(.*?)\n---\s*(?:\n|$)", readme, re.DOTALL)
    if not m:
        return {}
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        raise HfConnectError(f"the dataset card's YAML header is invalid: {exc}") from None
    return data if isinstance(data, dict) else {}


def _card_configs(card: dict[str, Any], files: list[DataFile]) -> DatasetLayout | None:
    configs = card.get("configs")
    if not isinstance(configs, list) or not configs:
        return None
    layout: dict[str, dict[str, tuple[DataFile, ...]]] = {}
    default = None
    for entry in configs:
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("config_name", "default"))
        data_dir = str(entry.get("data_dir") or "")
        spec = entry.get("data_files")
        if spec is None:
            splits = _by_conventions(files, data_dir)
        else:
            splits = {}
            for split, patterns in _split_patterns(spec).items():
                splits[split] = _match(files, patterns, data_dir)
        layout[name] = _one_format(splits)
        if entry.get("default") and default is None:
            default = name
    if not layout:
        return None
    if default is None:
        default = "default" if "default" in layout else next(iter(layout))
    return DatasetLayout(layout, default, "card")


def _split_patterns(spec: Any) -> dict[str, list[str]]:
    if isinstance(spec, str):
        return {"train": [spec]}
    if isinstance(spec, dict):
        return {str(k): [v] if isinstance(v, str) else list(v) for k, v in spec.items()}
    out: dict[str, list[str]] = {}
    for item in spec:
        if isinstance(item, str):
            out.setdefault("train", []).append(item)
        elif isinstance(item, dict):
            paths = item.get("path", [])
            out.setdefault(str(item.get("split", "train")), []).extend([paths] if isinstance(paths, str) else paths)
    return out


def resolve_layout(
    files: list[RepoFileInfo],
    card: dict[str, Any] | None = None,
    *,
    data_files: tuple[str, ...] | None = None,
    data_dir: str | None = None,
) -> DatasetLayout:
    """The dataset's configs and splits. Options `data_files`/`data_dir` override the card."""
    candidates = _data_files(files)
    if data_files:
        splits: dict[str, list[DataFile]] = {}
        for pattern in data_files:
            split, sep, glob = pattern.partition("=")
            split, glob = (split, glob) if sep and _SPLIT_NAME.match(split) else ("train", pattern)
            splits.setdefault(split, []).extend(_match(candidates, [glob], data_dir or ""))
        return DatasetLayout({"default": _one_format(splits)}, "default", "data_files")
    if data_dir:
        return DatasetLayout({"default": _one_format(_by_conventions(candidates, data_dir))}, "default",
                             "data_dir")
    if card and (from_card := _card_configs(card, candidates)):
        return from_card
    return DatasetLayout({"default": _one_format(_by_conventions(candidates))}, "default", "conventions")


def convert_branch_layout(files: list[RepoFileInfo]) -> DatasetLayout:
    """`refs/convert/parquet`: `{config}/{split}/NNNN.parquet` (and `partial-{split}`)."""
    layout: dict[str, dict[str, list[DataFile]]] = {}
    for f in files:
        if m := _CONVERT.match(f.path):
            layout.setdefault(m["config"], {}).setdefault(m["split"], []).append(DataFile(f.path, f.size, "parquet"))
    configs = {c: {s: tuple(sorted(fs, key=lambda f: f.path)) for s, fs in splits.items()}
               for c, splits in layout.items()}
    default = "default" if "default" in configs else (sorted(configs)[0] if configs else "default")
    return DatasetLayout(configs, default, "convert")


def is_empty(layout: DatasetLayout) -> bool:
    return not any(files for splits in layout.configs.values() for files in splits.values())
