"""A stored object's bytes, whichever store holds them: a file under objects/ (LFS uploads, regular files) or the
chunks of a Xet file in its xorbs (served as the Hub's cas-bridge does, reconstructed, never copied).

Why one shape: `/resolve/`, the CDN and the bridge serve ranges of "the object with this sha256" and should not
care where it lives; a Xet file is not written a second time into objects/ (that copy doubled the disk writes of
every Xet upload and made a write through Xet slower than the same write over LFS: bench/MEASUREMENTS.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

__all__ = ["PIECE", "FileBody", "ObjectBody"]

PIECE = 256 * 1024  # bytes per read when an object is streamed piece by piece


class ObjectBody(Protocol):
    """An object's bytes: its size, a path when they are one plain file (sendfile can serve it), and its pieces."""

    @property
    def size(self) -> int: ...

    @property
    def path(self) -> str | None: ...

    def iter_range(self, start: int, length: int) -> Iterator[bytes]:
        """Bytes [start, start + length) in order, in pieces of at most about PIECE bytes."""
        ...


class FileBody:
    """An object stored as one file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._size = path.stat().st_size

    @property
    def size(self) -> int:
        return self._size

    @property
    def path(self) -> str | None:
        return str(self._path)

    def iter_range(self, start: int, length: int) -> Iterator[bytes]:
        with open(self._path, "rb") as f:
            end = start + length
            while start < end:
                piece = os.pread(f.fileno(), min(PIECE, end - start), start)
                if not piece:
                    return
                yield piece
                start += len(piece)
