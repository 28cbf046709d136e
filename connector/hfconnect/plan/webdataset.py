"""WebDataset repos (`.tar` shards) as `datasets`' `webdataset` builder (5.2) reads them: columns typed by extension,
the schema from the first samples of each split's first tar, and large tars cut into tasks at sample boundaries.

Typing, as `datasets` does: image/audio/video/mesh extensions are `struct<bytes, path>` with that feature in the
schema's `huggingface` metadata; `txt` is a string, `cls` an int64, `json` decoded (its type inferred from the
first 5 samples); anything else binary. `__key__` and `__url__` follow the fields.

Planning cost: one ranged read of each split's first tar (its first samples, not the file); a tar larger than
the shard target is indexed from its headers (tarfiles.TarWindow: windows that widen over runs of small members
and narrow over large ones) and cut at sample boundaries; `.tar.gz` cannot be cut: one task per file.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import DataFileError, HfConnectError
from ..features import features_metadata as hf_features_metadata
from .model import FilePart
from .tarfiles import Sample, TarWindow, group_samples, index_members, iter_members, sample_runs

if TYPE_CHECKING:
    from ..hub.client import HubClient
    from ..hub.datafiles import DataFile
    from ..hub.snapshot import Snapshot

__all__ = ["FORMAT", "TarPlan", "column_kind", "decode_value", "features_metadata", "infer_schema",
           "is_compressed", "is_webdataset", "plan_tars", "tar_url"]

FORMAT = "webdataset"
SAMPLES_FOR_SCHEMA = 5  # as `datasets` infers features
KEY_COLUMN, URL_COLUMN = "__key__", "__url__"
MEDIA_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
MEDIA_KINDS = ("image", "audio", "video", "mesh")
FIRST_READ_BYTES = 1 << 20  # the schema's first ranged read of a tar (grown x4 until 5 samples are complete)
INDEX_WINDOW, INDEX_MAX_WINDOW = 4 << 10, 4 << 20  # header windows while indexing a large tar



def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Extensions `datasets` types as media features (Pillow's readable formats, libsndfile's + mp3/opus, ...).
IMAGE_EXTENSIONS = _names(
    "blp bmp dib bufr cur pcx dcx dds ps eps fit fits fli flc ftc ftu gbr gif grib h5 hdf png apng jp2 j2k jpc jpf "
    "jpx j2c icns ico im iim tif tiff jfif jpe jpg jpeg mpg mpeg msp pcd pxr pbm pgm ppm pnm psd bw rgb rgba sgi ras "
    "tga icb vda vst webp wmf emf xbm xpm")
AUDIO_EXTENSIONS = _names(
    "aiff au avr caf flac htk svx mat4 mat5 mpc2k ogg paf pvf raw rf64 sd2 sds ircam voc w64 wav nist wavex wve xi "
    "mp3 opus")
VIDEO_EXTENSIONS = _names("mkv mp4 avi mpeg mov")
MESH_EXTENSIONS = _names("glb ply stl")
TEXT_EXTENSIONS = frozenset({"txt", "text", "transcript"})
INT_EXTENSIONS = frozenset({"cls", "cls2", "index", "inx", "id"})
JSON_EXTENSIONS = frozenset({"json", "jsn"})
# A member compressed on its own (`x.json.gz`): decompressed, typed by the extension before this one.
MEMBER_COMPRESSION: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.decompress, "bz2": bz2.decompress, "xz": lzma.decompress, "lzma": lzma.decompress}


def is_compressed(path: str) -> bool:
    """A `.tar.gz` / `.tgz`: one stream, read whole (it cannot be cut)."""
    lower = path.lower()
    return lower.endswith((".tar.gz", ".tgz"))


def column_kind(field_name: str) -> str:
    """How a field is typed: image, audio, video, mesh (a media struct), text, int, json or binary."""
    ext = field_name.rsplit(".", 1)[-1].lower()
    inner = ext
    if ext in MEMBER_COMPRESSION and "." in field_name:
        inner = field_name.rsplit(".", 2)[-2].lower()
    kind = {"text": TEXT_EXTENSIONS, "int": INT_EXTENSIONS, "json": JSON_EXTENSIONS}
    decoded = next((k for k, exts in kind.items() if inner in exts), "binary")
    # A media feature follows the field's last extension (`datasets` sets it after decoding, last one wins).
    for name, exts in (("image", IMAGE_EXTENSIONS), ("audio", AUDIO_EXTENSIONS), ("video", VIDEO_EXTENSIONS),
                       ("mesh", MESH_EXTENSIONS)):
        if ext in exts:
            decoded = name
    return decoded


def decode_value(field_name: str, data: bytes, key: str, where: str) -> Any:
    """One member's bytes as the column holds them."""
    ext = field_name.rsplit(".", 1)[-1].lower()
    kind = column_kind(field_name)
    if ext in MEMBER_COMPRESSION and kind not in MEDIA_KINDS:
        try:
            data = MEMBER_COMPRESSION[ext](data)
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
            raise DataFileError(f"{where}: member {key}.{field_name} cannot be decompressed: {exc}") from None
    try:
        if kind == "text":
            return data.decode("utf-8")
        if kind == "int":
            return int(data)
        if kind == "json":
            return json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataFileError(f"{where}: member {key}.{field_name} is not valid {kind}: {exc}") from None
    if kind == "binary":
        return bytes(data)
    return {"bytes": bytes(data), "path": f"{key}.{field_name}"}


