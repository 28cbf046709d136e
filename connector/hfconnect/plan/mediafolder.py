"""Image and audio folders (media files plus optional `metadata.csv`/`.jsonl`/`.parquet`) planned as `datasets`
5.2's `imagefolder`/`audiofolder` builders read them, from a commit's file listing.

Why a module of its own: such a repo has no data file to take a schema or rows from. The rows are the media
files (a label from the parent folder when `datasets` adds one) or, when metadata files exist, the metadata rows
joined to the media by `file_name` (`*_file_name`, `file_names`, `*_file_names` too). The split files come from
hub/datafiles' conventions; this module decides the builder, the rows of each split, the output Arrow schema with
the `huggingface` features metadata, and cuts the rows into shards of about N media bytes. The plan holds each
split's rows (repo paths of the media, metadata values, labels) and never media bytes: tasks fetch those lazily
(read/mediafolder). Bytes come from a `fetch(path, size)` callable (`functools.partial(client.read_file,
snapshot)`), so nothing here needs a Hub client.

`datasets` behaviours kept on purpose, quirks included:
- the builder is the module of the most common extension (every suffix counts, metadata files last);
- with metadata anywhere, the rows are the metadata rows: a media file without a row is not in the dataset, and a
  row naming a file the commit lacks keeps the row (its media bytes are null, as `datasets` keeps a dangling path);
- labels only without metadata, when the files sit at one depth under more than one folder name; splits are
  analysed in order, so a split met while one folder name had been seen gets no label values (null);
- `path` is the file's base name, as `datasets` sets it when it embeds bytes (push_to_hub, Parquet export).
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..errors import DataFileError, HfConnectError
from ..features import features_metadata, schema_features
from ..hub.datafiles import SPLIT_KEYWORDS, DataFile, _by_conventions, _match
from ..hub.snapshot import RepoFileInfo

__all__ = ["AUDIO_EXTENSIONS", "IMAGE_EXTENSIONS", "METADATA_FILENAMES", "MEDIA_TYPE", "Fetch", "MediaColumn",
           "MediaFolderPlan", "MediaShard", "MediaSplit", "cut_media_shards", "detect_media_folder",
           "plan_media_folder", "resolve_media_splits"]

Fetch = Callable[[str, int], bytes]  # (repo path, size) -> the file's bytes
MEDIA_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
METADATA_FILENAMES = ("metadata.csv", "metadata.jsonl", "metadata.parquet")
BUILDERS = {"imagefolder": ("image", "Image"), "audiofolder": ("audio", "Audio")}
METADATA_READS = 8  # metadata files fetched at once while planning


def _exts(text: str) -> tuple[str, ...]:
    return tuple("." + e for e in text.split())


# The builders' EXTENSIONS lists (datasets 5.2), in their order: a file is media when its last or second-to-last
# extension, lowercased, is one of these.
IMAGE_EXTENSIONS = _exts(
    "blp bmp dib bufr cur pcx dcx dds ps eps fit fits fli flc ftc ftu gbr gif grib png apng jp2 j2k jpc jpf jpx j2c "
    "icns ico im iim tif tiff jfif jpe jpg jpeg mpg mpeg msp pcd pxr pbm pgm ppm pnm psd bw rgb rgba sgi ras tga icb "
    "vda vst webp wmf emf xbm xpm")
AUDIO_EXTENSIONS = _exts(
    "aiff au avr caf flac htk svx mat4 mat5 mpc2k ogg paf pvf raw rf64 sd2 sds ircam voc w64 wav nist wavex wve xi "
    "mp3 opus 3gp 3g2 avi asf flv mp4 mov m4v mkv mpg webm f4v wmv wma ogg ogm mxf nut")
# Extensions `datasets` gives other builders when it picks one (video wins .mp4/.mov/.mkv/.avi/.mpeg, audio .mpg).
_VIDEO = _exts("mpeg avi mp4 mov mkv")
_OTHER = _exts(
    "csv tsv json jsonl ndjson parquet geoparquet gpq arrow txt conll conllu tar xml hdf5 h5 eval toml md lance "
    "tsfile vortex fa fasta fna ffn faa frn afa gb gbk genbank fq fastq pdb ent cif mmcif glb gltf ply stl pdf nii")
_FOLDER_OTHER = _exts("glb gltf ply stl pdf nii pdb ent")  # these builders' upper-case spellings count too
MODULE_OF_EXTENSION: dict[str, str] = (
    {e: "imagefolder" for e in IMAGE_EXTENSIONS} | {e: "audiofolder" for e in AUDIO_EXTENSIONS}
    | dict.fromkeys(_VIDEO, "videofolder") | dict.fromkeys(_OTHER, "other"))
# What `datasets`' data-file resolution lets through (a suffix spelled exactly so): every builder's extensions,
# the folder builders' also in upper case, .zip, and suffixes of table formats that pick no builder.
_ALLOWED = frozenset(MODULE_OF_EXTENSION) | {e.upper() for e in (*IMAGE_EXTENSIONS, *AUDIO_EXTENSIONS, *_VIDEO,
                                                                 *_FOLDER_OTHER)} | set(_exts("zip txn manifest idx"))
# Names `datasets` counts last when it picks a builder (every builder's metadata files).
_METADATA_NAMES = frozenset((*METADATA_FILENAMES, "instruction.md", "latest_version_hint.json", "task.toml"))
_TIE_ORDER = (".parquet", ".lance", ".vortex", ".arrow", ".jsonl", ".json", ".csv")


@dataclass(frozen=True)
class MediaColumn:
    """An output media column: `name` holds one file (`struct<bytes, path>`) or, `many`, a list of them."""

    name: str
    many: bool = False


@dataclass(frozen=True)
class MediaSplit:
    """One split: its rows (media columns hold repo paths, null for no file), and the size of each media file."""

    name: str
    rows: pa.Table
    sizes: Mapping[str, int]
    media_files: tuple[RepoFileInfo, ...]
    metadata_files: tuple[RepoFileInfo, ...]
    missing: tuple[str, ...] = ()  # paths metadata rows name that the split lacks (their bytes read as null)

    @property
    def num_rows(self) -> int:
        return self.rows.num_rows


@dataclass(frozen=True)
class MediaFolderPlan:
    builder: str  # "imagefolder" or "audiofolder"
    schema: pa.Schema  # the output schema, with the `huggingface` features metadata
    media_columns: tuple[MediaColumn, ...]
    splits: dict[str, MediaSplit]
    label_names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class MediaShard:
    """A task's rows of one split: a contiguous run of its rows, the media files they name and their sizes."""

    split: str
    index: int
    start: int  # the first row's position in the split
    rows: pa.Table
    media_columns: tuple[MediaColumn, ...]
    sizes: dict[str, int] = field(repr=False)
    est_bytes: int = 0


