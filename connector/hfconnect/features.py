"""The Hub's features of a column, both ways: what `datasets` and the dataset viewer decode a column as.

In Parquet on the Hub an image, audio or video column is a struct `{bytes: binary, path: string}`; what makes it
an image is the feature `{"_type": "Image"}`, written twice by `datasets`: in the Parquet schema's `huggingface`
key-value metadata (`{"info": {"features": {column: feature}}}`, `datasets.arrow_writer`) and in the dataset card's
`dataset_info.features` (YAML, `Features._to_yaml_list`). The same goes for `ClassLabel` names, fixed-length lists
and `Array2D` shapes, which the Arrow type alone does not carry.

hfconnect owns this convention here, without importing `datasets` (a test dependency only; the tests check these
JSON and YAML shapes against it). A read puts each column's feature in its field's metadata (`FEATURE_KEY`) so that
an engine keeps it with the column; a write derives the features from those fields, from the `features` option
(binary or `{bytes, path}` columns named as Image/Audio/Video) and from a schema's own `huggingface` metadata, and
puts them back into the files' schema metadata and the card.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from .errors import OptionError

__all__ = ["FEATURE_KEY", "HF_KEY", "MEDIA_ROW_GROUP_ROWS", "MEDIA_STORAGE", "MEDIA_TYPES", "conform_batch",
           "feature_of", "feature_to_yaml", "features_metadata", "field_feature", "informative", "media_columns",
           "parse_features", "pop_features_option", "schema_features", "with_features", "with_field_features"]

HF_KEY = b"huggingface"  # the Parquet schema's key-value metadata `datasets` writes and reads
FEATURE_KEY = "huggingface.feature"  # a field's feature (JSON), as a read hands it to an engine
MEDIA_TYPES = ("Image", "Audio", "Video")
MEDIA_ROW_GROUP_ROWS = 100  # the Hub's advice for image/audio/video rows (keeps the viewer's row fetches small)
MEDIA_STORAGE = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
_PLAIN = ("Value", "List", "LargeList")  # features the Arrow type alone gives back (unless a List has a length)


def features_metadata(features: Mapping[str, Any]) -> dict[bytes, bytes]:
    """A schema's `huggingface` metadata for these column features, as `datasets` writes it."""
    return {HF_KEY: json.dumps({"info": {"features": dict(features)}}).encode()}


def schema_features(schema: pa.Schema | None) -> dict[str, Any]:
    """column -> feature from the schema's `huggingface` metadata ({} when absent or not what `datasets` writes)."""
    raw = (schema.metadata or {}).get(HF_KEY) if schema is not None else None
    if not raw:
        return {}
    try:
        features = json.loads(raw).get("info", {}).get("features")
    except (ValueError, AttributeError):
        return {}
    return features if isinstance(features, dict) else {}


def field_feature(field: pa.Field) -> dict[str, Any] | None:
    """The feature a read put in the field's metadata, if any."""
    raw = (field.metadata or {}).get(FEATURE_KEY.encode())
    if not raw:
        return None
    try:
        feature = json.loads(raw)
    except ValueError:
        return None
    return feature if isinstance(feature, dict) else None


def feature_of(schema: pa.Schema, name: str) -> dict[str, Any] | None:
    """A column's feature: its field's, else the schema's `huggingface` metadata's."""
    return field_feature(schema.field(name)) or schema_features(schema).get(name)


def _is_media(feature: Any) -> bool:
    return isinstance(feature, dict) and feature.get("_type") in MEDIA_TYPES


def media_columns(schema: pa.Schema) -> list[str]:
    """The columns whose feature is Image, Audio or Video."""
    return [f.name for f in schema if _is_media(feature_of(schema, f.name))]


def informative(feature: Any) -> bool:
    """Does the feature say more than the Arrow type (a media type, ClassLabel, Array2D, a list's length)?"""
    if isinstance(feature, list | tuple):
        return any(informative(f) for f in feature)
    if not isinstance(feature, dict):
        return False
    kind = feature.get("_type")
    if kind is None:  # a struct: {name: feature}
        return any(informative(f) for f in feature.values())
    if kind not in _PLAIN:
        return True
    return feature.get("length", -1) not in (-1, None) or informative(feature.get("feature"))


