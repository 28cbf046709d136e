"""The one JSON encoding of the local hub's records on disk (refs, metas, trees, discussions): compact, sorted keys.

In a module of its own so that the storage and the discussions, which both write records, share it without
importing each other (the storage records a PR's discussion; the discussions only use a storage handed to them).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps"]


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