# ---- which builder, which files ---------------------------------------------------------------------------------
def _suffixes(path: str) -> list[str]:
    return ["." + s for s in posixpath.basename(path).split(".")[1:]]


def _candidates(files: Iterable[RepoFileInfo]) -> list[DataFile]:
    """Files `datasets` resolves as data files: not hidden, a suffix it knows (exact spelling)."""
    out = []
    for f in files:
        if any(p.startswith((".", "__")) for p in f.path.split("/")):
            continue
        if any(s in _ALLOWED for s in _suffixes(f.path)):
            out.append(DataFile(f.path, f.size, "media"))
    return out


def resolve_media_splits(files: Iterable[RepoFileInfo], *, data_dir: str | None = None,
                         data_files: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[RepoFileInfo]]:
    """Each split's files as `datasets` resolves them: `data_files` globs per split (under `data_dir`), else the
    Hub's conventions (hub/datafiles, SPLIT_KEYWORDS order) under `data_dir`; sorted by path."""
    files = list(files)
    by_path = {f.path: f for f in files}
    candidates = _candidates(files)
    if data_files:
        found = {split: _match(candidates, list(globs), data_dir or "") for split, globs in data_files.items()}
    else:
        found = _by_conventions(candidates, data_dir or "")
    order = [s for s in SPLIT_KEYWORDS if s in found] + [s for s in found if s not in SPLIT_KEYWORDS]
    return {s: sorted((by_path[f.path] for f in found[s]), key=lambda f: f.path) for s in order if found[s]}


