"""Arrow columns from decoded Python values, built from their bytes at once where pyarrow would convert bytes
objects one by one: the readers of tars and media folders hand over many large image and audio members."""

from __future__ import annotations

import itertools
from array import array
from typing import Any

import pyarrow as pa

__all__ = ["binary_array", "column_array"]


def binary_array(values: list[bytes | None]) -> pa.Array:
    """`pa.array(values, pa.binary())` from one join of the bytes: pyarrow converts bytes objects one by one,
    several times slower for media members (bench/MEASUREMENTS.md)."""
    sizes = [0 if v is None else len(v) for v in values]
    if sum(sizes) >= 2**31 - 1:  # past int32 offsets: pyarrow splits or widens as it does
        return pa.array(values, pa.binary())
    offsets = array("i", itertools.accumulate(sizes, initial=0))
    data = b"".join(v for v in values if v is not None)
    nulls = sum(v is None for v in values)
    validity = pa.array([v is not None for v in values]).buffers()[1] if nulls else None
    return pa.Array.from_buffers(pa.binary(), len(values), [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                 null_count=nulls)


def column_array(values: list[Any], t: pa.DataType) -> pa.Array:
    """One column of decoded values: binary and {bytes, path} media columns built from their bytes at once."""
    if t == pa.binary():
        return binary_array(values)
    if pa.types.is_struct(t) and [f.name for f in t] == ["bytes", "path"] and t.field("bytes").type == pa.binary():
        mask = pa.array([v is None for v in values]) if any(v is None for v in values) else None
        media = [{} if v is None else v for v in values]
        return pa.StructArray.from_arrays([binary_array([m.get("bytes") for m in media]),
                                           pa.array([m.get("path") for m in media], t.field("path").type)],
                                          fields=list(t), mask=mask)
    return pa.array(values, type=t)
