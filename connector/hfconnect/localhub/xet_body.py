"""A Xet file's bytes read from its xorbs, as the Hub's cas-bridge serves them: the chunks of its terms, read
and decompressed as a range asks for them, nothing copied out of the xorbs.

Why: the hub stores a Xet upload once (its xorbs). `/resolve/`, the bridge and commits find a Xet file by sha256
through `Storage.open_object`, which asks `XetStore.body` for this reader.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from itertools import accumulate
from typing import TYPE_CHECKING

from .objects import PIECE

if TYPE_CHECKING:
    from .xet_store import XetFile, XetStore

__all__ = ["XetBody"]


class XetBody:
    """Byte ranges of one Xet file, reconstructed from the stored xorbs its terms name."""

    def __init__(self, store: XetStore, file: XetFile) -> None:
        self._store = store
        self._terms = file.terms
        self._starts = [0, *accumulate(t[3] for t in file.terms)]  # the file offset each term starts at
        self._size = file.size

    @property
    def size(self) -> int:
        return self._size

    @property
    def path(self) -> str | None:
        return None  # no single file holds these bytes

    def iter_range(self, start: int, length: int) -> Iterator[bytes]:
        end = min(start + length, self._size)
        if start >= end:
            return
        term = bisect.bisect_right(self._starts, start) - 1
        while start < end and term < len(self._terms):
            xorb, chunk_start, chunk_end, _ = self._terms[term]
            for piece_start, piece in self._term_pieces(xorb, chunk_start, chunk_end, self._starts[term], start, end):
                cut = piece[start - piece_start:end - piece_start]
                if cut:
                    yield cut
                    start += len(cut)
            term += 1

    def _term_pieces(self, xorb: str, chunk_start: int, chunk_end: int, term_at: int, start: int, end: int,
                     ) -> Iterator[tuple[int, bytes]]:
        """(file offset, bytes) of runs of the term's chunks that overlap [start, end), about PIECE bytes each."""
        index = self._store.xorb_index(xorb)
        c, at = chunk_start, term_at
        while c < chunk_end and at + index.sizes[c] <= start:  # chunks before the range
            at += index.sizes[c]
            c += 1
        while c < chunk_end and at < end:
            first, first_at = c, at
            while c < chunk_end and at < end and (c == first or at - first_at < PIECE):
                at += index.sizes[c]
                c += 1
            yield first_at, b"".join(self._store.read_chunks(xorb, first, c))