def _module_of(paths: Iterable[str]) -> str | None:
    """The builder `datasets` infers for one split: the most common suffix (metadata files count last)."""
    counts: dict[tuple[str, bool], int] = {}
    for p in paths:
        meta = posixpath.basename(p) in _METADATA_NAMES
        for s in _suffixes(p):
            counts[(s.lower(), meta)] = counts.get((s.lower(), meta), 0) + 1

    def rank(item: tuple[tuple[str, bool], int]) -> tuple[Any, ...]:
        (ext, meta), n = item
        return (not meta, n, *(ext == t for t in _TIE_ORDER), ext)

    for (ext, _), _n in sorted(counts.items(), key=rank, reverse=True):
        if ext in MODULE_OF_EXTENSION:
            return MODULE_OF_EXTENSION[ext]
        if ext == ".zip":
            return "zip"
    return None


def detect_media_folder(files: Iterable[RepoFileInfo], *, data_dir: str | None = None,
                        data_files: Mapping[str, Sequence[str]] | None = None) -> str | None:
    """"imagefolder" or "audiofolder" when `datasets` would read the repo with that builder, else None. A repo
    whose splits disagree on the builder is refused, as `datasets` refuses it."""
    splits = resolve_media_splits(files, data_dir=data_dir, data_files=data_files)
    modules = {s: _module_of(f.path for f in fs) for s, fs in splits.items()}
    found = set(modules.values())
    if len(found) > 1 and found & set(BUILDERS):
        raise HfConnectError(f"the splits of this repo hold different kinds of files ({modules}); `datasets` "
                             "cannot read them as one dataset either: give `data_files` for one kind")
    module = next(iter(found), None)
    if module == "zip" and splits:
        return None
    return module if module in BUILDERS else None


def _is_media(path: str, builder: str) -> bool:
    exts = IMAGE_EXTENSIONS if builder == "imagefolder" else AUDIO_EXTENSIONS
    root, ext = posixpath.splitext(path)
    return ext.lower() in exts or posixpath.splitext(root)[1].lower() in exts


# ---- metadata files ---------------------------------------------------------------------------------------------
def read_metadata_table(data: bytes, path: str) -> pa.Table:
    """A metadata file as `datasets` reads it: CSV through pandas (its types), JSON Lines through pyarrow.json,
    Parquet as written (its `huggingface` features kept in the schema)."""
    try:
        if path.endswith(".csv"):
            try:
                import pandas as pd
            except ImportError:  # pandas is not an hfconnect dependency: pyarrow's CSV types then
                import pyarrow.csv as pacsv

                return pacsv.read_csv(io.BytesIO(data))
            return pa.Table.from_pandas(pd.read_csv(io.BytesIO(data)), preserve_index=False).replace_schema_metadata()
        if path.endswith(".jsonl"):
            import pyarrow.json as pajson

            return pajson.read_json(io.BytesIO(data))
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, ValueError, OSError) as exc:
        raise DataFileError(f"{path}: cannot be read as a metadata file: {exc}; fix or remove it", path=path) from None


def _dtype(t: pa.DataType) -> str:
    return {"float": "float32", "double": "float64", "halffloat": "float16", "date32[day]": "date32",
            "date64[ms]": "date64"}.get(str(t), str(t))


def feature_of_type(t: pa.DataType) -> Any:
    """The `datasets` feature (as its JSON dict) of an Arrow type, as `Features.from_arrow_schema` makes it."""
    if pa.types.is_struct(t):
        return {t.field(i).name: feature_of_type(t.field(i).type) for i in range(t.num_fields)}
    if pa.types.is_fixed_size_list(t):
        return {"feature": feature_of_type(t.value_type), "length": t.list_size, "_type": "List"}
    if pa.types.is_large_list(t):
        return {"feature": feature_of_type(t.value_type), "_type": "LargeList"}
    if pa.types.is_list(t):
        return {"feature": feature_of_type(t.value_type), "_type": "List"}
    return {"dtype": _dtype(t), "_type": "Value"}


def _file_features(table: pa.Table) -> dict[str, Any]:
    """Each column's feature: the file's own `huggingface` features where they fit, else from the Arrow type."""
    declared = schema_features(table.schema)
    return {f.name: declared.get(f.name, feature_of_type(f.type)) for f in table.schema}


