"""Tar files read from their 512-byte headers: the regular members, where each one's data is, and the WebDataset
samples they make (consecutive members sharing a key).

Why our own walker rather than `tarfile`'s stream: each header says how far the next one is, so a large tar is
indexed by reading its headers only (the planner cuts it into tasks at sample boundaries), and a reader that knows
the members' offsets fetches only the members a query asks for. `tarfile.TarInfo.frombuf` parses each header
(checksum, base-256 sizes, the ustar prefix); pax and GNU long names are applied to the member they precede.

Sample rules as `datasets`' `webdataset` builder (5.2) has them: member `dir/abc.seg.png` is field `seg.png` of
sample `dir/abc` (the key is the path up to the first dot of the basename; the field keeps its case); consecutive
members with one key are a sample; non-regular members and hidden basenames (`.x`, `__x`) are skipped.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..errors import DataFileError
from .sizing import even_runs

__all__ = ["BLOCK", "Index", "Member", "Sample", "TarWindow", "Walk", "find_header", "group_samples", "index_members",
           "iter_members", "sample_runs", "split_key"]

BLOCK = 512
# A member smaller than this is cheaper to read through than to skip with a new request (~one round trip's worth
# of bytes on a slow link is far more; this keeps header-only indexing of image tars at a few % of their bytes).
READ_THROUGH = 16 << 10
MAGIC = slice(257, 262)  # "ustar" in POSIX and GNU headers


@dataclass(frozen=True)
class Member:
    """A regular file of the tar: its name, where its data starts, its size and where its headers start (a pax or
    GNU long-name header before it included: a cut there keeps them with it)."""

    name: str
    offset: int
    size: int
    header: int

    @property
    def end(self) -> int:
        """Where the next header starts."""
        return self.offset + _padded(self.size)


@dataclass(frozen=True)
class Sample:
    key: str
    members: tuple[tuple[str, Member], ...]  # (field, member)

    @property
    def start(self) -> int:
        return self.members[0][1].header


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def split_key(name: str) -> tuple[str, str] | None:
    """(key, field) of a member path, or None for a name without an extension (a member `datasets` skips)."""
    base = name.rsplit("/", 1)[-1]
    if base.startswith((".", "__")):
        return None  # hidden: `datasets`' archive iterator never yields it
    dot = base.find(".")
    if dot <= 0:
        return None
    cut = len(name) - len(base) + dot
    return name[:cut], name[cut + 1:]


class TarWindow:
    """Bytes of a tar at absolute offsets, fetched in windows of at least `window` bytes through `fetch(start,
    end)` (a ranged request) and kept until a read needs bytes outside them. `requests` counts fetches."""

    def __init__(self, fetch: Callable[[int, int], bytes | bytearray], size: int, window: int, name: str, *,
                 max_window: int | None = None, read_through: int = READ_THROUGH) -> None:
        self.fetch, self.size, self.window, self.name = fetch, size, window, name
        self.min_window, self.max_window, self.read_through = window, max_window or window, read_through
        self._start, self._buf = 0, b""
        self.requests = 0
        self.bytes_read = 0

    def get(self, start: int, n: int) -> memoryview:
        """Bytes [start, start+n): from the current window, else one fetch of a new window at `start`."""
        end = start + n
        if end > self.size:
            raise DataFileError(f"{self.name}: truncated tar: a member runs to byte {end:,} of a {self.size:,}-byte "
                                "file", path=self.name)
        held = self._start + len(self._buf)
        if not (self._start <= start and end <= held):
            if self.requests:  # adapt: reads just past the window (small members) widen it, long skips narrow it
                gap = start - held
                self.window = (min(self.max_window, self.window * 2)
                               if 0 <= gap < max(self.window, self.read_through) else self.min_window)
            stop = min(self.size, max(end, start + self.window))
            if self._start <= start < held:  # the window's tail is still needed: fetch only what follows it (a
                fresh = bytes(self.fetch(held, stop))  # read-ahead fetching from `held` then matches)
                self._buf = self._buf[start - self._start:] + fresh
            else:
                fresh = self._buf = bytes(self.fetch(start, stop))
            self._start = start
            self.requests += 1
            self.bytes_read += len(fresh)
        return memoryview(self._buf)[start - self._start: end - self._start]


def _pax_records(data: bytes) -> dict[str, str]:
    """`len key=value\\n` records of a pax extended header."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            break
        if length <= 0:
            break
        key, _, value = data[space + 1: pos + length - 1].partition(b"=")
        out[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


@dataclass
class Walk:
    """Where a walk stopped: the next header's offset, and whether it met the end-of-archive blocks."""

    pos: int = 0
    eof: bool = False


def iter_members(win: TarWindow, start: int = 0, end: int | None = None, walk: Walk | None = None
                 ) -> Iterator[Member]:
    """The regular files of the tar from the header at `start` until a header at or past `end` (or the
    end-of-archive blocks), read from headers only: each header's size says where the next one is. `walk` gets
    where it stopped."""
    end = win.size if end is None else end
    walk = walk if walk is not None else Walk()
    pos = start
    name: str | None = None
    size: int | None = None
    first: int | None = None
    while pos + BLOCK <= end or (first is not None and pos + BLOCK <= win.size):  # never stop inside a long name
        walk.pos = pos
        block = bytes(win.get(pos, BLOCK))
        if not block or block == bytes(BLOCK):
            walk.eof = True
            return  # end-of-archive marker
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as exc:
            raise DataFileError(f"{win.name}: not a valid tar file: bad header at byte {pos:,} ({exc}); re-create "
                                "the shard (e.g. with `tar` or the webdataset library)", path=win.name) from None
        data = pos + BLOCK
        first = pos if first is None else first
        if info.type == tarfile.GNUTYPE_LONGNAME:
            name = bytes(win.get(data, info.size)).rstrip(b"\0").decode("utf-8", "surrogateescape")
        elif info.type == tarfile.XHDTYPE:
            records = _pax_records(bytes(win.get(data, info.size)))
            name = records.get("path", name)
            size = int(records["size"]) if "size" in records else size
        elif info.type in (tarfile.XGLTYPE, tarfile.GNUTYPE_LONGLINK, tarfile.SOLARIS_XHDTYPE):
            pass
        else:
            member_size = info.size if size is None else size
            if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE):
                if data + member_size > win.size:
                    raise DataFileError(f"{win.name}: truncated tar: member {name or info.name!r} runs past the end "
                                        "of the file", path=win.name)
                yield Member(name or info.name, data, member_size, first)
            pos = data + _padded(member_size)
            name = size = first = None
            walk.pos = pos
            continue
        pos = data + _padded(info.size)
    walk.pos = pos
    if pos != end and end == win.size:  # a partial header or data cut short, without the end-of-archive blocks
        raise DataFileError(f"{win.name}: truncated tar: it ends inside the member at byte {pos:,}", path=win.name)


