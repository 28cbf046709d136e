"""The dataset card (README.md) kept in step with the data, in the same commit as the data.

Only the YAML keys `configs` (this config's data_files for this split) and `dataset_info` (features and
num_examples) change; prose and every other key stay as they were, so `datasets.load_dataset` sees the
split at once.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import yaml

from ..features import feature_of, feature_to_yaml

__all__ = ["arrow_to_features", "update_card"]

_FRONT = re.compile(r"^---\s*\n(.*?)\n---\s*(?:\n|$)", re.DOTALL)
_SIMPLE = {
    pa.bool_(): "bool", pa.int8(): "int8", pa.int16(): "int16", pa.int32(): "int32", pa.int64(): "int64",
    pa.uint8(): "uint8", pa.uint16(): "uint16", pa.uint32(): "uint32", pa.uint64(): "uint64",
    pa.float16(): "float16", pa.float32(): "float32", pa.float64(): "float64", pa.string(): "string",
    pa.large_string(): "large_string", pa.binary(): "binary", pa.large_binary(): "large_binary",
    pa.date32(): "date32", pa.null(): "null",
}


def _feature(t: pa.DataType) -> Any:
    if t in _SIMPLE:
        return {"dtype": _SIMPLE[t]}
    if pa.types.is_timestamp(t):
        return {"dtype": f"timestamp[{t.unit}" + (f", tz={t.tz}]" if t.tz else "]")}
    if pa.types.is_dictionary(t):
        return _feature(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        inner = _feature(t.value_type)
        if inner is None:
            return None
        out: dict[str, Any] = {"large_list" if pa.types.is_large_list(t) else "list": inner.get("dtype", inner)}
        if pa.types.is_fixed_size_list(t):
            out["length"] = t.list_size
        return out
    if pa.types.is_struct(t):
        fields = [dict(name=f.name, **(_feature(f.type) or {})) for f in t]
        return None if any(len(f) == 1 for f in fields) else {"struct": fields}
    return None


def arrow_to_features(schema: pa.Schema) -> list[dict[str, Any]] | None:
    """`datasets`' YAML features for an Arrow schema, or None when a type has no faithful YAML form
    (then the card leaves features out and `datasets` reads them from the Parquet files). A column with a
    feature (`hfconnect.features`: Image, Audio, ClassLabel, ...) gets that feature's YAML form."""
    out = []
    for f in schema:
        feature = feature_of(schema, f.name)
        feat = feature_to_yaml(feature) if feature is not None else _feature(f.type)
        if feat is None:
            return None
        out.append({"name": f.name, **feat})
    return out


def split_card(readme: str) -> tuple[dict[str, Any], str]:
    m = _FRONT.match(readme)
    if not m:
        return {}, readme
    data = yaml.safe_load(m.group(1)) or {}
    return (data if isinstance(data, dict) else {}), readme[m.end():]


def update_card(readme: str | None, *, config: str, split: str, data_dir: str, schema: pa.Schema,
                num_rows: int | None, splits_present: list[str], num_bytes: int = 0, features: bool = True) -> str:
    """The new README text: this config/split registered, everything else preserved. `features=False` leaves
    the features out (a WebDataset split: `datasets` types its members by extension, and declared features
    would stop it from decoding images as images)."""
    meta, body = split_card(readme or "")
    if not body.strip():
        body = f"\n# {config if config != 'default' else 'Dataset'}\n\nWritten with hfconnect.\n"
    found = meta.get("configs")
    configs: list[Any] = found if isinstance(found, list) else []
    entry = next((c for c in configs if isinstance(c, dict) and c.get("config_name", "default") == config), None)
    if entry is None:
        entry = {"config_name": config, "data_files": []}
        if not configs:
            entry["default"] = True
        configs.append(entry)
    files = entry.get("data_files")
    if not isinstance(files, list) or any(not isinstance(f, dict) for f in files):
        files = []
    files = [f for f in files if f.get("split") != split and f.get("split") in splits_present]
    files.append({"split": split, "path": f"{data_dir}/{split}-*"})
    entry["data_files"] = sorted(files, key=lambda f: _split_order(f["split"]))
    meta["configs"] = configs
    _update_info(meta, config, split, schema if features else None, num_rows, splits_present, num_bytes)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip()
    return f"---\n{front}\n---\n{body if body.startswith(chr(10)) else chr(10) + body}"


def _split_order(split: str) -> tuple[int, str]:
    return ({"train": 0, "validation": 1, "test": 2}.get(split, 3), split)


def _update_info(meta: dict[str, Any], config: str, split: str, schema: pa.Schema | None, num_rows: int | None,
                 splits_present: list[str], num_bytes: int) -> None:
    infos = meta.get("dataset_info")
    as_list = isinstance(infos, list)
    entries: list[Any] = infos if isinstance(infos, list) else ([infos] if isinstance(infos, dict) else [])
    info = next((i for i in entries if isinstance(i, dict) and i.get("config_name", "default") == config), None)
    if info is None:
        info = {"config_name": config}
        entries.append(info)
    features = arrow_to_features(schema) if schema is not None else None
    if features is not None and schema is not None:
        info["features"] = _keep_declared(info.get("features"), features, schema)
    else:
        info.pop("features", None)
    splits = [s for s in (info.get("splits") or []) if isinstance(s, dict) and s.get("name") != split
              and s.get("name") in splits_present]
    if num_rows is not None:
        splits.append({"name": split, "num_bytes": num_bytes, "num_examples": num_rows})
    info["splits"] = sorted(splits, key=lambda s: _split_order(s["name"]))
    meta["dataset_info"] = entries if (as_list or len(entries) > 1) else entries[0]


_MEDIA_DTYPES = ("image", "audio", "video")


def _keep_declared(old: Any, new: list[dict[str, Any]], schema: pa.Schema) -> list[dict[str, Any]]:
    """The new features, except that a column written without a feature keeps the media or class_label feature
    the card declares for it while its type still fits ({bytes, path}; an integer): an append from an engine
    that lost the feature (Daft's read) leaves the split's images images."""
    declared = {e.get("name"): e for e in old if isinstance(e, dict)} if isinstance(old, list) else {}
    out = []
    for entry in new:
        name = entry["name"]
        before = declared.get(name)
        t = schema.field(name).type if name in schema.names else None
        if before is not None and t is not None and feature_of(schema, name) is None and _fits(before, t):
            entry = before
        out.append(entry)
    return out


def _fits(entry: dict[str, Any], t: pa.DataType) -> bool:
    dtype = entry.get("dtype")
    kind = dtype if isinstance(dtype, str) else next(iter(dtype), None) if isinstance(dtype, dict) else None
    if kind in _MEDIA_DTYPES:
        return pa.types.is_struct(t) and sorted(f.name for f in t) == ["bytes", "path"]
    return kind == "class_label" and pa.types.is_integer(t)


def split_rows(readme: str | None, config: str, split: str) -> int | None:
    """num_examples the card records for a split, if any (to keep counts right on append)."""
    meta, _ = split_card(readme or "")
    infos = meta.get("dataset_info")
    entries = infos if isinstance(infos, list) else [infos] if isinstance(infos, dict) else []
    for info in entries:
        if isinstance(info, dict) and info.get("config_name", "default") == config:
            for s in info.get("splits") or []:
                if isinstance(s, dict) and s.get("name") == split and isinstance(s.get("num_examples"), int):
                    return s["num_examples"]
    return None