def _media_columns(schema: pa.Schema, base: str) -> list[tuple[str, str, bool]]:
    """(source column, output column, many) for each file-name column, as `datasets` renames them."""
    out = []
    for f in schema:
        one = f.name == "file_name" or f.name.endswith("_file_name")
        many = f.name == "file_names" or f.name.endswith("_file_names")
        if one and f.type in (pa.string(), pa.large_string()):
            out.append((f.name, f.name[:-len("_file_name")] or base, False))
        elif many and (pa.types.is_list(f.type) or pa.types.is_large_list(f.type)) \
                and f.type.value_type in (pa.string(), pa.large_string()):
            out.append((f.name, f.name[:-len("_file_names")] or base + "s", True))
    return out


def _resolve_name(meta_path: str, name: str | None) -> str | None:
    """A `file_name` value as the repo path it names (relative to the metadata file's folder)."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise DataFileError(f"{meta_path}: file_name {name!r} is not a string; file names must be strings",
                            path=meta_path)
    rel = posixpath.normpath(name.replace("\\", "/"))
    if "://" in name or posixpath.isabs(name) or rel == ".." or rel.startswith("../"):
        raise DataFileError(f"{meta_path}: file_name {name!r} must be a relative path inside the metadata file's "
                            "folder (no URL scheme, absolute path or '..'); fix that row", path=meta_path)
    return posixpath.join(posixpath.dirname(meta_path), rel)


# ---- the plan ---------------------------------------------------------------------------------------------------
@dataclass
class _Analysis:
    labels: set[str] = field(default_factory=set)
    depths: set[int] = field(default_factory=set)
    metadata: dict[str, list[RepoFileInfo]] = field(default_factory=dict)


def plan_media_folder(files: Iterable[RepoFileInfo], fetch: Fetch, *, data_dir: str | None = None,
                      data_files: Mapping[str, Sequence[str]] | None = None, drop_labels: bool | None = None,
                      drop_metadata: bool | None = None) -> MediaFolderPlan | None:
    """The image/audio folder read of a commit's files, or None when `datasets` would not use those builders.

    Reads every metadata file of the chosen splits through `fetch` (they hold the rows); no media bytes."""
    files = list(files)
    builder = detect_media_folder(files, data_dir=data_dir, data_files=data_files)
    if builder is None:
        return None
    base, feature_type = BUILDERS[builder]
    splits = resolve_media_splits(files, data_dir=data_dir, data_files=data_files)
    analyse = not drop_labels or not drop_metadata
    seen = _Analysis()
    per_split: dict[str, tuple[list[RepoFileInfo], list[RepoFileInfo], bool, bool]] = {}
    for split, split_files in splits.items():
        zips = [f.path for f in split_files if f.path.lower().endswith(".zip") and not _is_media(f.path, builder)]
        if zips:
            raise DataFileError(f"{zips[0]}: zip archives in an {builder} are not supported by hfconnect; "
                                "upload the files unpacked", path=zips[0])
        media = [f for f in split_files if _is_media(f.path, builder)]
        meta = [f for f in split_files if not _is_media(f.path, builder)
                and posixpath.basename(f.path) in METADATA_FILENAMES]
        add_labels = add_metadata = False
        if analyse:
            if not drop_labels:
                seen.labels.update(posixpath.basename(posixpath.dirname(f.path)) for f in media)
                seen.depths.update(f.path.count("/") for f in media)
            if meta:
                seen.metadata[split] = meta
            if seen.metadata:
                add_metadata = not drop_metadata
            elif drop_labels is None:
                add_labels = len(seen.labels) > 1 and len(seen.depths) == 1
            else:
                add_labels = not drop_labels
        per_split[split] = (media, meta, add_labels, add_metadata)
    last = next(reversed(per_split.values()), None)
    final_labels, final_metadata = (last[2], last[3]) if last else (False, False)
    tables = _metadata_tables(seen.metadata, fetch) if final_metadata or any(v[3] for v in per_split.values()) else {}
    label_names = tuple(sorted(seen.labels)) if final_labels and not final_metadata else None
    if final_metadata:
        schema, columns = _metadata_schema(tables, base, feature_type)
    else:
        fields = [pa.field(base, MEDIA_TYPE)] + ([pa.field("label", pa.int64())] if label_names else [])
        features: dict[str, Any] = {base: {"_type": feature_type}}
        if label_names:
            features["label"] = {"names": list(label_names), "_type": "ClassLabel"}
        schema = pa.schema(fields).with_metadata(_hf_metadata(features))
        columns = [(base, base, False)]
    out = {}
    media_columns = tuple(MediaColumn(name, many) for _, name, many in columns)
    for split, (media, meta, add_labels, add_metadata) in per_split.items():
        sizes = {f.path: f.size for f in media}
        if add_metadata:
            rows = _metadata_rows(tables.get(split, []), schema, columns)
        else:
            rows = _file_rows(media, schema, columns, base, label_names if add_labels else None)
        named = {p for row in _row_paths(rows, media_columns) for p in row}
        out[split] = MediaSplit(split, rows, sizes, tuple(media), tuple(meta), tuple(sorted(named - sizes.keys())))
    return MediaFolderPlan(builder, schema, media_columns, out, label_names)


_hf_metadata = features_metadata


def _metadata_tables(metadata: dict[str, list[RepoFileInfo]], fetch: Fetch) -> dict[str, list[tuple[str, pa.Table]]]:
    exts = {posixpath.splitext(f.path)[1] for fs in metadata.values() for f in fs}
    if len(exts) > 1:
        raise DataFileError(f"metadata files with different extensions: {sorted(exts)}; `datasets` needs one kind "
                            "(metadata.csv, metadata.jsonl or metadata.parquet) in the whole dataset")
    wanted = [f for fs in metadata.values() for f in fs]
    with ThreadPoolExecutor(max_workers=max(1, min(METADATA_READS, len(wanted)))) as pool:
        read = dict(zip((f.path for f in wanted),
                        pool.map(lambda f: read_metadata_table(fetch(f.path, f.size), f.path), wanted), strict=True))
    return {split: [(f.path, read[f.path]) for f in fs] for split, fs in metadata.items()}


def _metadata_schema(tables: dict[str, list[tuple[str, pa.Table]]], base: str,
                     feature_type: str) -> tuple[pa.Schema, list[tuple[str, str, bool]]]:
    """The output schema: the metadata columns with each file-name column turned into a media column."""
    firsts = [(path, t) for ts in tables.values() for path, t in ts[:1]]
    path0, table0 = firsts[0]
    features0 = _file_features(table0)
    for path, t in firsts[1:]:
        if _file_features(t) != features0:
            raise DataFileError(f"metadata files {path} and {path0} have different columns or types: "
                                f"{t.schema} vs {table0.schema}; make them agree", path=path)
    columns = _media_columns(table0.schema, base)
    if not columns:
        raise DataFileError(f"{path0}: a metadata file needs a `file_name` column (or `*_file_name`, "
                            "`file_names`, `*_file_names`) of strings naming the media files", path=path0)
    renamed = {src: (name, many) for src, name, many in columns}
    fields, features = [], {}
    for f in table0.schema:
        if f.name in renamed:
            name, many = renamed[f.name]
            fields.append(pa.field(name, pa.list_(MEDIA_TYPE) if many else MEDIA_TYPE))
            features[name] = ({"feature": {"_type": feature_type}, "_type": "List"} if many
                              else {"_type": feature_type})
        else:
            fields.append(pa.field(f.name, f.type))
            features[f.name] = features0[f.name]
    return pa.schema(fields).with_metadata(_hf_metadata(features)), columns


def _metadata_rows(tables: list[tuple[str, pa.Table]], schema: pa.Schema,
                   columns: list[tuple[str, str, bool]]) -> pa.Table:
    """The split's rows: metadata rows in file order, file names resolved to repo paths. A later file's columns
    are taken by name and cast to the first file's types (a column it lacks is null), as `datasets` encodes
    each row with the first file's features."""
    source_of = {name: (src, many) for src, name, many in columns}
    row_schema = _row_schema(schema, columns)
    parts = []
    for path, table in tables:
        arrays = []
        for f in row_schema:
            src, many = source_of.get(f.name, (f.name, False))
            if src not in table.column_names:
                arrays.append(pa.nulls(table.num_rows, f.type))
            elif f.name in source_of:
                values = table.column(src).to_pylist()
                if many:
                    values = [None if v is None else [_resolve_name(path, n) for n in v] for v in values]
                else:
                    values = [_resolve_name(path, v) for v in values]
                arrays.append(pa.array(values, f.type))
            else:
                arrays.append(_cast(table.column(src), f.type, path, src))
        parts.append(pa.Table.from_arrays(arrays, schema=row_schema))
    return pa.concat_tables(parts) if parts else row_schema.empty_table()


