"""`hfconnect.localhub`: a Hugging Face Hub-compatible HTTP server on local disk.

Tests, benchmarks and the demo run against it; users run it to test Hub pipelines offline
(`hfconnect localhub serve --root DIR --port 8000 --token hf_xxx:write`). It speaks Xet as huggingface.co does
(token endpoints, a CAS and a bridge on another listener) and git-LFS uploads; `--lfs-only` turns Xet off.
"""

from .errors import HubError
from .faults import FaultRule, parse_fault_spec
from .mode import HubMode
from .server import LocalHub, parse_token_spec, serve

__all__ = ["FaultRule", "HubError", "HubMode", "LocalHub", "parse_fault_spec", "parse_token_spec", "serve"]
