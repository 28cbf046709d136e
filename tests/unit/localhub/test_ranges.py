"""`Range` parsing (RFC 9110 single ranges) and the object bodies ranges are served from."""

from __future__ import annotations

import pytest

from hfconnect.localhub.errors import HubError
from hfconnect.localhub.ranges import parse_range


@pytest.mark.parametrize(("header", "want"), [
    (None, None), ("", None), ("bytes=0-4", (0, 4)), ("bytes=5-", (5, 9)), ("bytes=-3", (7, 9)),
    ("bytes=-30", (0, 9)), ("bytes=8-100", (8, 9)), ("bytes=9-9", (9, 9)), (" bytes=0-0 ", (0, 0)),
    ("bytes=-", None),  # neither end: the whole file
    ("bytes=0-1,3-4", None), ("items=0-1", None), ("bytes=a-b", None),  # unsupported forms: the whole file
])
def test_parse_range(header: str | None, want: tuple[int, int] | None) -> None:
    assert parse_range(header, 10) == want


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0", "bytes=5-2"])
def test_unsatisfiable_ranges_are_416_with_the_size(header: str) -> None:
    with pytest.raises(HubError, match=r"^Requested range not satisfiable \(size 10\)\.$") as exc:
        parse_range(header, 10)
    assert (exc.value.status, exc.value.code) == (416, "RangeNotSatisfiable")
    assert exc.value.headers == {"Content-Range": "bytes */10"}


def test_an_empty_file_satisfies_no_range() -> None:
    with pytest.raises(HubError) as exc:
        parse_range("bytes=0-", 0)
    assert exc.value.headers["Content-Range"] == "bytes */0"
