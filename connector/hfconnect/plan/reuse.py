"""A plan made earlier (for Spark's schema(), in another process) reused for the partitions of a query: the
same shards with the query's columns, without the planner, its imports or any Hub request."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import OptionError
from .model import SPLIT_COLUMN, ReadPlan

if TYPE_CHECKING:
    import pyarrow as pa

    from ..options import ReadOptions

__all__ = ["media_schema", "output_schema", "reuse_plan", "same_filter"]


def same_filter(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(a.equals(b))  # type: ignore[attr-defined]


def output_schema(file_schema: pa.Schema, columns: Iterable[str] | None, add_split: bool) -> pa.Schema:
    import pyarrow as pa

    if add_split and SPLIT_COLUMN in file_schema.names:
        raise OptionError(f"split='all' adds a {SPLIT_COLUMN!r} column, but the data already has one: "
                          "read the splits one at a time")
    fields = list(file_schema)
    if columns:
        missing = [c for c in columns if c not in file_schema.names and not (add_split and c == SPLIT_COLUMN)]
        if missing:
            raise OptionError(f"column(s) {missing} not in the dataset; its columns are: "
                              f"{', '.join(file_schema.names)}")
        fields = [file_schema.field(c) for c in columns if c != SPLIT_COLUMN]
    if add_split and (not columns or SPLIT_COLUMN in columns):
        fields.append(pa.field(SPLIT_COLUMN, pa.string(), nullable=False))
    return pa.schema(fields)


def media_schema(file_schema: pa.Schema, columns: Iterable[str] | None, add_split: bool) -> pa.Schema:
    """An image/audio folder read's schema: `output_schema` with the `huggingface` features of the columns it
    keeps (the rows are built, not read from files that carry them: engines take the features from here)."""
    import json

    schema = output_schema(file_schema, columns, add_split)
    raw = (file_schema.metadata or {}).get(b"huggingface")
    if not raw:
        return schema
    info = json.loads(raw)
    features = info.get("info", {}).get("features") or {}
    kept = {name: features[name] for name in schema.names if name in features}
    return schema.with_metadata({b"huggingface": json.dumps({"info": {"features": kept}}).encode()})


def reuse_plan(options: ReadOptions, base: ReadPlan | None, *, filter: object = None,
               filter_columns: Iterable[str] = (), columns: Iterable[str] | None = None) -> ReadPlan | None:
    """`base` narrowed to `columns` when its filter is the query's (`options.filters` when `filter` is None),
    else None: the query needs the planner (footers to prune by the new filter)."""
    filter = options.filters if filter is None else filter
    if base is None or not same_filter(filter, base.filter):
        return None
    filter_columns = tuple(filter_columns)
    shape = media_schema if base.media_builder else output_schema
    schema = shape(base.file_schema, columns or options.columns, options.split == "all")
    return replace(base, schema=schema, filter_columns=filter_columns or base.filter_columns, client=options.client)
