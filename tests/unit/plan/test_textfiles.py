"""JSON Lines, JSON and CSV files read whole through pyarrow; a file that is not what its name says is named."""

from __future__ import annotations

import pytest

from hfconnect.errors import DataFileError
from hfconnect.hub.datafiles import DataFile
from hfconnect.plan.textfiles import read_text_table


@pytest.mark.parametrize(("path", "data", "rows"), [
    ("a.csv", b"id,name\n1,x\n2,y\n", {"id": [1, 2], "name": ["x", "y"]}),
    ("a.tsv", b"id\tname\n1\tx\n", {"id": [1], "name": ["x"]}),
    ("a.jsonl", b'{"id": 1}\n{"id": 2, "name": "y"}\n', {"id": [1, 2], "name": [None, "y"]}),
    ("a.json", b' [{"id": 1}, {"id": 2}]', {"id": [1, 2]}),
])
def test_text_files_read_as_tables(path: str, data: bytes, rows: dict) -> None:
    fmt = "csv" if path.endswith(("csv", "tsv")) else "json"
    assert read_text_table(data, DataFile(path, len(data), fmt)).to_pydict() == rows


def test_an_unreadable_text_file_is_named() -> None:
    with pytest.raises(DataFileError, match=r"^data/bad\.jsonl: cannot be read as json: ") as exc:
        read_text_table(b'{"id": 1}\n{not json\n', DataFile("data/bad.jsonl", 20, "json"))
    assert exc.value.path == "data/bad.jsonl"
