"""Options: one table (`table.OPTIONS`) of every read and write option, the parsers, and the typed, validated
`ReadOptions`/`WriteOptions` both engines build from it."""

from .model import DAFT_READERS, MODES, SPLIT_NAME, ReadOptions, WriteOptions, closest_name
from .parsers import (
    DEFAULT_ENDPOINT,
    default_endpoint,
    parse_bool,
    parse_filters,
    parse_int,
    parse_list,
    parse_seconds,
    parse_size,
)
from .table import OPTIONS, Option, options_for

__all__ = ["DAFT_READERS", "DEFAULT_ENDPOINT", "MODES", "OPTIONS", "SPLIT_NAME", "Option", "ReadOptions",
           "WriteOptions", "closest_name", "default_endpoint", "options_for", "parse_bool", "parse_filters",
           "parse_int", "parse_list", "parse_seconds", "parse_size"]