def column_type(field_name: str, values: list[Any]) -> pa.DataType:
    """The Arrow type of a field from the (decoded) values of the first samples."""
    kind = column_kind(field_name)
    if kind in MEDIA_KINDS:
        return MEDIA_TYPE
    if kind == "text":
        return pa.string()
    if kind == "int":
        return pa.int64()
    if kind == "binary":
        return pa.binary()
    try:
        inferred = pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataFileError(f"the first samples' {field_name!r} members hold JSON of no one type: {exc}") from None
    return _plain(inferred)


def _plain(t: pa.DataType) -> pa.DataType:
    """Types as `datasets` holds them after Features.from_arrow_schema (large types as they are)."""
    if pa.types.is_struct(t):
        return pa.struct([pa.field(t.field(i).name, _plain(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_list(t):
        return pa.list_(_plain(t.value_type))
    return t


def infer_schema(samples: list[tuple[str, list[tuple[str, bytes]]]], where: str) -> pa.Schema:
    """The columns of the first samples ((key, [(field, bytes)])): fields in the first sample's member order,
    then `__key__` and `__url__`, as `datasets` orders them; typed by extension, JSON by its values."""
    order: list[str] = []
    values: dict[str, list[Any]] = {}
    for key, fields in samples[:SAMPLES_FOR_SCHEMA]:
        for field_name, data in fields:
            if field_name not in values:
                order.append(field_name)
                values[field_name] = []
            if column_kind(field_name) == "json":  # the only kind typed by its values
                values[field_name].append(decode_value(field_name, data, key, where))
    schema_fields = [pa.field(n, column_type(n, values[n])) for n in order]
    schema_fields += [pa.field(KEY_COLUMN, pa.string()), pa.field(URL_COLUMN, pa.string())]
    schema = pa.schema(schema_fields)
    return schema.with_metadata(features_metadata(schema))


def merge_schemas(schemas: list[pa.Schema], where: str) -> pa.Schema:
    """Splits' schemas as one: columns in first-seen order (`__key__`, `__url__` last), types unified."""
    if len(schemas) == 1:
        return schemas[0]
    try:
        merged = pa.unify_schemas([s.remove_metadata() for s in schemas], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataFileError(f"{where}: the splits' first samples have columns of different types: {exc}") from None
    tail = [merged.field(KEY_COLUMN), merged.field(URL_COLUMN)]
    merged = pa.schema([f for f in merged if f.name not in (KEY_COLUMN, URL_COLUMN)] + tail)
    return merged.with_metadata(features_metadata(merged))


def _feature(field: pa.Field) -> dict[str, Any]:
    kind = column_kind(field.name) if field.type.equals(MEDIA_TYPE) else None
    if kind in MEDIA_KINDS:
        return {"_type": kind.capitalize()}
    return _value_feature(field.type)


_DTYPES = {pa.float64(): "float64", pa.float32(): "float32", pa.float16(): "float16", pa.bool_(): "bool",
           pa.null(): "null"}


def _value_feature(t: pa.DataType) -> dict[str, Any]:
    if pa.types.is_struct(t):
        return {t.field(i).name: _value_feature(t.field(i).type) for i in range(t.num_fields)}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        out: dict[str, Any] = {"feature": _value_feature(t.value_type), "_type": "List"}
        if pa.types.is_large_list(t):
            out["large"] = True
        return out
    return {"dtype": _DTYPES.get(t, str(t)), "_type": "Value"}


def features_metadata(schema: pa.Schema) -> dict[bytes, bytes]:
    """The schema's `huggingface` metadata as `datasets` writes it: `{"info": {"features": {...}}}`."""
    return hf_features_metadata({f.name: _feature(f) for f in schema})


def is_webdataset(parts: Iterable[DataFile | FilePart]) -> bool:
    """Files that are all tars (a split is of one format: hub.datafiles picks it)."""
    parts = list(parts)
    return bool(parts) and all(p.format == FORMAT for p in parts)


def tar_url(snapshot: Snapshot, path: str) -> str:
    """`__url__`: the file as `datasets` streams it (`hf://datasets/<repo>@<sha>/<path>`)."""
    if snapshot.is_bucket:
        return f"hf://buckets/{snapshot.repo_id}/{path}"
    return f"hf://datasets/{snapshot.repo_id}@{snapshot.sha}/{path}"


def not_a_tar(where: str, exc: BaseException) -> HfConnectError:
    """A tar/gzip/zlib failure as a DataFileError naming the file (a Hub failure stays what it is)."""
    if isinstance(exc, HfConnectError):
        return exc
    return DataFileError(f"{where}: not a readable tar file ({type(exc).__name__}: {exc}); re-create the shard "
                         "(e.g. with `tar` or the webdataset library)", path=where)


# ---- planning ------------------------------------------------------------------------------------------------

@dataclass
class TarPlan:
    """What planning learned of a split's tars: the schema, the units to pack into shards (part, bytes) and the
    requests it took."""

    schema: pa.Schema
    units: list[tuple[FilePart, int]]
    schema_requests: int = 0
    index_requests: int = 0
    index_bytes: int = 0
    indexed: list[str] = field(default_factory=list)

    def note(self) -> str:
        return (f"webdataset: schema from {self.schema_requests} ranged read(s) of the splits' first tars; "
                f"{len(self.indexed)} large tar(s) indexed from their headers in {self.index_requests} ranged "
                f"request(s) ({self.index_bytes:,} bytes), cut at sample boundaries")


def first_samples(client: HubClient, snapshot: Snapshot, f: DataFile
                  ) -> tuple[list[tuple[str, list[tuple[str, bytes]]]], int]:
    """The first samples of a tar (up to SAMPLES_FOR_SCHEMA) as (key, [(field, bytes)]), from a prefix of the
    file (decompressed for .tar.gz), and the requests it took."""
    url = client.file_url(snapshot, f.path)
    where = f"{snapshot.repo_id}/{f.path}"
    prefix = _Prefix(lambda a, b: client.read_range(url, a, b), f.size, is_compressed(f.path))
    win = TarWindow(prefix.fetch, prefix.limit, 1, where)
    rows: list[tuple[str, list[tuple[str, bytes]]]] = []
    try:
        for sample in group_samples(iter_members(win), where):
            # Only JSON members are fetched: every other kind is typed by its extension (a video's first samples
            # would otherwise come to the driver just to be typed)
            rows.append((sample.key, [(name, bytes(win.get(m.offset, m.size)) if column_kind(name) == "json" else b"")
                                      for name, m in sample.members]))
            if len(rows) == SAMPLES_FOR_SCHEMA:
                break
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise not_a_tar(where, exc) from None
    return rows, prefix.requests


class _Prefix:
    """The first bytes of a tar stream, fetched in growing ranged reads (x4) as the walker asks for more."""

    def __init__(self, fetch: Callable[[int, int], bytes | bytearray], size: int, compressed: bool) -> None:
        self._fetch, self._size, self._compressed = fetch, size, compressed
        self._raw = 0  # file bytes fetched
        self._buf = bytearray()
        self._unzip = zlib.decompressobj(wbits=zlib.MAX_WBITS | 32) if compressed else None
        self.requests = 0
        self.limit = (1 << 62) if compressed else size  # a .tar.gz's tar size is known only at its end

    def fetch(self, start: int, end: int) -> bytes:
        while len(self._buf) < end and self._raw < self._size:
            step = max(FIRST_READ_BYTES, 3 * self._raw)
            stop = min(self._size, self._raw + step)
            chunk = bytes(self._fetch(self._raw, stop))
            self.requests += 1
            self._raw = stop
            self._buf += self._unzip.decompress(chunk) if self._unzip is not None else chunk
        if len(self._buf) < end and self._compressed:
            self.limit = len(self._buf)  # the whole stream is in: nothing past it
        return bytes(self._buf[start:end])


def schema_of(client: HubClient, snapshot: Snapshot, f: DataFile) -> tuple[pa.Schema, int]:
    """A split's schema from its first tar's first samples, and the requests it took."""
    rows, requests = first_samples(client, snapshot, f)
    where = f"{snapshot.repo_id}/{f.path}"
    if not rows:
        raise DataFileError(f"{where}: no WebDataset samples in the first tar of the split (no member named "
                            "<key>.<extension>)", path=f.path)
    return infer_schema(rows, where), requests


def index_tar(client: HubClient, snapshot: Snapshot, f: DataFile, concurrency: int = 16
              ) -> tuple[list[Sample], int, int, int]:
    """Every sample of an uncompressed tar from its headers only (its regions walked in parallel): (samples, end
    of the last member, requests, bytes read)."""
    url = client.file_url(snapshot, f.path)
    where = f"{snapshot.repo_id}/{f.path}"
    index = index_members(lambda a, b: client.read_range(url, a, b), f.size, where, window=INDEX_WINDOW,
                          max_window=INDEX_MAX_WINDOW, concurrency=concurrency)
    samples = list(group_samples(index.members, where))
    end = max((m.end for s in samples for _, m in s.members), default=0)
    return samples, end, index.requests, index.bytes_read


def plan_tars(client: HubClient, snapshot: Snapshot, files: list[tuple[str, DataFile]], target: int, *,
              concurrency: int = 16, schema: pa.Schema | None = None, cut: bool = True) -> TarPlan:
    """The schema (unless given) and the units to pack: a tar up to `target` bytes (or compressed, or any tar
    when not `cut`) whole, a larger one in runs of samples of about `target` bytes, each with its members'
    offsets."""
    firsts: dict[str, DataFile] = {}
    for split, f in files:
        firsts.setdefault(split, f)
    large = [f for _, f in files if cut and f.size > target and not is_compressed(f.path)]
    workers = max(1, min(concurrency, len(firsts) + len(large)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hfconnect-tar") as pool:
        schemas = [] if schema is not None else [pool.submit(schema_of, client, snapshot, f) for f in firsts.values()]
        indexes = {f.path: pool.submit(index_tar, client, snapshot, f, concurrency) for f in large}
        got = [s.result() for s in schemas]
        indexed = {path: future.result() for path, future in indexes.items()}
    plan = TarPlan(schema if schema is not None else merge_schemas([s for s, _ in got], snapshot.repo_id), [],
                   schema_requests=sum(n for _, n in got), indexed=list(indexed))
    for split, f in files:
        if f.path not in indexed:
            plan.units.append((FilePart(f.path, f.size, FORMAT, split), f.size))
            continue
        samples, end, requests, nbytes = indexed[f.path]
        plan.index_requests += requests
        plan.index_bytes += nbytes
        count = max(1, -(-end // max(1, target)))
        for start, stop, run in sample_runs(samples, end, count):
            members = tuple((m.name, m.offset, m.size) for s in run for _, m in s.members)
            plan.units.append((FilePart(f.path, f.size, FORMAT, split, byte_range=(start, stop), members=members),
                               stop - start))
    return plan