def parse_features(key: str, value: Any) -> dict[str, dict[str, Any]]:
    """The `features` option: column -> feature. A JSON object (`{"img": "Image", "clip": {"_type": "Audio",
    "sampling_rate": 16000}}`), `img=Image,clip=Audio`, or a dict; a type name is Image, Audio or Video."""
    if isinstance(value, Mapping):
        raw: Any = dict(value)
    else:
        text = str(value).strip()
        if text.startswith("{"):
            try:
                raw = json.loads(text)
            except ValueError:
                raise OptionError(f"option {key}={value!r}: not a valid JSON object; write e.g. "
                                  '{"image": "Image", "clip": "Audio"}') from None
        else:
            pairs = [p.split("=", 1) if "=" in p else p.split(":", 1) for p in text.split(",") if p.strip()]
            if not pairs or any(len(p) != 2 for p in pairs):
                raise OptionError(f"option {key}={value!r}: expected column=Type pairs such as "
                                  "image=Image,clip=Audio (or a JSON object)")
            raw = {c.strip(): t.strip() for c, t in pairs}
    out: dict[str, dict[str, Any]] = {}
    for column, feature in raw.items():
        if isinstance(feature, str):
            kind = {t.lower(): t for t in MEDIA_TYPES}.get(feature.strip().lower())
            if kind is None:
                raise OptionError(f"option {key}: column {column!r} is given type {feature!r}; use Image, Audio or "
                                  'Video, or a feature as JSON such as {"_type": "Audio", "sampling_rate": 16000}')
            out[str(column)] = {"_type": kind}
        elif isinstance(feature, dict) and isinstance(feature.get("_type"), str):
            out[str(column)] = dict(feature)
        else:
            raise OptionError(f"option {key}: column {column!r} has {feature!r}; give a type name (Image, Audio, "
                              'Video) or a feature object with a "_type"')
    return out


