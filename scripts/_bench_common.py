"""Helpers the benchmark scripts share (beside scripts/_bench_json.py, their JSON results, and
scripts/_bench_order.py, the order of their variants and the end of their child processes): sizes on the command
line, and a started local hub.

hfconnect is imported inside the functions, not here: a benchmark's child process may run in another Python (a
peer's virtualenv) that imports this module without hfconnect installed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def parse_size(text: str | int, minimum: int = 1) -> int:
    """`2GB`, `100MB`, `512MiB`, `1073741824` -> bytes, in the units of hfconnect's size options (its own
    `hfconnect.options.parse_size` underneath): K/M/G/T are decimal (1GB = 10**9 bytes), KiB/MiB/GiB/TiB binary
    (1GiB = 1024**3 bytes). Usable as an argparse `type=`: a bad size, or one below `minimum`, is an
    ArgumentTypeError that says what is accepted."""
    from hfconnect.errors import OptionError
    from hfconnect.options import parse_size as parse

    try:
        size = parse("size", text)
    except OptionError:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use e.g. 2GB, 100MB, 512MiB or a byte count") from None
    if size < minimum:
        raise argparse.ArgumentTypeError(f"size {text!r} must be at least {minimum} bytes")
    return size


def start_hub(root: Path, token: str, real_hub: bool = False) -> Any:
    """A started `hfconnect.localhub.LocalHub` on its own root with one write token: in its default mode, or in
    real-Hub mode (`HubMode.real_hub()`: Xet, redirects to signed URLs, rate limits, commit limits). The caller
    stops it."""
    from hfconnect.localhub import HubMode, LocalHub

    return LocalHub(root, tokens={token: "write"}, mode=HubMode.real_hub() if real_hub else HubMode()).start()