def group_samples(members: Iterable[Member], where: str) -> Iterator[Sample]:
    """Consecutive members with one key as samples; a field twice in one sample is an error, as in `datasets`."""
    key: str | None = None
    fields: list[tuple[str, Member]] = []
    for member in members:
        parts = split_key(member.name)
        if parts is None:
            continue
        k, field_name = parts
        if fields and k != key:
            yield Sample(key, tuple(fields))  # type: ignore[arg-type]
            fields = []
        if any(f == field_name for f, _ in fields):
            raise DataFileError(f"{where}: sample {k!r} has field {field_name!r} twice; WebDataset samples need one "
                                "member per extension", path=where)
        key = k
        fields.append((field_name, member))
    if fields:
        yield Sample(key, tuple(fields))  # type: ignore[arg-type]


def sample_runs(samples: list[Sample], end: int, count: int) -> list[tuple[int, int, list[Sample]]]:
    """Samples in `count` runs of about equal bytes: (start, end, samples), cut at sample starts only."""
    if not samples:
        return []
    bounds = [s.start for s in samples] + [end]
    sizes = [b - a for a, b in zip(bounds, bounds[1:], strict=False)]
    out = []
    for run in even_runs(sizes, count):
        out.append((bounds[run.start], bounds[run.stop], samples[run.start:run.stop]))
    return out