def _cast(column: pa.ChunkedArray, to: pa.DataType, path: str, name: str) -> pa.ChunkedArray:
    if column.type == to:
        return column
    try:
        return column.cast(to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise DataFileError(f"{path}: column {name!r} is {column.type}, not {to} as in the split's first metadata "
                            f"file ({exc}); make them agree", path=path) from None


def _row_schema(schema: pa.Schema, columns: Sequence[tuple[str, str, bool]]) -> pa.Schema:
    """The plan's row table: the output schema with each media column as repo paths (string or list<string>)."""
    many = {name: m for _, name, m in columns}
    return pa.schema([pa.field(f.name, (pa.list_(pa.string()) if many[f.name] else pa.string())
                               if f.name in many else f.type) for f in schema])


def _file_rows(media: list[RepoFileInfo], schema: pa.Schema, columns: Sequence[tuple[str, str, bool]], base: str,
               label_names: tuple[str, ...] | None) -> pa.Table:
    """One row per media file; its label (the parent folder's index) when this split gets labels."""
    row_schema = _row_schema(schema, columns)
    arrays = []
    for f in row_schema:
        if f.name == base:
            arrays.append(pa.array([m.path for m in media], f.type))
        elif f.name == "label" and label_names is not None:
            index = {n: i for i, n in enumerate(label_names)}
            arrays.append(pa.array([index[posixpath.basename(posixpath.dirname(m.path))] for m in media],
                                   pa.int64()))
        else:
            arrays.append(pa.nulls(len(media), f.type))
    return pa.Table.from_arrays(arrays, schema=row_schema)


# ---- shards -----------------------------------------------------------------------------------------------------
def _row_paths(rows: pa.Table, media_columns: Sequence[MediaColumn]) -> list[list[str]]:
    """The media paths each row names, in column order."""
    out: list[list[str]] = [[] for _ in range(rows.num_rows)]
    for c in media_columns:
        for i, v in enumerate(rows.column(c.name).to_pylist()):
            if v is None:
                continue
            out[i].extend(p for p in (v if c.many else [v]) if p is not None)
    return out


def cut_media_shards(split: MediaSplit, media_columns: Sequence[MediaColumn], shard_bytes: int, *,
                     start_index: int = 0) -> list[MediaShard]:
    """Contiguous runs of the split's rows, each naming about `shard_bytes` of media (at least one row per
    shard; a file larger than the target is a shard alone). Pure: no request."""
    if shard_bytes <= 0:
        raise HfConnectError(f"shard_bytes must be positive, not {shard_bytes}")
    paths = _row_paths(split.rows, media_columns)
    shards: list[MediaShard] = []
    begin, acc = 0, 0
    for i, row in enumerate(paths):
        size = sum(split.sizes.get(p, 0) for p in row)
        if i > begin and acc + size > shard_bytes:
            shards.append(_shard(split, media_columns, begin, i, acc, paths, start_index + len(shards)))
            begin, acc = i, 0
        acc += size
    if begin < len(paths) or not shards:
        shards.append(_shard(split, media_columns, begin, len(paths), acc, paths, start_index + len(shards)))
    return shards


def _shard(split: MediaSplit, media_columns: Sequence[MediaColumn], begin: int, end: int, nbytes: int,
           paths: list[list[str]], index: int) -> MediaShard:
    named = {p for row in paths[begin:end] for p in row}
    # take() copies the rows: a slice would pickle the whole split's buffers into every task
    rows = split.rows.take(pa.array(range(begin, end), pa.int64()))
    return MediaShard(split.name, index, begin, rows, tuple(media_columns),
                      {p: split.sizes[p] for p in named if p in split.sizes}, nbytes)