def pop_features_option(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The `features` write option (any case) parsed and taken out of `values`: it shapes the schema the job
    writes (`with_features`), which then carries the features to every task."""
    keys = [k for k in values if k.lower() == "features"]
    if len(keys) > 1:
        raise OptionError(f"option 'features' is given twice, as {keys[0]!r} and {keys[1]!r}: give it once")
    value = values.pop(keys[0]) if keys else None
    return {} if value is None else parse_features(keys[0], value)


def _media_source(t: pa.DataType) -> bool:
    """A type a media column can be written from: binary (the file's bytes) or {bytes: binary, path: string}."""
    binary = pa.types.is_binary(t) or pa.types.is_large_binary(t)
    if binary:
        return True
    if not pa.types.is_struct(t) or sorted(f.name for f in t) != ["bytes", "path"]:
        return False
    b, p = t.field("bytes").type, t.field("path").type
    return (pa.types.is_binary(b) or pa.types.is_large_binary(b) or pa.types.is_null(b)) and \
        (pa.types.is_string(p) or pa.types.is_large_string(p) or pa.types.is_null(p))


def with_features(schema: pa.Schema, named: Mapping[str, dict[str, Any]] | None = None) -> pa.Schema:
    """The schema a write gives its files: each column's feature (named in `named`, else its field's, else the
    schema's `huggingface` metadata's) in its field's metadata and, for every such column, in the schema's
    `huggingface` metadata, as `datasets` writes it. Media columns get `{bytes: binary, path: string}` (the
    batches are converted by `conform_batch`). Features the Arrow type gives back anyway are left out."""
    named = dict(named or {})
    unknown = [c for c in named if c not in schema.names]
    if unknown:
        raise OptionError(f"option features names column(s) {', '.join(map(repr, unknown))} that the data does not "
                          f"have; its columns are {', '.join(schema.names)}")
    inherited = schema_features(schema)
    fields, features = [], {}
    for f in schema:
        feature = named.get(f.name) or field_feature(f) or inherited.get(f.name)
        metadata = {k: v for k, v in (f.metadata or {}).items() if k != FEATURE_KEY.encode()}
        if feature is not None and _is_media(feature) and not _media_source(f.type) and f.name not in named:
            feature = None  # the column is no longer media (a read's feature on a column since replaced)
        if feature is not None and _is_media(feature):
            if not _media_source(f.type):
                kind = feature["_type"]
                article = "an" if kind[0] in "AEIOU" else "a"
                raise OptionError(f"column {f.name!r} is {f.type}: {article} {kind} column must be binary (the "
                                  "file's bytes) or struct<bytes: binary, path: string>; cast it, or leave it out of "
                                  "option features")
            f = f.with_type(MEDIA_STORAGE)
        elif feature is not None and (f.name not in named and not informative(feature)
                                      or not _fits(feature, f.type)):
            feature = None  # the Arrow type says it all, or the column changed since the read that brought it
        if feature is not None:
            features[f.name] = feature
            metadata[FEATURE_KEY.encode()] = json.dumps(feature).encode()
        fields.append(f.with_metadata(metadata) if metadata else f.remove_metadata())
    schema_meta = {k: v for k, v in (schema.metadata or {}).items() if k != HF_KEY}
    if features:
        schema_meta.update(features_metadata(features))
    return pa.schema(fields, metadata=schema_meta or None)


def _fits(feature: dict[str, Any], t: pa.DataType) -> bool:
    """Could a column of type `t` hold this (non-media) feature? (A label must stay an integer, a list a list.)"""
    if isinstance(t, pa.BaseExtensionType):  # `datasets`' Array2D..5D types, when it is imported
        t = t.storage_type
    kind = feature.get("_type")
    if kind == "ClassLabel":
        return pa.types.is_integer(t)
    if kind in ("List", "LargeList", "Sequence") or (kind or "").startswith("Array"):
        return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    if kind is None:
        return pa.types.is_struct(t)
    return True


def with_field_features(schema: pa.Schema) -> pa.Schema:
    """A read's schema with each column's feature from the `huggingface` metadata in its field's metadata (kept
    by an engine with the column; a column the Arrow type describes fully gets none)."""
    features = schema_features(schema)
    fields = []
    for f in schema:
        feature = features.get(f.name)
        if feature is not None and informative(feature):
            f = f.with_metadata({**(f.metadata or {}), FEATURE_KEY.encode(): json.dumps(feature).encode()})
        fields.append(f)
    return pa.schema(fields, metadata=schema.metadata)


def conform_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` in `schema`'s types: binary columns of media fields wrapped as `{bytes, path: null}`, then cast."""
    if batch.schema.names != schema.names:  # pyarrow's own error names both sides
        return pa.Table.from_batches([batch]).cast(schema).to_batches()[0]
    columns = []
    for column, target in zip(batch.columns, schema.types, strict=True):
        if target.equals(MEDIA_STORAGE) and (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
            data = column.cast(pa.binary())
            column = pa.StructArray.from_arrays([data, pa.nulls(len(data), pa.string())], fields=list(MEDIA_STORAGE),
                                                mask=data.is_null())
        elif not column.type.equals(target):
            column = column.cast(target)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


# ---- the card's YAML form of a feature (datasets' Features._to_yaml_list, one column at a time) ----------------

_UPPER_UPPER = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z\d])([A-Z])")


def _snake(name: str) -> str:
    return _LOWER_UPPER.sub(r"\1_\2", _UPPER_UPPER.sub(r"\1_\2", name)).lower()


def _simplify(feature: dict[str, Any]) -> dict[str, Any]:
    for list_type in ("large_list", "list", "sequence"):
        inner = feature.get(list_type)
        if isinstance(inner, dict) and list(inner) == ["dtype"]:
            feature[list_type] = inner["dtype"]
        elif isinstance(inner, dict) and list(inner) == ["struct"]:
            feature[list_type] = inner["struct"]
    label = feature.get("class_label")
    if isinstance(label, dict) and isinstance(label.get("names"), list):
        label["names"] = {str(i): n for i, n in enumerate(label["names"])}
    return feature


def _to_yaml(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        kind = obj.pop("_type", None)
        if kind in ("LargeList", "List"):
            inner = obj.pop("feature")
            return _simplify({"large_list" if kind == "LargeList" else "list": _to_yaml(inner), **obj})
        if kind == "Value":
            return obj
        if kind and not obj:
            return {"dtype": _snake(kind)}
        if kind:
            return {"dtype": _simplify({_snake(kind): obj})}
        return {"struct": [{"name": name, **_to_yaml(f)} for name, f in obj.items()]}
    if isinstance(obj, list | tuple):
        return _simplify({"list": _simplify(_to_yaml(list(obj)[0]))})
    raise OptionError(f"a feature must be a JSON object or list, not {obj!r}")


def feature_to_yaml(feature: dict[str, Any]) -> dict[str, Any]:
    """One column's entry of the card's `dataset_info.features` (without its `name`), as `datasets` writes it."""
    return _lists(_to_yaml(copy.deepcopy(feature)))


def _lists(obj: Any) -> Any:
    """Tuples (an Array2D's shape from `Features.to_dict`) as lists, as YAML and JSON hold them."""
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_lists(v) for v in obj]
    return obj
