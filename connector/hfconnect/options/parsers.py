"""Option values from strings (Spark) or Python values (Daft): each parser accepts both and names the option in
its error. A string is data, never code: nothing is evaluated (pyspark_huggingface's Python-literal filter lists go
through `ast.literal_eval`, which parses literals only)."""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

from ..errors import OptionError

__all__ = ["DEFAULT_ENDPOINT", "default_endpoint", "parse_bool", "parse_filters", "parse_int", "parse_list",
           "parse_seconds", "parse_size"]

DEFAULT_ENDPOINT = "https://huggingface.co"
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1}
for _i, _p in enumerate("KMGT", 1):
    _UNITS.update({_p: 1000**_i, f"{_p}B": 1000**_i, f"{_p}I": 1024**_i, f"{_p}IB": 1024**_i})


def parse_size(key: str, value: Any) -> int:
    """`128MB`, `1GiB`, `500000` -> bytes; an OptionError naming the key otherwise."""
    if isinstance(value, bool):
        raise OptionError(f"option {key}={value!r}: expected a size such as 128MB")
    if isinstance(value, int):
        if value <= 0:
            raise OptionError(f"option {key}={value!r}: must be positive")
        return value
    m = _SIZE_RE.match(str(value))
    if not m:
        raise OptionError(f"option {key}={value!r}: expected a size such as 134217728, 128MB or 1GiB")
    size = int(float(m.group(1)) * _UNITS[(m.group(2) or "").upper()])
    if size <= 0:
        raise OptionError(f"option {key}={value!r}: must be positive")
    return size


def parse_int(key: str, value: Any, *, minimum: int = 1) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, int) or isinstance(value, bool) else value
    except ValueError:
        raise OptionError(f"option {key}={value!r}: expected a whole number") from None
    if isinstance(value, bool) or number < minimum:
        raise OptionError(f"option {key}={value!r}: expected a whole number >= {minimum}")
    return number


def parse_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise OptionError(f"option {key}={value!r}: expected true or false")


def parse_list(key: str, value: Any) -> tuple[str, ...]:
    """A JSON list of strings, or a comma-separated string; each name once."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError:
                raise OptionError(f"option {key}={value!r}: not a valid JSON list of strings") from None
        else:
            items = [part.strip() for part in text.split(",")]
    if not items or not all(isinstance(i, str) and i for i in items):
        raise OptionError(f"option {key}={value!r}: expected a non-empty list of names")
    twice = sorted({i for i in items if items.count(i) > 1})
    if twice:  # `columns="id,id"` would plan two `id` columns; say so instead of guessing
        raise OptionError(f"option {key}={value!r}: {', '.join(map(repr, twice))} listed more than once")
    return tuple(items)


def parse_filters(key: str, value: Any) -> Any:
    """pyarrow DNF filters -> `pyarrow.compute.Expression`: JSON (`[["id", ">", 5]]`, or OR-ed groups
    `[[["a", "=", 1]], [["b", "<", 2]]]`), the Python literal form pyspark_huggingface documents
    (`[("id", ">", 5)]`, sets for `in`), Python lists/tuples, or an Expression. The Python form is read with
    `ast.literal_eval`, which parses literals only and never runs code."""
    import ast

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if value is None or isinstance(value, pc.Expression):
        return value
    raw = value
    if isinstance(value, str):
        try:
            raw = json.loads(value)
        except ValueError:
            try:
                raw = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                raise OptionError(f"option {key}={value!r}: expected DNF filters as JSON or a Python literal, such "
                                  "as [[\"id\", \">\", 5]] or [(\"id\", \">\", 5)]") from None
    try:
        dnf = [tuple(t) if isinstance(t, (list, tuple)) and t and isinstance(t[0], str) else
               [tuple(x) for x in t] for t in raw]
        return pq.filters_to_expression(dnf)
    except (TypeError, ValueError, IndexError) as exc:
        raise OptionError(f"option {key}={value!r}: not valid DNF filters ({exc})") from None


def parse_seconds(key: str, value: Any) -> float:
    """`60`, `2.5s`, 60 -> seconds. NaN and infinity are refused: a NaN budget never runs out, and an infinite one
    cannot be turned into Daft's number of tries (`HubClient.http_settings`)."""
    try:
        seconds = float(str(value).strip().removesuffix("s")) if not isinstance(value, (int, float)) else value
    except ValueError:
        raise OptionError(f"option {key}={value!r}: expected a number of seconds such as 60") from None
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise OptionError(f"option {key}={value!r}: expected a positive, finite number of seconds")
    return float(seconds)


def default_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
