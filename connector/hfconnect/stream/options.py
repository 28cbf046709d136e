"""The options only streams have, kept apart from the batch options they travel with.

Spark hands a stream's reader and writer the same option map as a batch read or write (plus its own
`checkpointLocation`): `split_stream_options` takes the stream keys out, so the rest is parsed as strictly as a
batch's, and a stream key given to a batch read is an error instead of being ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import OptionError
from ..options import parse_int, parse_size
from ..options.table import STREAM_READ_OPTIONS

__all__ = ["ON_DELETED", "STREAM_READ_KEYS", "STREAM_WRITE_KEYS", "StreamReadOptions", "split_stream_options"]

ON_DELETED = ("error", "continue")
_SHA = re.compile(r"^[0-9a-f]{40}$")
# Spark's camelCase names and hfconnect's snake_case ones, lower-cased (option keys are case-insensitive).
STREAM_READ_KEYS = {**{spark.lower(): ours for spark, ours in STREAM_READ_OPTIONS.items()},
                    **{ours: ours for ours in STREAM_READ_OPTIONS.values()}}
# Spark's own keys on a streaming write: where it keeps its checkpoint (hfconnect never reads or writes there).
STREAM_WRITE_KEYS = {"checkpointlocation": "checkpoint_location"}


@dataclass(frozen=True)
class StreamReadOptions:
    """Where a stream starts and how much one trigger reads.

    starting: `earliest` (the files already in the split, then every commit after), `latest` (only commits
    made after the query first started) or a commit sha (the files added after that commit).
    max_files_per_trigger / max_bytes_per_trigger: at most this many new files / bytes per micro-batch (at
    least one file, so a file larger than the byte limit is still read); Spark's Trigger.AvailableNow honours
    them too. on_deleted_files: `error` (default) stops the query when a commit deletes or rewrites files of
    the split (an overwrite upstream: the rows already read are no longer the dataset's); `continue` reads the
    new files only.
    """

    starting: str = "earliest"
    max_files_per_trigger: int | None = None
    max_bytes_per_trigger: int | None = None
    on_deleted_files: str = "error"

    def __post_init__(self) -> None:
        start = self.starting.strip().lower()
        if start not in ("earliest", "latest") and not _SHA.match(start):
            raise OptionError(f"option starting={self.starting!r}: expected earliest, latest or a 40-character "
                              "commit sha")
        object.__setattr__(self, "starting", start)
        if self.on_deleted_files not in ON_DELETED:
            raise OptionError(f"option on_deleted_files={self.on_deleted_files!r}: expected error or continue")

    @property
    def limited(self) -> bool:
        return self.max_files_per_trigger is not None or self.max_bytes_per_trigger is not None

    @classmethod
    def from_strings(cls, values: Mapping[str, str]) -> StreamReadOptions:
        parsed: dict[str, object] = {}
        for key, value in values.items():
            name = STREAM_READ_KEYS[key.lower()]
            if name == "max_files_per_trigger":
                parsed[name] = parse_int(key, value)
            elif name == "max_bytes_per_trigger":
                parsed[name] = parse_size(key, value)
            else:
                parsed[name] = str(value).strip().lower() if name == "on_deleted_files" else str(value)
        return cls(**parsed)  # type: ignore[arg-type]


def split_stream_options(options: Mapping[str, str], stream_keys: Mapping[str, str]
                         ) -> tuple[dict[str, str], dict[str, str]]:
    """(the stream's own options, the rest) of a Spark option map; keys compared case-insensitively."""
    ours = {k: v for k, v in options.items() if k.lower() in stream_keys}
    rest = {k: v for k, v in options.items() if k.lower() not in stream_keys}
    return ours, rest
