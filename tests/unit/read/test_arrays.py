"""read.arrays: binary and {bytes, path} columns built from one join of their bytes equal pyarrow's own
conversion, nulls and empty values included; other types go through pa.array."""

from __future__ import annotations

import pyarrow as pa

from hfconnect.read.arrays import binary_array, column_array

MEDIA = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def test_binary_and_media_columns_equal_pyarrows_conversion() -> None:
    blobs = [b"\x00" * 5, None, b"", b"abc" * 1000]
    media = [None if b is None else {"bytes": b, "path": f"k{i}.jpg"} for i, b in enumerate(blobs)]
    assert binary_array(blobs).equals(pa.array(blobs, pa.binary()))
    assert column_array(media, MEDIA).equals(pa.array(media, MEDIA))
    assert binary_array([b"x", b"y"]).null_count == 0
    assert column_array([{"bytes": None, "path": "p"}], MEDIA).equals(pa.array([{"bytes": None, "path": "p"}], MEDIA))
    assert column_array([1, None], pa.int64()).equals(pa.array([1, None], pa.int64()))
