"""The reconstruction answer of the CAS (GET /v1/reconstructions/{file_id}): which chunk ranges of which xorbs
make up a byte range of a file, and where to fetch them.

Rules the client depends on (hub-docs xet/api.md, "Get File Reconstruction"): terms are trimmed to whole chunks, so
`offset_into_first_range` says how far into the first chunk the asked range starts; chunk ranges are
end-exclusive and byte ranges (`url_range`) end-inclusive; the client itself cuts the bytes past the range's end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .xet_store import XetFile, XetStore

__all__ = ["reconstruction"]


def reconstruction(store: XetStore, file: XetFile, rng: tuple[int, int] | None,
                   url_for: Callable[[str], str]) -> dict[str, Any]:
    """The v1 answer for bytes [first, last] (inclusive) of `file`, or all of it when `rng` is None.
    The caller has checked the range against the file's size (416 when it starts past the end)."""
    first, last = rng if rng else (0, file.size - 1)
    terms: list[dict[str, Any]] = []
    fetch: dict[str, list[dict[str, Any]]] = {}
    offset_into_first: int | None = None
    pos = 0
    for xorb, chunk_start, chunk_end, length in file.terms:
        term_start, pos = pos, pos + length
        if pos <= first:
            continue
        if term_start > last:
            break
        index = store.xorb_index(xorb)
        c, at = chunk_start, term_start
        while at + index.sizes[c] <= first:  # skip whole chunks before the range
            at += index.sizes[c]
            c += 1
        begin, begin_at = c, at
        while c < chunk_end and at <= last:  # take chunks up to the one holding the range's last byte
            at += index.sizes[c]
            c += 1
        if offset_into_first is None:
            offset_into_first = first - begin_at
        chunks = {"start": begin, "end": c}
        terms.append({"hash": xorb, "unpacked_length": at - begin_at, "range": chunks})
        entry = {"range": chunks, "url": url_for(xorb),
                 "url_range": {"start": index.offsets[begin], "end": index.offsets[c] - 1}}
        entries = fetch.setdefault(xorb, [])
        if all(e["range"] != chunks for e in entries):
            entries.append(entry)
    return {"offset_into_first_range": offset_into_first or 0, "terms": terms, "fetch_info": fetch}