# ---- a large tar's index, walked in parallel -----------------------------------------------------------------

REGION_BYTES = 16 << 20  # a tar is walked in parallel regions of at least this size (up to 4 per thread)
SCAN_WINDOW = 64 << 10  # the read that looks for a region's first header
SCAN_LIMIT = 1 << 20  # ... and how far it looks (a region inside one large member gets no start of its own)


def find_header(win: TarWindow, start: int, end: int) -> int | None:
    """The first 512-aligned block in [start, min(end, start + SCAN_LIMIT)) that parses as a POSIX/GNU header
    (checksum and magic): a candidate only (member data may hold such a block, e.g. a tar inside the tar);
    index_members checks it."""
    pos = -(-start // BLOCK) * BLOCK
    while pos + BLOCK <= min(end, win.size, start + SCAN_LIMIT):
        block = bytes(win.get(pos, BLOCK))
        if block[MAGIC] == b"ustar":
            try:
                tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
                return pos
            except tarfile.HeaderError:
                pass
        pos += BLOCK
    return None


@dataclass
class Index:
    """A tar's regular members in order, and what finding them cost."""

    members: list[Member]
    requests: int = 0
    bytes_read: int = 0


def index_members(fetch: Callable[[int, int], bytes | bytearray], size: int, name: str, *, window: int,
                  max_window: int, concurrency: int = 16, region_bytes: int = REGION_BYTES) -> Index:
    """Every regular member of a tar from its headers only, its regions walked in parallel.

    Each region after the first starts at a candidate header found by scanning (find_header); the walks are then
    chained from offset 0: a region is kept only when the walk before it landed exactly on its start (so every
    header is one the chain from the tar's first header reaches, whatever the member data holds); where a walk
    does not, the walk continues from where it stopped to the next region start, one region at a time.
    """
    from concurrent.futures import ThreadPoolExecutor

    def new_window(w: int = window) -> TarWindow:
        return TarWindow(fetch, size, w, name, max_window=max_window)

    count = max(1, min(size // region_bytes, 4 * concurrency))
    bounds = [(size * j // count) // BLOCK * BLOCK for j in range(count)] + [size]
    index = Index([])
    windows: list[TarWindow] = []

    def scan(j: int) -> int | None:
        win = new_window(SCAN_WINDOW)
        windows.append(win)
        return find_header(win, bounds[j], bounds[j + 1])

    def walk(start: int, end: int | None) -> tuple[list[Member], Walk]:
        win = new_window()
        windows.append(win)
        state = Walk(start)
        return list(iter_members(win, start, end, state)), state

    def guess(start: int, end: int | None) -> tuple[list[Member], Walk] | DataFileError:
        """A region's walk from its candidate start: its failure matters only if the chain reaches it."""
        try:
            return walk(start, end)
        except DataFileError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, count)), thread_name_prefix="hfconnect-tar") as pool:
        found = list(pool.map(scan, range(1, count)))
        starts = [0] + sorted({c for c in found if c is not None and c > 0})
        ends: list[int | None] = [*starts[1:], None]
        walks = list(pool.map(guess, starts, ends))
    pos, i = 0, 0
    while i < len(starts):
        if starts[i] == pos:
            done = walks[i]
            if isinstance(done, DataFileError):
                raise done
            members, state = done
        else:  # the chain did not land on this region's start: walk on from where it is to the next start
            i = next((k for k in range(i, len(starts)) if starts[k] > pos), len(starts))
            members, state = walk(pos, starts[i] if i < len(starts) else None)
            i -= 1
        index.members += members
        pos = state.pos
        i += 1
        if state.eof:
            break
    index.requests = sum(w.requests for w in windows)
    index.bytes_read = sum(w.bytes_read for w in windows)
    return index
