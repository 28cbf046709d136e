"""WebDataset shards from a stream of Arrow batches: one sample per row, one tar member per column.

Why this shape: a WebDataset reader (`datasets`' webdataset builder, Daft's `read_webdataset`, the `webdataset`
library) groups a tar's consecutive members by key (the member name up to the first dot of its base name) and
types each member by its extension. So a row becomes members `{key}.{column}`: the key is the row's `__key__`
(generated when the DataFrame has none), the column name is the extension. Values are written as those readers
decode them: binary and media (`{bytes, path}`) columns as their bytes, strings as UTF-8, integers and booleans as
their decimal text (`cls`), floats as text, structs and lists as JSON; a null writes no member.

Tars are deterministic (members in column order, mtime 0, no owner): writing the same rows again gives the same
bytes, so Xet dedupes a re-write. Files spill to local temp files, roll at `max_file_size` (between samples), and
are hashed while written, as the Parquet writer's are.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import tempfile
from typing import Any

import pyarrow as pa

from ..errors import OptionError
from .parquet_writer import FinishedFile, _HashingSink

__all__ = ["KEY_COLUMN", "URL_COLUMN", "RollingTarWriter", "check_columns"]

KEY_COLUMN = "__key__"
URL_COLUMN = "__url__"  # a read's column (the tar a sample came from): not written


def check_columns(schema: pa.Schema) -> list[str]:
    """The columns that become members, in order; OptionError for a name that cannot be a tar extension or a
    column type no WebDataset reader decodes."""
    out = []
    for f in schema:
        if f.name in (KEY_COLUMN, URL_COLUMN):
            continue
        if not f.name or "/" in f.name or f.name.startswith(".") or f.name != f.name.strip():
            raise OptionError(f"format='webdataset': column {f.name!r} cannot be a member's extension (each column "
                              "becomes `<key>.<column>`): rename it, e.g. jpg, txt, json, cls")
        if pa.types.is_dictionary(f.type) or pa.types.is_null(f.type):
            continue
        if not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type) or pa.types.is_string(f.type)
                or pa.types.is_large_string(f.type) or pa.types.is_integer(f.type) or pa.types.is_boolean(f.type)
                or pa.types.is_floating(f.type) or pa.types.is_struct(f.type) or pa.types.is_list(f.type)
                or pa.types.is_large_list(f.type) or pa.types.is_fixed_size_binary(f.type)):
            raise OptionError(f"format='webdataset': column {f.name!r} is {f.type}, which no WebDataset reader "
                              "decodes: cast it to string, binary or an integer first")
        out.append(f.name)
    if not out:
        raise OptionError("format='webdataset': the DataFrame has no column to write as a tar member")
    return out


def _media_bytes(value: dict[str, Any]) -> bytes | None:
    return value.get("bytes") if set(value) <= {"bytes", "path"} and "bytes" in value else None


def member_bytes(value: Any, arrow_type: pa.DataType) -> bytes | None:
    """A cell's member bytes, as WebDataset readers decode that extension back; None: no member (a null)."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool):
        return b"1" if value else b"0"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return repr(value).encode()
    if isinstance(value, dict) and pa.types.is_struct(arrow_type) and (media := _media_bytes(value)) is not None:
        return media  # an image/audio/video struct: the file's bytes
    try:
        return json.dumps(value, ensure_ascii=False, default=_json_default).encode()
    except TypeError as exc:
        raise OptionError(f"format='webdataset': a value of type {arrow_type} cannot be written as JSON: {exc}"
                          ) from None


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        raise TypeError("binary inside a struct or list")
    return str(value)  # dates, decimals: their text


class RollingTarWriter:
    """write(batch) ... close() -> the finished tar files, rolled at `max_file_size` between samples; the same
    interface as `RollingParquetWriter`, so a task's split writer takes either."""

    def __init__(self, schema: pa.Schema, max_file_size: int, tmp_dir: str | None = None, *,
                 key_prefix: str = "") -> None:
        self.schema = schema
        self.columns = check_columns(schema)
        self.max_file_size = max_file_size
        self._tmp_dir = tmp_dir or tempfile.gettempdir()
        self._key_prefix = key_prefix
        self._generated = 0  # keys made so far (rows without `__key__`)
        self._sink: _HashingSink | None = None
        self._tar: tarfile.TarFile | None = None
        self._path = ""
        self._rows = 0
        self._last_key = ""  # of the last sample in the open tar
        self.finished: list[FinishedFile] = []

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        keys = batch.column(KEY_COLUMN).to_pylist() if KEY_COLUMN in batch.schema.names else None
        columns = [(name, batch.column(name).to_pylist(), batch.schema.field(name).type) for name in self.columns]
        for row in range(batch.num_rows):
            key = keys[row] if keys is not None else None
            if key is None:
                key = f"{self._key_prefix}{self._generated:09d}"
                self._generated += 1
            self._add_sample(str(key), [(name, values[row], t) for name, values, t in columns])

    def _add_sample(self, key: str, cells: list[tuple[str, Any, pa.DataType]]) -> None:
        base = key.rsplit("/", 1)[-1]
        if not base or "." in base or base.startswith("__") or key.startswith("/"):
            raise OptionError(f"format='webdataset': __key__ {key!r} cannot name a sample (readers cut a member "
                              "name at the first dot of its base name and skip names starting with '__'): use "
                              "keys such as shots/img_0001")
        if key == self._last_key:
            raise OptionError(f"format='webdataset': two consecutive rows have __key__ {key!r}: readers would make "
                              "them one sample; give each row its own key")
        members = [(name, data) for name, value, arrow_type in cells
                   if (data := member_bytes(value, arrow_type)) is not None]
        if not members:
            raise OptionError(f"format='webdataset': every column of the row with key {key!r} is null: a sample "
                              "needs one member at least (drop such rows, or fill a column)")
        tar = self._open()
        self._last_key = key
        for name, data in members:
            info = tarfile.TarInfo(f"{key}.{name}")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
        self._rows += 1
        assert self._sink is not None
        if self._sink.size >= self.max_file_size:
            self._finish()

    def _open(self) -> tarfile.TarFile:
        if self._tar is None:
            fd, self._path = tempfile.mkstemp(prefix="hfconnect-", suffix=".tar", dir=self._tmp_dir)
            os.close(fd)
            self._sink = _HashingSink(self._path)
            self._tar = tarfile.open(fileobj=self._sink, mode="w", format=tarfile.GNU_FORMAT)  # noqa: SIM115
        return self._tar

    def _finish(self) -> None:
        assert self._tar is not None and self._sink is not None
        self._tar.close()  # the end-of-archive blocks, through the sink
        self._sink.close()
        self.finished.append(FinishedFile(self._path, self._sink.size, self._sink.digest.hexdigest(), self._rows, 0,
                                          self.schema))
        self._tar, self._sink, self._path, self._rows, self._last_key = None, None, "", 0, ""

    def close(self, at_least_one: bool = False) -> list[FinishedFile]:
        if self._tar is None and at_least_one and not self.finished:
            self._open()  # an empty tar: a job with no rows still writes its split
        if self._tar is not None:
            self._finish()
        return self.finished

    def abort(self) -> None:
        if self._tar is not None:
            with contextlib.suppress(Exception):
                self._tar.close()
        if self._sink is not None:
            self._sink.close()
        for path in [self._path, *(f.local_path for f in self.finished)]:
            if path:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        self._tar, self._sink, self._path, self.finished = None, None, "", []
