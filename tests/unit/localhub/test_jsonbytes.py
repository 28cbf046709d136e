"""The records' one JSON encoding: compact and key-sorted bytes, so equal records are equal files."""

from __future__ import annotations

import json

from hfconnect.localhub.jsonbytes import dumps


def test_records_are_compact_sorted_bytes_that_read_back() -> None:
    record = {"b": [1, {"d": None, "c": "é"}], "a": True}
    data = dumps(record)
    assert data == b'{"a":true,"b":[1,{"c":"\\u00e9","d":null}]}'
    assert json.loads(data) == record
    assert dumps(dict(reversed(list(record.items())))) == data
